/**
 * /proc/<pid>/statm — proc_pid_statm(5): seven counts of pages on one line.
 *
 *   3222 2143 1117 1 0 653 0
 *   size resident shared text lib data dt
 *
 * Counts are pages (the collector multiplies by the page size, which this file does not tell). `shared`
 * is RssFile + RssShmem, `text` covers the executable only, `data` is data + stack. `lib` and `dt` are
 * always 0 since Linux 2.6: they are kept for completeness, not for use.
 */
import { ParseError } from '../util/errors.js';
import { readParsed, type Read } from '../util/proc-io.js';

export interface PidStatm {
  sizePages: number;
  residentPages: number;
  sharedPages: number;
  textPages: number;
  /** Always 0 since 2.6 (unused by the kernel). */
  libPages: number;
  dataPages: number;
  /** Always 0 since 2.6 (unused by the kernel). */
  dtPages: number;
}

export function parsePidStatm(text: string): PidStatm {
  const t = text.trim().split(/\s+/);
  if (t.length < 7)
    throw new ParseError(`statm has ${t[0] === '' ? 0 : t.length} fields, need 7`, {
      line: 1,
      token: text.trim() || '<empty>',
    });
  const n = t.slice(0, 7).map((tok) => {
    if (!/^\d+$/.test(tok)) throw new ParseError('bad page count', { line: 1, token: tok });
    return Number(tok);
  }) as [number, number, number, number, number, number, number];
  const [sizePages, residentPages, sharedPages, textPages, libPages, dataPages, dtPages] = n;
  return { sizePages, residentPages, sharedPages, textPages, libPages, dataPages, dtPages };
}

export function readPidStatm(procRoot: string, pid: number): Read<PidStatm> {
  return readParsed(`${procRoot}/${pid}/statm`, true, parsePidStatm);
}
