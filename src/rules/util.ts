import type { ProcessInfo } from '../collect/types.js';
import type { Severity } from './types.js';

/** Severity from a ratio and two thresholds; undefined below the first. */
export function level(ratio: number, warn: number, crit: number): Severity | undefined {
  if (ratio >= crit) return 'critical';
  if (ratio >= warn) return 'warning';
  return undefined;
}

export function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

export function who(p: Pick<ProcessInfo, 'pid' | 'comm'>): string {
  return `${p.comm}[${p.pid}]`;
}

export function mib(bytes: number): string {
  return bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
    : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
