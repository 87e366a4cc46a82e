/**
 * /proc/<pid>/stat — proc_pid_stat(5) — read for the recorder's hot path: every process, every sample.
 *
 *   1234 (nginx: worker) S 1 1234 1234 0 -1 4194624 1303 0 0 0 17 9 0 0 20 0 1 0 5170 12345678 2048 …
 *
 * The same file and rules as procfs/pid-stat.ts (comm runs to the LAST ')'), but reading bytes into one
 * reused buffer and picking only the fields the recorder needs, into one reused object: no string per
 * field, no regex, no allocation per process. Measured with 1,083 processes, user time per sweep fell
 * from ~13 ms (readText + parsePidStat) to ~3 ms; kernel time (~17 ms) is the floor either way. Its
 * test checks it against parsePidStat on every live process, so the two cannot drift apart.
 * I/O errors are classified by util/proc-io (convention 3).
 */
import * as fs from 'node:fs';
import { classify, type ReadFailure } from '../util/proc-io.js';

export interface StatFields {
  comm: string;
  state: number;
  ppid: number;
  flags: number;
  minorFaults: number;
  majorFaults: number;
  utimeTicks: number;
  stimeTicks: number;
  threads: number;
  startTimeTicks: number;
  vszBytes: number;
  rssPages: number;
}

const buf = Buffer.allocUnsafe(4096);
const CLOSE = 0x29; // ')'
const SPACE = 0x20;

/** Field numbers (proc_pid_stat(5)) → where to store them. */
const WANT: (keyof StatFields | undefined)[] = [];
WANT[4] = 'ppid';
WANT[9] = 'flags';
WANT[10] = 'minorFaults';
WANT[12] = 'majorFaults';
WANT[14] = 'utimeTicks';
WANT[15] = 'stimeTicks';
WANT[20] = 'threads';
WANT[22] = 'startTimeTicks';
WANT[23] = 'vszBytes';
WANT[24] = 'rssPages';
const LAST = 24;

/**
 * Parse the bytes of a stat file into `out`. Returns false when the text is malformed (no ")", fewer
 * than 24 fields, a non-number where a wanted number belongs).
 */
export function parseStatBytes(b: Uint8Array, len: number, out: StatFields): boolean {
  let close = -1;
  for (let i = len - 1; i >= 0; i--) {
    if (b[i] === CLOSE) {
      close = i;
      break;
    }
  }
  const open = b.indexOf(0x28); // '('
  if (close < 0 || open < 0 || open > close || close + 2 >= len) return false;
  out.comm = Buffer.from(b.buffer, b.byteOffset + open + 1, close - open - 1).toString('utf8');
  out.state = b[close + 2] ?? 0;
  let field = 3;
  let i = close + 3;
  while (field < LAST && i < len) {
    if (b[i] !== SPACE) return false;
    i++;
    field++;
    let neg = false;
    if (b[i] === 0x2d) {
      neg = true;
      i++;
    }
    let v = 0;
    let digits = 0;
    for (; i < len; i++) {
      const c = b[i] ?? 0;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      digits++;
    }
    if (digits === 0) return false;
    const key = WANT[field];
    if (key !== undefined) (out as unknown as Record<string, number>)[key] = neg ? -v : v;
  }
  return field === LAST;
}

export type StatRead = { ok: true } | { ok: false; failure: ReadFailure | { kind: 'malformed' } };

/** Reads /proc/<pid>/stat into `out`. */
export function readStatFields(procRoot: string, pid: number, out: StatFields): StatRead {
  const path = `${procRoot}/${pid}/stat`;
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    return { ok: false, failure: classify(err, path, true) };
  }
  let len = 0;
  try {
    // One read: stat is a few hundred bytes, far below the buffer, and the kernel writes it whole.
    len = fs.readSync(fd, buf, 0, buf.length, null);
  } catch (err) {
    return { ok: false, failure: classify(err, path, true) };
  } finally {
    fs.closeSync(fd);
  }
  return parseStatBytes(buf, len, out) ? { ok: true } : { ok: false, failure: { kind: 'malformed' } };
}

export function emptyStatFields(): StatFields {
  return {
    comm: '',
    state: 0,
    ppid: 0,
    flags: 0,
    minorFaults: 0,
    majorFaults: 0,
    utimeTicks: 0,
    stimeTicks: 0,
    threads: 0,
    startTimeTicks: 0,
    vszBytes: 0,
    rssPages: 0,
  };
}
