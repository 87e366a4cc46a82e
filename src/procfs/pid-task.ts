/**
 * /proc/<pid>/task — proc(5): one directory per thread, named by its tid; each holds the same files as
 * /proc/<pid> but for that thread alone.
 *
 *   /proc/1234/task/1234/stat   1234 (java) S 1 1234 …
 *   /proc/1234/task/1240/stat   1240 (GC Thread#0) S 1 1234 …
 *
 * Per-thread stat is how a busy thread is found inside a process (pidstat -t, top -H).
 */
import { readDir, type Read } from '../util/proc-io.js';
import { readPidStat, type PidStat } from './pid-stat.js';

/** Thread ids of a process, ascending (the main thread's tid is the pid). */
export function listTasks(procRoot: string, pid: number): Read<number[]> {
  const r = readDir(`${procRoot}/${pid}/task`, true);
  if (!r.ok) return r;
  const tids: number[] = [];
  for (const name of r.names) if (isNumeric(name)) tids.push(Number(name));
  tids.sort((a, b) => a - b);
  return { ok: true, value: tids };
}

/** /proc/<pid>/task/<tid>/stat: a thread's own CPU times, state and processor. */
export function readTaskStat(procRoot: string, pid: number, tid: number): Read<PidStat> {
  return readPidStat(`${procRoot}/${pid}/task`, tid);
}

function isNumeric(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
