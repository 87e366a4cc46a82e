/**
 * /proc/net/udp and /proc/net/udp6 — proc_net_udp(5); the layout of /proc/net/tcp plus `ref pointer drops`.
 *
 *    sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 *  5036: 0100007F:A02D 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 13598 2 000000009f0bce1d 0
 * 10927: 0100007F:B730 0100007F:A02D 01 00000000:00000000 00:00000000 00000000     0        0 13599 2 00000000624b56cf 0
 *
 * The same scanner as net-tcp.ts (columnar table, interned addresses). UDP has no connection states:
 * the kernel prints 07 (TCP_CLOSE, "UNCONN" in ss) for an unconnected socket and 01 (TCP_ESTABLISHED)
 * for a connected one. `sl` here is the hash bucket, not a row number, so it is not sequential.
 */
import { parseWithPath, readOptional, readRequired } from '../util/proc-io.js';
import { parseInetTable, type InetSocketTable, type ParseInetOptions } from './net-tcp.js';

export function parseNetUdp(text: string | Uint8Array, opts: ParseInetOptions = {}): InetSocketTable {
  return parseInetTable(text, 4, true, opts);
}

export function parseNetUdp6(text: string | Uint8Array, opts: ParseInetOptions = {}): InetSocketTable {
  return parseInetTable(text, 6, true, opts);
}

/** Required: every Linux host with IPv4 has it. */
export function readNetUdp(procRoot: string): InetSocketTable {
  const path = `${procRoot}/net/udp`;
  return parseWithPath(path, readRequired(path), parseNetUdp);
}

/** Undefined on a host without IPv6. */
export function readNetUdp6(procRoot: string): InetSocketTable | undefined {
  const path = `${procRoot}/net/udp6`;
  const text = readOptional(path);
  return text === undefined ? undefined : parseWithPath(path, text, parseNetUdp6);
}
