/**
 * /proc/uptime — proc_uptime(5).
 *
 *   1040.15 1826.98
 *
 * Seconds since boot (CLOCK_BOOTTIME, so it includes suspend), and idle seconds summed over all CPUs
 * (so it can exceed the uptime on a multi-CPU host).
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readRequired } from '../util/proc-io.js';

export interface Uptime {
  uptimeSeconds: number;
  /** Summed over CPUs. */
  idleSeconds: number;
}

export function parseUptime(text: string): Uptime {
  const f = text.trim().split(/\s+/);
  const sec = (i: number, what: string): number => {
    const t = f[i];
    if (t === undefined || !/^\d+(\.\d+)?$/.test(t))
      throw new ParseError(`bad ${what}`, { line: 1, token: t ?? '<missing>' });
    return Number(t);
  };
  return { uptimeSeconds: sec(0, 'uptime'), idleSeconds: sec(1, 'idle time') };
}

export function readUptime(procRoot: string): Uptime {
  const path = `${procRoot}/uptime`;
  return parseWithPath(path, readRequired(path), parseUptime);
}
