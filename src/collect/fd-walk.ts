/**
 * The walk over every process's fds that maps socket inodes to their owners — what `ss -p` and
 * `lsof` do, once, shared by the snapshot and the sockets view.
 */
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

export function walkFds(procRoot: string, pids: Iterable<number>, o: WalkOptions = {}): FdWalk {
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
