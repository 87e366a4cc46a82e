/**
 * /proc/meminfo — proc_meminfo(5).
 *
 *   MemTotal:       24684092 kB
 *   HugePages_Total:       0
 *   Hugepagesize:       2048 kB
 *
 * "kB" is KiB (1024 bytes): those values become bytes. A few lines are counts without a unit
 * (HugePages_Total/Free/Rsvd/Surp) and stay plain numbers. Which keys exist depends on the kernel version
 * and config (MemAvailable since 3.14), so every typed field may be undefined.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readRequired } from '../util/proc-io.js';

export interface Meminfo {
  /** Every key as the kernel spells it: bytes where it says kB, the plain number otherwise. */
  values: Record<string, number>;
  /** Keys whose value had no unit (counts, not bytes). */
  unitless: string[];
  memTotalBytes: number | undefined;
  memFreeBytes: number | undefined;
  /** The kernel's estimate of memory available without swapping; undefined before 3.14. */
  memAvailableBytes: number | undefined;
  buffersBytes: number | undefined;
  cachedBytes: number | undefined;
  swapTotalBytes: number | undefined;
  swapFreeBytes: number | undefined;
  shmemBytes: number | undefined;
  anonPagesBytes: number | undefined;
  committedAsBytes: number | undefined;
  commitLimitBytes: number | undefined;
}

export function parseMeminfo(text: string): Meminfo {
  const values: Record<string, number> = {};
  const unitless: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '') continue;
    const m = /^([^:\s]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(raw);
    if (!m) throw new ParseError('expected "Key: value [kB]"', { line: i + 1, token: raw });
    const key = m[1] ?? '';
    const n = Number(m[2]);
    const v = m[3] === 'kB' ? n * 1024 : n;
    if (!Number.isSafeInteger(v))
      throw new ParseError(`${key} too large`, { line: i + 1, token: m[2] ?? raw });
    Object.defineProperty(values, key, { value: v, enumerable: true, writable: true, configurable: true });
    if (m[3] === undefined) unitless.push(key);
  }
  if (Object.keys(values).length === 0)
    throw new ParseError('no entries', { line: 1, token: text.slice(0, 60) || '<empty>' });
  const get = (k: string): number | undefined => (Object.hasOwn(values, k) ? values[k] : undefined);
  return {
    values,
    unitless,
    memTotalBytes: get('MemTotal'),
    memFreeBytes: get('MemFree'),
    memAvailableBytes: get('MemAvailable'),
    buffersBytes: get('Buffers'),
    cachedBytes: get('Cached'),
    swapTotalBytes: get('SwapTotal'),
    swapFreeBytes: get('SwapFree'),
    shmemBytes: get('Shmem'),
    anonPagesBytes: get('AnonPages'),
    committedAsBytes: get('Committed_AS'),
    commitLimitBytes: get('CommitLimit'),
  };
}

export function readMeminfo(procRoot: string): Meminfo {
  const path = `${procRoot}/meminfo`;
  return parseWithPath(path, readRequired(path), parseMeminfo);
}
