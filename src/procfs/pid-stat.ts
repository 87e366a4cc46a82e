/**
 * /proc/<pid>/stat — proc_pid_stat(5).
 *
 *   1234 (nginx: worker) S 1 1234 1234 0 -1 4194624 1303 0 0 0 17 9 0 0 20 0 1 0 5170 12345678 2048 …
 *
 * `comm` may hold spaces and parentheses (`((bash) x)`), so it runs from the first '(' to the LAST ')'.
 *
 * One scanner (scanPidStat) reads the bytes: no split, no regex, no string per field. Two shapes sit on
 * it: parsePidStat (every field, a ParseError naming the field and token) for one-off reads, and
 * readPidStatFields (the fields a sweep needs, into one reused object) for the hot paths — the
 * recorder's every-sample sweep and the snapshot's CPU window. Measured with 1,083 processes, user
 * time per sweep fell from ~13 ms (split + regex) to ~3 ms; kernel time (~17 ms) is the floor.
 */
import * as fs from 'node:fs';
import { ParseError } from '../util/errors.js';
import { classify, type Read, type ReadFailure } from '../util/proc-io.js';

export interface PidStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  ttyNr: number;
  /** PF_* flags (field 9); PF_KTHREAD = 0x00200000 marks a kernel thread. */
  flags: number;
  minorFaults: number;
  majorFaults: number;
  utimeTicks: number;
  stimeTicks: number;
  cutimeTicks: number;
  cstimeTicks: number;
  priority: number;
  nice: number;
  threads: number;
  startTimeTicks: number;
  vszBytes: number;
  rssPages: number;
  /** Field 39; undefined on kernels too old to print it. */
  processor: number | undefined;
  /** Field 42, aggregated block I/O delay; undefined when absent. */
  delayacctBlkioTicks: number | undefined;
}

/** Where a scan stopped: the fields found, or why it failed (with the byte range of the bad token). */
export type StatScan =
  | { ok: true; commStart: number; commEnd: number; fields: number }
  | {
      ok: false;
      why: 'no-comm' | 'short' | 'bad-state' | 'bad-field';
      field: number;
      from: number;
      to: number;
    };

/** The fewest fields a stat line has (up to rss, field 24) on every kernel we read. */
const MIN_FIELDS = 24;
const OPEN = 0x28; // '('
const CLOSE = 0x29; // ')'
const SPACE = 0x20;
const MINUS = 0x2d;

/**
 * Scans stat bytes. `values[n]` receives numeric field n (4 ≤ n ≤ lastField; field 3, the state, as its
 * character code); scanning stops after `lastField` or at the end of the line. The line must reach
 * field 24 and every scanned field must be a decimal integer (a sign allowed).
 */
export function scanPidStat(b: Uint8Array, len: number, values: Float64Array, lastField: number): StatScan {
  const open = b.indexOf(OPEN);
  let close = -1;
  for (let i = len - 1; i > open; i--) {
    if (b[i] === CLOSE) {
      close = i;
      break;
    }
  }
  if (open < 0 || close < 0 || open >= len)
    return { ok: false, why: 'no-comm', field: 2, from: 0, to: Math.min(len, 60) };
  // ") S 1 …": field 3 is one letter.
  const st = b[close + 2] ?? 0;
  const stateEnd = close + 3;
  if (
    b[close + 1] !== SPACE ||
    !isLetter(st) ||
    (stateEnd < len && b[stateEnd] !== SPACE && b[stateEnd] !== 0x0a)
  )
    return {
      ok: false,
      why: close + 2 >= len ? 'short' : 'bad-state',
      field: 3,
      from: close + 2,
      to: tokenEnd(b, len, close + 2),
    };
  values[3] = st;
  let field = 3;
  let i = stateEnd;
  while (field < lastField && i < len && b[i] === SPACE) {
    i++;
    field++;
    const from = i;
    let neg = false;
    if (b[i] === MINUS) {
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
    if (digits === 0 || (i < len && b[i] !== SPACE && b[i] !== 0x0a))
      return { ok: false, why: 'bad-field', field, from, to: tokenEnd(b, len, from) };
    values[field] = neg ? -v : v;
  }
  if (field < MIN_FIELDS)
    return { ok: false, why: 'short', field, from: close, to: Math.min(len, close + 60) };
  return { ok: true, commStart: open + 1, commEnd: close, fields: field };
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function tokenEnd(b: Uint8Array, len: number, from: number): number {
  let i = from;
  while (i < len && b[i] !== SPACE && b[i] !== 0x0a) i++;
  return i;
}

const scratch = new Float64Array(64);

export function parsePidStat(text: string): PidStat {
  const b = Buffer.from(text, 'utf8');
  return pidStatOf(b, b.length);
}

function pidStatOf(b: Buffer, len: number): PidStat {
  const v = scratch;
  const r = scanPidStat(b, len, v, 52);
  if (!r.ok) {
    const token = b.toString('utf8', r.from, r.to) || '<missing>';
    if (r.why === 'no-comm') throw new ParseError('no "(comm)" in stat', { line: 1, token });
    if (r.why === 'short')
      throw new ParseError(`stat has ${r.field} fields, need at least ${MIN_FIELDS}`, { line: 1, token });
    if (r.why === 'bad-state') throw new ParseError('bad state', { line: 1, token });
    throw new ParseError(`bad field ${r.field}`, { line: 1, token });
  }
  const f = (n: number): number => v[n] as number;
  const opt = (n: number): number | undefined => (n <= r.fields ? f(n) : undefined);
  const pidText = b.toString('latin1', 0, r.commStart - 1).trim();
  if (!/^\d+$/.test(pidText)) throw new ParseError('bad pid', { line: 1, token: pidText || '<missing>' });
  return {
    pid: Number(pidText),
    comm: b.toString('utf8', r.commStart, r.commEnd),
    state: String.fromCharCode(f(3)),
    ppid: f(4),
    pgrp: f(5),
    session: f(6),
    ttyNr: f(7),
    flags: f(9),
    minorFaults: f(10),
    majorFaults: f(12),
    utimeTicks: f(14),
    stimeTicks: f(15),
    cutimeTicks: f(16),
    cstimeTicks: f(17),
    priority: f(18),
    nice: f(19),
    threads: f(20),
    startTimeTicks: f(22),
    vszBytes: f(23),
    rssPages: f(24),
    processor: opt(39),
    delayacctBlkioTicks: opt(42),
  };
}

/** Ticks per second of every *time field in /proc: USER_HZ, fixed at 100 by the kernel's ABI on x86_64 and arm64. */
export const USER_HZ = 100;

export const PF_KTHREAD = 0x00200000;

export function isKernelThread(s: Pick<PidStat, 'flags'>): boolean {
  return (s.flags & PF_KTHREAD) !== 0;
}

export function readPidStat(procRoot: string, pid: number): Read<PidStat> {
  const r = readStatBytes(procRoot, pid);
  if (!r.ok) return r;
  try {
    return { ok: true, value: pidStatOf(statBuf, r.len) };
  } catch (err) {
    if (err instanceof ParseError) throw err.withPath(`${procRoot}/${pid}/stat`);
    throw err;
  }
}

/** The fields a sweep over every process needs, filled in place (state is its character code). */
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

const sweep = new Float64Array(32);

/** Parses stat bytes into `out`; false when the text is malformed (then `out` is partly written). */
export function parseStatBytes(b: Uint8Array, len: number, out: StatFields): boolean {
  const r = scanPidStat(b, len, sweep, MIN_FIELDS);
  if (!r.ok) return false;
  const v = sweep;
  out.comm = Buffer.from(b.buffer, b.byteOffset, len).toString('utf8', r.commStart, r.commEnd);
  out.state = v[3] as number;
  out.ppid = v[4] as number;
  out.flags = v[9] as number;
  out.minorFaults = v[10] as number;
  out.majorFaults = v[12] as number;
  out.utimeTicks = v[14] as number;
  out.stimeTicks = v[15] as number;
  out.threads = v[20] as number;
  out.startTimeTicks = v[22] as number;
  out.vszBytes = v[23] as number;
  out.rssPages = v[24] as number;
  return true;
}

export type StatRead = { ok: true } | { ok: false; failure: ReadFailure | { kind: 'malformed' } };

// stat is a few hundred bytes (comm is at most 64): one read into one buffer, written whole by the kernel.
const statBuf = Buffer.allocUnsafe(4096);

function readStatBytes(
  procRoot: string,
  pid: number,
): { ok: true; len: number } | { ok: false; failure: ReadFailure } {
  const path = `${procRoot}/${pid}/stat`;
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    return { ok: false, failure: classify(err, path, true) };
  }
  try {
    return { ok: true, len: fs.readSync(fd, statBuf, 0, statBuf.length, null) };
  } catch (err) {
    return { ok: false, failure: classify(err, path, true) };
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads /proc/<pid>/stat into `out`: the sweep's fast path. I/O errors are classified by util/proc-io. */
export function readPidStatFields(procRoot: string, pid: number, out: StatFields): StatRead {
  const r = readStatBytes(procRoot, pid);
  if (!r.ok) return r;
  return parseStatBytes(statBuf, r.len, out) ? { ok: true } : { ok: false, failure: { kind: 'malformed' } };
}
