/**
 * /proc/net/sockstat and /proc/net/sockstat6 — socket(7), net/ipv4/proc.c and net/ipv6/proc.c.
 *
 *   sockets: used 44
 *   TCP: inuse 15 orphan 0 tw 10 alloc 20 mem 121
 *   FRAG: inuse 0 memory 0
 *
 * Cheap (what `ss -s` reads) compared with listing sockets. TCP/UDP `mem` are PAGES (compare with
 * tcp_mem); FRAG `memory` is bytes. `inuse` for TCP counts hashed sockets (listening and connected, not
 * TIME_WAIT); `alloc` counts every allocated TCP socket, including closed ones not yet freed. sockstat6
 * spells the protocols TCP6, UDP6, …; the typed sections read either spelling.
 */
import { ParseError } from '../util/errors.js';
import { parseWithPath, readOptional, readRequired } from '../util/proc-io.js';

export interface Sockstat {
  /** `sockets: used` — sockets of every family in this namespace (sockstat only). */
  socketsUsed: number | undefined;
  tcp:
    | {
        inuse: number | undefined;
        orphan: number | undefined;
        tw: number | undefined;
        alloc: number | undefined;
        memPages: number | undefined;
      }
    | undefined;
  udp: { inuse: number | undefined; memPages: number | undefined } | undefined;
  udplite: { inuse: number | undefined } | undefined;
  raw: { inuse: number | undefined } | undefined;
  frag: { inuse: number | undefined; memoryBytes: number | undefined } | undefined;
  /** Every line as printed, protocols the typed fields do not know included: protocol → key → value. */
  protocols: Record<string, Record<string, number>>;
}

export function parseSockstat(text: string): Sockstat {
  const protocols: Record<string, Record<string, number>> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '') continue;
    const m = /^([A-Za-z0-9_]+):((?:\s+\S+\s+\S+)*)\s*$/.exec(raw);
    if (!m) throw new ParseError('expected "PROTO: key value …"', { line: i + 1, token: raw });
    const f = (m[2] ?? '').trim().split(/\s+/).filter(Boolean);
    const kv: Record<string, number> = {};
    for (let k = 0; k < f.length; k += 2) {
      const key = f[k] ?? '';
      const tok = f[k + 1] ?? '';
      // inuse can be briefly negative on some kernels (per-cpu counters summed racily): keep the sign.
      if (!/^-?\d+$/.test(tok) || !Number.isSafeInteger(Number(tok))) {
        throw new ParseError(`bad ${m[1]} ${key}`, { line: i + 1, token: tok });
      }
      Object.defineProperty(kv, key, {
        value: Number(tok),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    Object.defineProperty(protocols, m[1] ?? '', {
      value: kv,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (Object.keys(protocols).length === 0)
    throw new ParseError('no lines', { line: 1, token: text || '<empty>' });
  const p = (name: string): Record<string, number> | undefined =>
    Object.hasOwn(protocols, name)
      ? protocols[name]
      : Object.hasOwn(protocols, `${name}6`)
        ? protocols[`${name}6`]
        : undefined;
  const v = (r: Record<string, number>, k: string): number | undefined =>
    Object.hasOwn(r, k) ? r[k] : undefined;
  const tcp = p('TCP');
  const udp = p('UDP');
  const udplite = p('UDPLITE');
  const rawp = p('RAW');
  const frag = p('FRAG');
  const sockets = p('sockets');
  return {
    socketsUsed: sockets && v(sockets, 'used'),
    tcp: tcp && {
      inuse: v(tcp, 'inuse'),
      orphan: v(tcp, 'orphan'),
      tw: v(tcp, 'tw'),
      alloc: v(tcp, 'alloc'),
      memPages: v(tcp, 'mem'),
    },
    udp: udp && { inuse: v(udp, 'inuse'), memPages: v(udp, 'mem') },
    udplite: udplite && { inuse: v(udplite, 'inuse') },
    raw: rawp && { inuse: v(rawp, 'inuse') },
    frag: frag && { inuse: v(frag, 'inuse'), memoryBytes: v(frag, 'memory') },
    protocols,
  };
}

export function readSockstat(procRoot: string): Sockstat {
  const path = `${procRoot}/net/sockstat`;
  return parseWithPath(path, readRequired(path), parseSockstat);
}

/** Undefined on a host without IPv6. */
export function readSockstat6(procRoot: string): Sockstat | undefined {
  const path = `${procRoot}/net/sockstat6`;
  const text = readOptional(path);
  return text === undefined ? undefined : parseWithPath(path, text, parseSockstat);
}
