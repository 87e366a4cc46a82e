/**
 * The host's own addresses: IPv4 from /proc/net/fib_trie, IPv6 from /proc/net/if_inet6 — proc(5).
 *
 *   fib_trie:                          if_inet6:
 *        |-- 192.0.2.2                 fd000000000000000000000000000002 04 40 00 82     eth0
 *           /32 host LOCAL             00000000000000000000000000000001 01 80 10 80       lo
 *
 * In fib_trie a leaf line (`|-- ADDR`) is followed by one line per route to it; `/32 host LOCAL` marks an
 * address assigned to this host (the Local table; the Main table repeats it). if_inet6 prints the address
 * as 32 hex digits in network byte order (unlike tcp6's host-endian words), then ifindex, prefix length,
 * scope and flags in hex, and the interface name. Both files describe the reader's network namespace.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readOptional, readRequired } from '../util/proc-io.js';
import { formatIpv6BytesMapped } from './net-tcp.js';

/** IPv4 addresses with a `/32 host LOCAL` route, each once, in file order. */
export function parseFibTrieLocal(text: string): string[] {
  const seen = new Set<string>();
  let leaf: string | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = (lines[i] ?? '').trim();
    if (t.startsWith('|-- ')) {
      leaf = t.slice(4).trim();
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(leaf) || leaf.split('.').some((o) => Number(o) > 255)) {
        throw new ParseError('bad leaf address', { line: i + 1, token: t });
      }
    } else if (t.startsWith('+-- ')) {
      leaf = undefined; // an inner node: the routes below belong to its leaves
    } else if (/^\/32 host LOCAL\b/.test(t)) {
      if (leaf === undefined)
        throw new ParseError('"/32 host LOCAL" without a leaf address', { line: i + 1, token: t });
      seen.add(leaf);
    }
  }
  return [...seen];
}

export interface IfInet6 {
  /** Printable, as net-tcp prints addresses. */
  address: string;
  ifindex: number;
  prefixLength: number;
  /** IPV6_ADDR_* scope bits: 0 global, 0x10 host, 0x20 link, … */
  scope: number;
  /** IFA_F_* flags (0x80 permanent, 0x20 tentative, …). */
  flags: number;
  interface: string;
}

export function parseIfInet6(text: string): IfInet6[] {
  const out: IfInet6[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '') continue;
    const m =
      /^([0-9a-fA-F]{32}) ([0-9a-fA-F]+) ([0-9a-fA-F]{2}) ([0-9a-fA-F]{2}) ([0-9a-fA-F]{2,8}) +(\S+)\s*$/.exec(
        raw,
      );
    if (!m) throw new ParseError('bad if_inet6 line', { line: i + 1, token: raw });
    const hex = m[1] ?? '';
    const bytes: number[] = [];
    for (let k = 0; k < 32; k += 2) bytes.push(parseInt(hex.slice(k, k + 2), 16));
    out.push({
      address: formatIpv6BytesMapped(bytes).address,
      ifindex: parseInt(m[2] ?? '', 16),
      prefixLength: parseInt(m[3] ?? '', 16),
      scope: parseInt(m[4] ?? '', 16),
      flags: parseInt(m[5] ?? '', 16),
      interface: m[6] ?? '',
    });
  }
  return out;
}

/**
 * Every address of this host, in net-tcp's format (so `addresses.has(remote)` tells a local peer).
 * fib_trie is required; if_inet6 is absent on a host without IPv6.
 */
export function readHostAddresses(procRoot: string): Set<string> {
  const fib = `${procRoot}/net/fib_trie`;
  const out = new Set(parseWithPath(fib, readRequired(fib), parseFibTrieLocal));
  const v6 = `${procRoot}/net/if_inet6`;
  const text = readOptional(v6);
  if (text !== undefined) for (const a of parseWithPath(v6, text, parseIfInet6)) out.add(a.address);
  return out;
}
