/**
 * /proc/vmstat — proc_vmstat(5): one `name value` pair per line, all counters since boot.
 *
 *   nr_free_pages 6022883
 *   pswpin 0
 *   oom_kill 0
 *
 * We keep every counter; `oom_kill` (since 4.13) is what triage asks for.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readOptional } from '../util/proc-io.js';

export function parseVmstat(text: string): Map<string, number> {
  const m = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const sp = line.indexOf(' ');
    const v = line.slice(sp + 1);
    if (sp <= 0 || !/^-?\d+$/.test(v))
      throw new ParseError('expected "name value"', { line: i + 1, token: line });
    m.set(line.slice(0, sp), Number(v));
  }
  return m;
}

/** Undefined where the file is hidden (some containers). */
export function readVmstat(procRoot: string): Map<string, number> | undefined {
  const path = `${procRoot}/vmstat`;
  const t = readOptional(path);
  return t === undefined ? undefined : parseWithPath(path, t, parseVmstat);
}
