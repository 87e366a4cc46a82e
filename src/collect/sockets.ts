/**
 * TCP/UDP/unix socket tables joined with their owners: the TCP state counts, per state the remote
 * addresses (the host's own excluded), and socket → process ownership through socket inodes.
 */
import { TCP_STATES, type RemoteCount, type TcpState, type TcpStateCounts } from './types.js';
import type { Roots } from '../util/roots.js';
import { readNetTcp, readNetTcp6, tcpStateName, type InetSocketTable } from '../procfs/net-tcp.js';
import { inetDiagAvailable, readInetDiag } from '../procfs/inet-diag.js';
import { isLiveProcfs } from '../util/proc-io.js';
import { readInodes } from './net-tables.js';
import { readHostAddresses } from '../procfs/net-addresses.js';
import { walkFdsAsync, type FdWalk } from './fd-walk.js';
import { listPids } from '../procfs/pids.js';
import { readPidComm } from '../procfs/pid-comm.js';

export function emptyStateCounts(): TcpStateCounts {
  return Object.fromEntries(TCP_STATES.map((s) => [s, 0])) as TcpStateCounts;
}

export interface SocketTables {
  states: TcpStateCounts;
  /** state → remote address → count, for remotes that are not this host. */
  remotes: Map<TcpState, Map<string, number>>;
  localRemotes: Partial<Record<TcpState, number>>;
  tcpStateByInode: Map<number, TcpState>;
  udpInodes: Set<number>;
  unixInodes: Set<number>;
  ownAddresses: Set<string>;
  /** Tables that neither netlink nor /proc/net gave (IPv6 disabled: `net/tcp6`). */
  absent: string[];
  timings: { source: string; durationMs: number }[];
}

export interface TableOptions {
  /** Count remotes only for these states (all when undefined). */
  remoteStates?: ReadonlySet<TcpState>;
  includeLocal?: boolean;
  /** Skip UDP and unix tables (the sockets view needs TCP only). */
  tcpOnly?: boolean;
}

export function readSocketTables(procRoot: string, opts: TableOptions = {}): SocketTables {
  const timings: { source: string; durationMs: number }[] = [];
  const time = <T>(source: string, f: () => T): T => {
    const t0 = performance.now();
    const v = f();
    timings.push({ source, durationMs: performance.now() - t0 });
    return v;
  };
  const ownAddresses = time('net/addresses', () => readHostAddresses(procRoot));
  const states = emptyStateCounts();
  const remotes = new Map<TcpState, Map<string, number>>();
  const localRemotes: Partial<Record<TcpState, number>> = {};
  const tcpStateByInode = new Map<number, TcpState>();
  const tables = time('net/tcp', () => readTcpTables(procRoot));
  const absent = (['net/tcp', 'net/tcp6'] as const).filter((_, i) => tables[i] === undefined);
  for (const t of tables) {
    if (t === undefined) continue;
    // Aggregate by (remote address index, state code) as one integer; strings only once per pair.
    const own = t.addresses.map((a) => isOwnAddress(a, ownAddresses));
    const pairs = new Map<number, number>();
    for (let i = 0; i < t.length; i++) {
      const code = t.state[i] ?? 0;
      const state = tcpStateName(code);
      if (state === undefined) continue;
      states[state]++;
      const inode = t.inode[i] ?? 0;
      if (inode !== 0) tcpStateByInode.set(inode, state);
      if (state === 'LISTEN' || (opts.remoteStates && !opts.remoteStates.has(state))) continue;
      const a = t.remoteAddress[i] ?? 0;
      if (!opts.includeLocal && own[a]) {
        localRemotes[state] = (localRemotes[state] ?? 0) + 1;
        continue;
      }
      const key = a * 16 + code;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    for (const [key, n] of pairs) {
      const state = tcpStateName(key % 16) as TcpState;
      const address = t.addresses[Math.floor(key / 16)] ?? '?';
      let m = remotes.get(state);
      if (!m) remotes.set(state, (m = new Map()));
      m.set(address, (m.get(address) ?? 0) + n);
    }
  }
  const udpInodes = new Set<number>();
  const unixInodes = new Set<number>();
  if (!opts.tcpOnly) {
    time('net/udp', () => readInodes(procRoot, 'udp', udpInodes));
    time('net/unix', () => readInodes(procRoot, 'unix', unixInodes));
  }
  return {
    states,
    remotes,
    localRemotes,
    tcpStateByInode,
    udpInodes,
    unixInodes,
    ownAddresses,
    absent,
    timings,
  };
}

/** The host's own addresses, plus all of 127.0.0.0/8, which is local whatever fib_trie lists. */
export function isOwnAddress(a: string, own: ReadonlySet<string>): boolean {
  return own.has(a) || a.startsWith('127.') || a === '::1';
}

/**
 * The TCP tables: from netlink sock_diag on the live host (3–4× cheaper for the kernel than formatting
 * /proc/net/tcp at 35,000 sockets), from /proc/net/tcp{,6} for a captured tree or when netlink is
 * refused. Both give the same columns (src/procfs/net-tcp.ts).
 */
export function readTcpTables(procRoot: string): (InetSocketTable | undefined)[] {
  const live = isLiveProcfs(procRoot) && inetDiagAvailable();
  const v4 = (live ? readInetDiag(4, 'tcp') : undefined) ?? readNetTcp(procRoot);
  const v6 = (live ? readInetDiag(6, 'tcp') : undefined) ?? readNetTcp6(procRoot);
  return [v4, v6];
}

export function topRemotes(m: Map<string, number> | undefined, n: number): RemoteCount[] {
  if (!m) return [];
  return [...m]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([address, count]) => ({ address, count }));
}

export interface OwnerCount {
  pid: number;
  comm: string;
  count: number;
}

export interface SocketsReport {
  schema: 'procsleuth.sockets/1';
  takenAt: string;
  query: { states: TcpState[]; top: number; includeLocal: boolean; owners: boolean };
  states: TcpStateCounts;
  top: Partial<Record<TcpState, RemoteCount[]>>;
  localRemotes: Partial<Record<TcpState, number>>;
  /** Per state, the processes holding sockets in it, most first; absent with --no-owners. */
  owners: Partial<Record<TcpState, OwnerCount[]>> | undefined;
  /** Sockets in the queried states without an owning process (TIME_WAIT, orphans, or unreadable fds). */
  unowned: number | undefined;
  /** Processes whose fds we may not read (run as root to see them): their sockets look unowned. */
  deniedProcesses: number | undefined;
  timings: { source: string; durationMs: number }[];
}

export interface SocketsOptions {
  roots: Roots;
  states: TcpState[];
  top: number;
  includeLocal: boolean;
  owners: boolean;
}

export async function collectSockets(o: SocketsOptions): Promise<SocketsReport> {
  const takenAt = new Date().toISOString();
  const wanted = new Set(o.states);
  // The fd walk runs on a worker thread while this one dumps the TCP tables.
  const walkStarted = performance.now();
  const walking = o.owners ? walkFdsAsync(o.roots.proc, listPids(o.roots.proc)) : undefined;
  const t = readSocketTables(o.roots.proc, {
    remoteStates: wanted,
    includeLocal: o.includeLocal,
    tcpOnly: true,
  });
  const top: Partial<Record<TcpState, RemoteCount[]>> = {};
  for (const s of o.states) top[s] = topRemotes(t.remotes.get(s), o.top);
  let owners: SocketsReport['owners'];
  let unowned: number | undefined;
  let deniedProcesses: number | undefined;
  if (walking) {
    const walk = await walking;
    t.timings.push({ source: 'fd walk', durationMs: performance.now() - walkStarted });
    ({ owners, unowned } = ownersByState(o.roots.proc, t, walk, o.states));
    deniedProcesses = walk.denied.size;
  }
  const localRemotes: Partial<Record<TcpState, number>> = {};
  for (const s of o.states) if (t.localRemotes[s]) localRemotes[s] = t.localRemotes[s];
  return {
    schema: 'procsleuth.sockets/1',
    takenAt,
    query: { states: o.states, top: o.top, includeLocal: o.includeLocal, owners: o.owners },
    states: t.states,
    top,
    localRemotes,
    owners,
    unowned,
    deniedProcesses,
    timings: t.timings,
  };
}

function ownersByState(
  procRoot: string,
  t: SocketTables,
  walk: FdWalk,
  order: TcpState[],
): { owners: Partial<Record<TcpState, OwnerCount[]>>; unowned: number } {
  const counts = new Map<TcpState, Map<number, number>>();
  const wanted = new Set(order);
  let owned = 0;
  for (const [inode, state] of t.tcpStateByInode) {
    if (!wanted.has(state)) continue;
    const os = walk.owners.get(inode);
    if (!os) continue;
    owned++;
    let m = counts.get(state);
    if (!m) counts.set(state, (m = new Map()));
    // A socket shared by a parent and its forked children counts once per process holding it.
    for (const pid of new Set(os.map((x) => x.pid))) m.set(pid, (m.get(pid) ?? 0) + 1);
  }
  const total = order.reduce((n, s) => n + t.states[s], 0);
  const owners: Partial<Record<TcpState, OwnerCount[]>> = {};
  for (const s of order) {
    const m = counts.get(s);
    owners[s] = m
      ? [...m]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 10)
          .map(([pid, count]) => {
            const c = readPidComm(procRoot, pid);
            return { pid, comm: c.ok ? c.value : '?', count };
          })
      : [];
  }
  return { owners, unowned: total - owned };
}
