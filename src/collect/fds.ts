/**
 * Every fd of a process resolved to what it is — `ls -la /proc/PID/fd` plus `lsof` plus `ss -p` in one:
 * files, pipes (with the process at the other end), eventfds, and sockets with protocol, endpoints and
 * TCP state; for unix sockets the path and the peer process where the kernel tells.
 */
import { isLiveProcfs, readLink } from '../util/proc-io.js';
import type { Roots } from '../util/roots.js';
import { ProcsleuthError } from '../util/errors.js';
import { classifyFdTarget, readPidFds, type FdKind } from '../procfs/pid-fd.js';
import { readPidFdinfo } from '../procfs/pid-fdinfo.js';
import { readPidComm } from '../procfs/pid-comm.js';
import { tcpStateName, type InetSocketTable } from '../procfs/net-tcp.js';
import { readTcpTables } from './sockets.js';
import { readNetUdp, readNetUdp6 } from '../procfs/net-udp.js';
import { readNetUnix, type UnixSocket } from '../procfs/net-unix.js';
import { listPids } from '../procfs/pids.js';
import { walkFds, type FdWalk } from './fd-walk.js';
import { readUnixPeers } from './unix-peers.js';

export interface PeerRef {
  pid: number;
  comm: string;
  fd: number;
}

export interface ResolvedFd {
  fd: number;
  kind: FdKind;
  /** What it is, in one line a person reads: a path, `tcp 1.2.3.4:80 → 5.6.7.8:51234 ESTABLISHED`, … */
  target: string;
  /** The raw link text of /proc/PID/fd/N. */
  link: string;
  inode: number | undefined;
  deleted: boolean | undefined;
  /** Open flags from fdinfo (O_NONBLOCK matters for busy loops). */
  flags: string[] | undefined;
  posBytes: number | undefined;
  socket: SocketDetail | undefined;
  /** Other processes holding the same pipe or socket (the other end of a pipe, a shared listener). */
  sharedWith: PeerRef[] | undefined;
}

export interface SocketDetail {
  protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'unix' | 'other';
  local: string | undefined;
  remote: string | undefined;
  state: string | undefined;
  unixType: string | undefined;
  path: string | undefined;
  /** For unix sockets: the path bound at the other end (a client's own socket has none). */
  peerPath?: string | undefined;
  peerInode: number | undefined;
  /** The process(es) holding the other end of a unix socket. */
  peers: PeerRef[] | undefined;
}

export interface FdsReport {
  schema: 'procsleuth.fds/1';
  takenAt: string;
  pid: number;
  comm: string;
  fds: ResolvedFd[];
  counts: Partial<Record<FdKind, number>>;
  notes: string[];
}

interface InetRow {
  protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  local: string;
  remote: string;
  state: string | undefined;
}

function indexInet(
  into: Map<number, InetRow>,
  t: InetSocketTable | undefined,
  protocol: InetRow['protocol'],
): void {
  if (!t) return;
  const ep = (a: number | undefined, port: number | undefined): string => {
    const addr = t.addresses[a ?? 0] ?? '?';
    return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
  };
  const tcp = protocol.startsWith('tcp');
  for (let i = 0; i < t.length; i++) {
    const inode = t.inode[i] ?? 0;
    if (inode === 0) continue;
    into.set(inode, {
      protocol,
      local: ep(t.localAddress[i], t.localPort[i]),
      remote: ep(t.remoteAddress[i], t.remotePort[i]),
      state: tcp ? tcpStateName(t.state[i] ?? 0) : t.state[i] === 1 ? 'CONNECTED' : 'UNCONNECTED',
    });
  }
}

export interface FdsOptions {
  /** Only these fds (the tracer asks for the few it saw). */
  only?: readonly number[];
  /** Walk every process to find who holds the other ends (default true). */
  peers?: boolean;
  /** A walk already made (with pipes), shared when resolving fds of many processes. */
  walk?: FdWalk;
  /** unix peers already read. */
  unixPeers?: Map<number, number>;
}

export async function collectFds(roots: Roots, pid: number, o: FdsOptions = {}): Promise<FdsReport> {
  const proc = roots.proc;
  const notes: string[] = [];
  const list = readPidFds(proc, pid);
  if (!list.ok) {
    if (list.failure.kind === 'denied')
      throw new ProcsleuthError(
        'IO',
        `cannot list ${proc}/${pid}/fd: permission denied (run as root or as the process's user)`,
      );
    throw new ProcsleuthError('NOT_FOUND', `no process ${pid} under ${proc}`);
  }
  const comm = readPidComm(proc, pid);
  const entries = o.only ? list.value.filter((e) => o.only?.includes(e.fd)) : list.value;

  const inet = new Map<number, InetRow>();
  const [v4, v6] = readTcpTables(proc);
  indexInet(inet, v4, 'tcp');
  indexInet(inet, v6, 'tcp6');
  indexInet(inet, readNetUdp(proc), 'udp');
  indexInet(inet, readNetUdp6(proc), 'udp6');
  const unix = new Map<number, UnixSocket>();
  for (const u of readNetUnix(proc)) unix.set(u.inode, u);

  // Who else holds each pipe or socket: one walk over every process's fds.
  const wantPeers = o.peers ?? true;
  const holders = new Map<number, PeerRef[]>();
  const commOf = new Map<number, string>();
  const nameOf = (p: number): string => {
    let c = commOf.get(p);
    if (c === undefined) {
      const r = readPidComm(proc, p);
      c = r.ok ? r.value : '?';
      commOf.set(p, c);
    }
    return c;
  };
  if (wantPeers) {
    const walk = o.walk ?? walkFds(proc, listPids(proc), { pipes: true });
    for (const [inode, owners] of walk.owners)
      holders.set(
        inode,
        owners.map((x) => ({ ...x, comm: '' })),
      );
  }
  let unixPeers = o.unixPeers ?? new Map<number, number>();
  const hasUnix = entries.some(
    (e) => e.target.startsWith('socket:') && unix.has(classifyFdTarget(e.target).inode ?? -1),
  );
  if (wantPeers && hasUnix && !o.unixPeers) {
    if (isLiveProcfs(proc)) {
      const r = await readUnixPeers();
      unixPeers = r.peers;
      if (r.note) notes.push(r.note);
    } else notes.push('unix socket peers are only known on a live host (they come from netlink, not /proc)');
  }
  const others = (inode: number | undefined): PeerRef[] | undefined => {
    if (inode === undefined) return undefined;
    const hs = holders.get(inode)?.filter((h) => h.pid !== pid);
    return hs && hs.length ? hs.map((h) => ({ ...h, comm: nameOf(h.pid) })) : undefined;
  };

  const fds: ResolvedFd[] = [];
  const counts: Partial<Record<FdKind, number>> = {};
  for (const e of entries) {
    const t = classifyFdTarget(e.target);
    counts[t.kind] = (counts[t.kind] ?? 0) + 1;
    const info = readPidFdinfo(proc, pid, e.fd);
    let socket: SocketDetail | undefined;
    let target = t.path !== undefined ? t.path + (t.deleted ? ' (deleted)' : '') : e.target;
    if (t.kind === 'socket' && t.inode !== undefined) {
      const row = inet.get(t.inode);
      const u = unix.get(t.inode);
      if (row) {
        socket = {
          protocol: row.protocol,
          local: row.local,
          remote: row.remote,
          state: row.state,
          unixType: undefined,
          path: undefined,
          peerInode: undefined,
          peers: undefined,
        };
        target = `${row.protocol} ${row.local} → ${row.remote} ${row.state ?? ''}`.trim();
      } else if (u) {
        const peerInode = unixPeers.get(t.inode);
        // A client's socket is unnamed; the name people know is the server's path at the other end.
        const peerPath = peerInode !== undefined ? unix.get(peerInode)?.path : undefined;
        const peers =
          peerInode !== undefined
            ? (others(peerInode) ?? holders.get(peerInode)?.map((h) => ({ ...h, comm: nameOf(h.pid) })))
            : undefined;
        socket = {
          protocol: 'unix',
          local: undefined,
          remote: undefined,
          state: u.state,
          unixType: u.type,
          path: u.path,
          peerPath,
          peerInode,
          peers,
        };
        const peerText = peers?.length
          ? ` ↔ ${peers.map((p) => `${p.comm}[${p.pid}] fd ${p.fd}`).join(', ')}`
          : peerInode
            ? ` ↔ socket ${peerInode}`
            : '';
        target =
          `unix ${u.type ?? '?'} ${u.path ?? (peerPath ? `(unnamed) → ${peerPath}` : '(unnamed)')} ${u.listening ? 'LISTEN' : (u.state ?? '')}${peerText}`
            .replace(/\s+/g, ' ')
            .trim();
      } else {
        socket = {
          protocol: 'other',
          local: undefined,
          remote: undefined,
          state: undefined,
          unixType: undefined,
          path: undefined,
          peerInode: undefined,
          peers: undefined,
        };
        target = `socket ${t.inode} (netlink, packet or another family)`;
      }
    } else if (t.kind === 'pipe') {
      const o2 = others(t.inode);
      if (o2) target = `${e.target} ↔ ${o2.map((p) => `${p.comm}[${p.pid}] fd ${p.fd}`).join(', ')}`;
    }
    fds.push({
      fd: e.fd,
      kind: t.kind,
      target,
      link: e.target,
      inode: t.inode,
      deleted: t.deleted,
      flags: info.ok ? info.value.flagNames : undefined,
      posBytes: info.ok ? info.value.posBytes : undefined,
      socket,
      sharedWith: t.kind === 'socket' && socket?.protocol === 'unix' ? undefined : others(t.inode),
    });
  }
  fds.sort((a, b) => a.fd - b.fd);
  return {
    schema: 'procsleuth.fds/1',
    takenAt: new Date().toISOString(),
    pid,
    comm: comm.ok ? comm.value : '?',
    fds,
    counts,
    notes,
  };
}

/** Resolves the given fds of many processes with one walk over every process's fds. */
export async function resolveManyFds(
  roots: Roots,
  want: ReadonlyMap<number, readonly number[]>,
): Promise<Map<number, Map<number, ResolvedFd>>> {
  const out = new Map<number, Map<number, ResolvedFd>>();
  if (want.size === 0) return out;
  const walk = walkFds(roots.proc, listPids(roots.proc), { pipes: true });
  const unixPeers = isLiveProcfs(roots.proc) ? (await readUnixPeers()).peers : new Map<number, number>();
  for (const [pid, fds] of want) {
    try {
      const r = await collectFds(roots, pid, { only: fds, walk, unixPeers });
      out.set(pid, new Map(r.fds.map((f) => [f.fd, f])));
    } catch (err) {
      // The process exited or hides its fds: its fds stay unresolved.
      if (!(err instanceof ProcsleuthError)) throw err;
    }
  }
  return out;
}

export function exeOf(procRoot: string, pid: number): string | undefined {
  const l = readLink(`${procRoot}/${pid}/exe`, true);
  return l.ok ? l.target : undefined;
}
