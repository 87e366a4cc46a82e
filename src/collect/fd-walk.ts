/**
 * The walk over every process's fds that maps socket inodes to their owners — what `ss -p` and
 * `lsof` do, once, shared by the snapshot and the sockets view.
 */
import { createRequire } from 'node:module';
import { readDir, readLink } from '../util/proc-io.js';

export interface FdWalk {
  /** socket inode → owners (a socket may be shared after fork). */
  owners: Map<number, { pid: number; fd: number }[]>;
  /** pid → number of fds listed. */
  fdCounts: Map<number, number>;
  /** pid → socket inodes it holds. */
  socketsByPid: Map<number, number[]>;
  vanished: Set<number>;
  denied: Set<number>;
}

const SOCKET_PREFIX = 'socket:[';
const PIPE_PREFIX = 'pipe:[';

export interface WalkOptions {
  /** Record pipe inodes in `owners` too (to find the other end of a pipe). */
  pipes?: boolean;
}

interface NativeWalkResult {
  counts: Int32Array;
  offsets: Int32Array;
  inodes: Float64Array;
  fds: Int32Array;
}

interface NativeWalk {
  walk(procRoot: string, pids: Int32Array, pipes: boolean): NativeWalkResult;
  /** The same walk on a libuv worker thread (absent from addons built before it existed). */
  walkAsync?(procRoot: string, pids: Int32Array, pipes: boolean): Promise<NativeWalkResult>;
  /** Whole files read on a libuv worker thread (src/collect/prefetch.ts). */
  readFilesAsync?(
    procRoot: string,
    pids: Int32Array,
    names: string[],
  ): Promise<{ data: Uint8Array; offsets: Int32Array; errnos: Int32Array }>;
}

let native: NativeWalk | null | undefined;

/** The C walker (native/procfast.c), when it was built and not disabled by PROCSLEUTH_NO_NATIVE. */
export function nativeWalker(): NativeWalk | undefined {
  if (native === undefined) {
    native = null;
    if (!process.env['PROCSLEUTH_NO_NATIVE']) {
      try {
        native = createRequire(import.meta.url)('../../build/Release/procfast.node') as NativeWalk;
      } catch {
        native = null;
      }
    }
  }
  return native ?? undefined;
}

/**
 * Measured at 35,000 socket fds on a 2-vCPU VM: 210 ms in C against 310–350 ms here; both are mostly
 * the kernel's cost of resolving each /proc/PID/fd/N link.
 */
export function walkFds(procRoot: string, pids: Iterable<number>, o: WalkOptions = {}): FdWalk {
  const n = nativeWalker();
  return n ? walkNative(n, procRoot, [...pids], o) : walkJs(procRoot, pids, o);
}

/**
 * The walk on another thread, so the caller can read other files meanwhile (the walk is kernel time on
 * the other core). Without the addon this is the synchronous JS walk, run when called.
 */
export async function walkFdsAsync(
  procRoot: string,
  pids: Iterable<number>,
  o: WalkOptions = {},
): Promise<FdWalk> {
  const n = nativeWalker();
  if (!n) return walkJs(procRoot, pids, o);
  const list = [...pids];
  if (!n.walkAsync) return walkNative(n, procRoot, list, o);
  return fromNative(list, await n.walkAsync(procRoot, Int32Array.from(list), o.pipes === true));
}

export function walkNative(n: NativeWalk, procRoot: string, pids: number[], o: WalkOptions): FdWalk {
  return fromNative(pids, n.walk(procRoot, Int32Array.from(pids), o.pipes === true));
}

function fromNative(pids: number[], r: NativeWalkResult): FdWalk {
  // The owners map (an object per socket fd, 35,000 of them on a busy host) is built only if asked
  // for: the snapshot needs sockets per pid, the sockets view needs owners per socket.
  let owners: FdWalk['owners'] | undefined;
  const w: FdWalk = {
    get owners() {
      return (owners ??= ownersOf(pids, r));
    },
    fdCounts: new Map(),
    socketsByPid: new Map(),
    vanished: new Set(),
    denied: new Set(),
  };
  for (let i = 0; i < pids.length; i++) {
    const pid = pids[i] as number;
    const count = r.counts[i] ?? -1;
    if (count === -2) w.denied.add(pid);
    else if (count < 0) w.vanished.add(pid);
    else w.fdCounts.set(pid, count);
    const from = r.offsets[i] ?? 0;
    const to = r.offsets[i + 1] ?? 0;
    let inodes: number[] | undefined;
    // Pipes come negated, to tell them from sockets without a second array.
    for (let k = from; k < to; k++) {
      const inode = r.inodes[k] ?? 0;
      if (inode > 0) (inodes ??= []).push(inode);
    }
    if (inodes) w.socketsByPid.set(pid, inodes);
  }
  return w;
}

function ownersOf(pids: number[], r: NativeWalkResult): FdWalk['owners'] {
  const owners: FdWalk['owners'] = new Map();
  for (let i = 0; i < pids.length; i++) {
    const pid = pids[i] as number;
    for (let k = r.offsets[i] ?? 0; k < (r.offsets[i + 1] ?? 0); k++) {
      const inode = Math.abs(r.inodes[k] ?? 0);
      const fd = r.fds[k] ?? -1;
      const list = owners.get(inode);
      if (list) list.push({ pid, fd });
      else owners.set(inode, [{ pid, fd }]);
    }
  }
  return owners;
}

export function walkJs(procRoot: string, pids: Iterable<number>, o: WalkOptions): FdWalk {
  const w: FdWalk = {
    owners: new Map(),
    fdCounts: new Map(),
    socketsByPid: new Map(),
    vanished: new Set(),
    denied: new Set(),
  };
  for (const pid of pids) {
    const dir = `${procRoot}/${pid}/fd`;
    const list = readDir(dir, true);
    if (!list.ok) {
      if (list.failure.kind === 'denied') w.denied.add(pid);
      else w.vanished.add(pid);
      continue;
    }
    w.fdCounts.set(pid, list.names.length);
    let inodes: number[] | undefined;
    for (const name of list.names) {
      const l = readLink(`${dir}/${name}`, true);
      // An fd closed between the listing and the readlink is normal: skip it.
      if (!l.ok) continue;
      let inode: number;
      if (l.target.startsWith(SOCKET_PREFIX)) {
        inode = Number(l.target.slice(SOCKET_PREFIX.length, -1));
        (inodes ??= []).push(inode);
      } else if (o.pipes && l.target.startsWith(PIPE_PREFIX)) {
        inode = Number(l.target.slice(PIPE_PREFIX.length, -1));
      } else continue;
      const fd = Number(name);
      const owners = w.owners.get(inode);
      if (owners) owners.push({ pid, fd });
      else w.owners.set(inode, [{ pid, fd }]);
    }
    if (inodes) w.socketsByPid.set(pid, inodes);
  }
  return w;
}
