/**
 * /proc/pressure/{cpu,memory,io,irq} — PSI, Documentation/accounting/psi.rst (proc_pressure(5)).
 *
 *   some avg10=0.00 avg60=0.05 avg300=1.37 total=25171279
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 *
 * avgN are percentages of wall time some (or all non-idle) tasks were stalled over N seconds; total is
 * the cumulative stall in microseconds. cpu has no `full` line before 5.13; irq (CONFIG_IRQ_TIME_ACCOUNTING,
 * 6.1+) has only `full`. The whole directory is absent without CONFIG_PSI or with psi=0.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readOptional } from '../util/proc-io.js';

export interface PressureLine {
  avg10Pct: number;
  avg60Pct: number;
  avg300Pct: number;
  totalUs: number;
}

export interface PressureFile {
  some: PressureLine | undefined;
  full: PressureLine | undefined;
}

export interface Pressure {
  cpu: PressureFile | undefined;
  memory: PressureFile | undefined;
  io: PressureFile | undefined;
  irq: PressureFile | undefined;
}

export function parsePressure(text: string): PressureFile {
  const out: PressureFile = { some: undefined, full: undefined };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '') continue;
    const m = /^(some|full) avg10=(\d+\.\d+) avg60=(\d+\.\d+) avg300=(\d+\.\d+) total=(\d+)\s*$/.exec(raw);
    if (!m)
      throw new ParseError('expected "some|full avg10=… avg60=… avg300=… total=…"', {
        line: i + 1,
        token: raw,
      });
    const total = Number(m[5]);
    if (!Number.isSafeInteger(total))
      throw new ParseError('total too large', { line: i + 1, token: m[5] ?? raw });
    out[m[1] as 'some' | 'full'] = {
      avg10Pct: Number(m[2]),
      avg60Pct: Number(m[3]),
      avg300Pct: Number(m[4]),
      totalUs: total,
    };
  }
  if (out.some === undefined && out.full === undefined)
    throw new ParseError('no some/full line', { line: 1, token: text || '<empty>' });
  return out;
}

/** Each resource is undefined when its file is absent (or unreadable). */
export function readPressure(procRoot: string): Pressure {
  const read = (name: string): PressureFile | undefined => {
    const path = `${procRoot}/pressure/${name}`;
    const text = readOptional(path);
    return text === undefined ? undefined : parseWithPath(path, text, parsePressure);
  };
  return { cpu: read('cpu'), memory: read('memory'), io: read('io'), irq: read('irq') };
}
