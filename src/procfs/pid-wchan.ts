/**
 * /proc/<pid>/task/<tid>/wchan — proc_pid_wchan(5) (proc(5), "/proc/pid/wchan").
 *
 *   poll_schedule_timeout.constprop.0
 *   0
 *
 * The kernel function a sleeping thread waits in, with no newline; `0` when it is running or the
 * address is not a known symbol (and always `0` to readers without ptrace-read access to it).
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';

/** The symbol, or undefined for `0` (running, or not resolvable). */
export function parsePidWchan(text: string): string | undefined {
  const t = text.trim();
  if (t === '0' || t === '') return undefined;
  // Kernel symbols: identifiers with dots for compiler clones (.constprop.0, .isra.0, .cold).
  if (!/^[A-Za-z_][A-Za-z0-9_.$]*$/.test(t) || t.length > 256)
    throw new ParseError('bad wchan symbol', { line: 1, token: t });
  return t;
}

export function readPidWchan(procRoot: string, pid: number, tid: number = pid): Read<string | undefined> {
  return readParsed(`${procRoot}/${pid}/task/${tid}/wchan`, true, parsePidWchan);
}
