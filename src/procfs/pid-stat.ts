/**
 * /proc/<pid>/stat — proc_pid_stat(5).
 *
 *   1234 (nginx: worker) S 1 1234 1234 0 -1 4194624 1303 0 0 0 17 9 0 0 20 0 1 0 5170 12345678 2048 …
 *
 * `comm` may hold spaces and parentheses (`((bash) x)`), so it runs from the first '(' to the LAST ')'.
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';

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

export function parsePidStat(text: string): PidStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open)
    throw new ParseError('no "(comm)" in stat', { line: 1, token: text.slice(0, 60) });
  const pid = num(text.slice(0, open).trim(), 'pid');
  const comm = text.slice(open + 1, close);
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); field N is rest[N - 3].
  if (rest.length < 22)
    throw new ParseError(`stat has ${rest.length + 2} fields, need at least 24`, {
      line: 1,
      token: text.slice(close, close + 60),
    });
  const f = (n: number): number => num(rest[n - 3], `field ${n}`);
  const opt = (n: number): number | undefined => (rest[n - 3] === undefined ? undefined : f(n));
  const state = rest[0] ?? '';
  if (!/^[A-Za-z]$/.test(state)) throw new ParseError('bad state', { line: 1, token: state });
  return {
    pid,
    comm,
    state,
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

function num(tok: string | undefined, what: string): number {
  // Numbers in stat are decimal integers, some signed; anything else is a corrupt file.
  if (tok === undefined || !/^-?\d+$/.test(tok))
    throw new ParseError(`bad ${what}`, { line: 1, token: tok ?? '<missing>' });
  return Number(tok);
}

/** Ticks per second of every *time field in /proc: USER_HZ, fixed at 100 by the kernel's ABI on x86_64 and arm64. */
export const USER_HZ = 100;

export const PF_KTHREAD = 0x00200000;

export function isKernelThread(s: Pick<PidStat, 'flags'>): boolean {
  return (s.flags & PF_KTHREAD) !== 0;
}

export function readPidStat(procRoot: string, pid: number): Read<PidStat> {
  return readParsed(`${procRoot}/${pid}/stat`, true, parsePidStat);
}
