/**
 * /proc/sys/fs/file-nr, file-max, nr_open — proc_sys_fs(5).
 *
 *   file-nr:  513	0	2466186
 *   file-max: 2466186
 *   nr_open:  1048576
 *
 * file-nr: file handles allocated, allocated-but-unused (always 0 since 2.6), and the maximum (= file-max).
 * file-max may be LONG_MAX (9223372036854775807, systemd's default since v240): that means no limit.
 * nr_open is the ceiling for RLIMIT_NOFILE of any one process.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readRequired } from '../util/proc-io.js';

export interface FileNr {
  allocated: number;
  free: number;
  max: number | 'unlimited';
}

const LONG_MAX = '9223372036854775807';

/** A non-negative decimal; LONG_MAX (or anything beyond 2^53) is the kernel's "no limit". */
export function parseLimitToken(tok: string | undefined, what: string, line = 1): number | 'unlimited' {
  if (tok === undefined || !/^\d+$/.test(tok))
    throw new ParseError(`bad ${what}`, { line, token: tok ?? '<missing>' });
  if (tok === LONG_MAX) return 'unlimited';
  const v = Number(tok);
  if (!Number.isSafeInteger(v)) throw new ParseError(`${what} too large`, { line, token: tok });
  return v;
}

function count(tok: string | undefined, what: string): number {
  const v = parseLimitToken(tok, what);
  if (v === 'unlimited') throw new ParseError(`${what} too large`, { line: 1, token: tok });
  return v;
}

function fields(text: string, n: number, what: string): string[] {
  const f = text.trim().split(/\s+/);
  if (f.length !== n || f[0] === '')
    throw new ParseError(`${what}: expected ${n} number(s)`, { line: 1, token: text.trim() });
  return f;
}

export function parseFileNr(text: string): FileNr {
  const f = fields(text, 3, 'file-nr');
  return {
    allocated: count(f[0], 'allocated'),
    free: count(f[1], 'free'),
    max: parseLimitToken(f[2], 'max'),
  };
}

export function parseFileMax(text: string): number | 'unlimited' {
  return parseLimitToken(fields(text, 1, 'file-max')[0], 'file-max');
}

export function parseNrOpen(text: string): number {
  return count(fields(text, 1, 'nr_open')[0], 'nr_open');
}

function read<T>(procRoot: string, name: string, parse: (text: string) => T): T {
  const path = `${procRoot}/sys/fs/${name}`;
  return parseWithPath(path, readRequired(path), parse);
}

export const readFileNr = (procRoot: string): FileNr => read(procRoot, 'file-nr', parseFileNr);
export const readFileMax = (procRoot: string): number | 'unlimited' =>
  read(procRoot, 'file-max', parseFileMax);
export const readNrOpen = (procRoot: string): number => read(procRoot, 'nr_open', parseNrOpen);
