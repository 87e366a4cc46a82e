/**
 * /proc/loadavg — proc_loadavg(5).
 *
 *   0.01 0.21 0.18 1/93 7735
 *
 * Load averages over 1, 5 and 15 minutes; runnable / total scheduling entities (threads); last PID used.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readRequired } from '../util/proc-io.js';

export interface Loadavg {
  load1: number;
  load5: number;
  load15: number;
  /** Threads runnable or running right now (includes the reader). */
  runningTasks: number;
  /** Threads that exist (kernel "scheduling entities"), not processes. */
  totalTasks: number;
  lastPid: number;
}

export function parseLoadavg(text: string): Loadavg {
  const f = text.trim().split(/\s+/);
  if (f.length < 5)
    throw new ParseError(`loadavg has ${f.length} fields, need 5`, { line: 1, token: text.trim() });
  const load = (i: number): number => {
    const t = f[i] ?? '';
    if (!/^\d+\.\d+$/.test(t)) throw new ParseError(`bad load field ${i + 1}`, { line: 1, token: t });
    return Number(t);
  };
  const tasks = /^(\d+)\/(\d+)$/.exec(f[3] ?? '');
  if (!tasks) throw new ParseError('bad running/total', { line: 1, token: f[3] ?? '' });
  const last = f[4] ?? '';
  if (!/^\d+$/.test(last)) throw new ParseError('bad last pid', { line: 1, token: last });
  return {
    load1: load(0),
    load5: load(1),
    load15: load(2),
    runningTasks: Number(tasks[1]),
    totalTasks: Number(tasks[2]),
    lastPid: Number(last),
  };
}

export function readLoadavg(procRoot: string): Loadavg {
  const path = `${procRoot}/loadavg`;
  return parseWithPath(path, readRequired(path), parseLoadavg);
}
