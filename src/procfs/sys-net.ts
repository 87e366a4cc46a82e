/**
 * /proc/sys/net/ipv4/{tcp_mem,tcp_max_orphans,tcp_fin_timeout,ip_local_port_range} and
 * /proc/sys/net/core/somaxconn — tcp(7), ip(7), socket(7).
 *
 *   tcp_mem:             287901	383868	575802
 *   ip_local_port_range: 32768	60999
 *   somaxconn:           4096
 *
 * tcp_mem is in PAGES (compare with `mem` of /proc/net/sockstat, also pages): below min no pressure,
 * above pressure the stack moderates buffers, at max it refuses allocations. These files are per network
 * namespace: they describe the namespace of the reader.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readRequired } from '../util/proc-io.js';

export interface TcpMemPages {
  minPages: number;
  pressurePages: number;
  maxPages: number;
}

function ints(text: string, n: number, what: string): number[] {
  const f = text.trim().split(/\s+/);
  if (f.length !== n || f[0] === '')
    throw new ParseError(`${what}: expected ${n} number(s)`, { line: 1, token: text.trim() });
  return f.map((t) => {
    if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t)))
      throw new ParseError(`bad ${what}`, { line: 1, token: t });
    return Number(t);
  });
}
const one = (text: string, what: string): number => ints(text, 1, what)[0] ?? 0;

export function parseTcpMem(text: string): TcpMemPages {
  const [minPages = 0, pressurePages = 0, maxPages = 0] = ints(text, 3, 'tcp_mem');
  return { minPages, pressurePages, maxPages };
}

export const parseTcpMaxOrphans = (text: string): number => one(text, 'tcp_max_orphans');
/** Seconds an orphaned connection stays in FIN_WAIT2. */
export const parseTcpFinTimeoutSeconds = (text: string): number => one(text, 'tcp_fin_timeout');
export const parseSomaxconn = (text: string): number => one(text, 'somaxconn');

/** `[lo, hi]`, both inclusive: the ephemeral ports for outgoing connections. */
export function parseIpLocalPortRange(text: string): [number, number] {
  const [lo = 0, hi = 0] = ints(text, 2, 'ip_local_port_range');
  if (lo > hi || hi > 65535) throw new ParseError('bad ip_local_port_range', { line: 1, token: text.trim() });
  return [lo, hi];
}

function read<T>(procRoot: string, name: string, parse: (text: string) => T): T {
  const path = `${procRoot}/sys/net/${name}`;
  return parseWithPath(path, readRequired(path), parse);
}

export const readTcpMem = (procRoot: string): TcpMemPages => read(procRoot, 'ipv4/tcp_mem', parseTcpMem);
export const readTcpMaxOrphans = (procRoot: string): number =>
  read(procRoot, 'ipv4/tcp_max_orphans', parseTcpMaxOrphans);
export const readTcpFinTimeoutSeconds = (procRoot: string): number =>
  read(procRoot, 'ipv4/tcp_fin_timeout', parseTcpFinTimeoutSeconds);
export const readIpLocalPortRange = (procRoot: string): [number, number] =>
  read(procRoot, 'ipv4/ip_local_port_range', parseIpLocalPortRange);
export const readSomaxconn = (procRoot: string): number => read(procRoot, 'core/somaxconn', parseSomaxconn);
