/**
 * The processes of a proc root: its numeric directory names — proc(5).
 *
 *   /proc/1  /proc/2  …  /proc/self  /proc/meminfo
 *
 * Only thread-group leaders are listed by readdir (threads live under /proc/<pid>/task, though
 * /proc/<tid> also resolves when asked by name). A check of the first char and a loop beat a regex
 * per name on a host with thousands of entries.
 */
import { ProcsleuthError } from '../util/errors.js';
import { readDir } from '../util/proc-io.js';

/** Pids in ascending order. A missing or unreadable root is a host error and throws. */
export function listPids(procRoot: string): number[] {
  const r = readDir(procRoot, false);
  if (!r.ok)
    throw new ProcsleuthError(
      'IO',
      `cannot list ${procRoot}: ${r.failure.kind === 'denied' ? 'permission denied' : 'no such directory'}`,
    );
  return pidsFromNames(r.names);
}

/** The numeric names of a directory listing, as numbers, ascending. */
export function pidsFromNames(names: readonly string[]): number[] {
  const out: number[] = [];
  for (const name of names) {
    const c0 = name.charCodeAt(0); // NaN for '': fails both tests below
    // pids start at 1: a leading 0 is not a pid name the kernel would make
    if (!(c0 >= 49 && c0 <= 57)) continue;
    let ok = true;
    for (let i = 1; i < name.length; i++) {
      const c = name.charCodeAt(i);
      if (c < 48 || c > 57) {
        ok = false;
        break;
      }
    }
    if (ok) out.push(Number(name));
  }
  out.sort((a, b) => a - b);
  return out;
}
