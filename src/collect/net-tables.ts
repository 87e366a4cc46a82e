/** Socket inodes of the UDP and unix tables: enough to tell what kind each of a process's sockets is. */
import { readNetUdp, readNetUdp6 } from '../procfs/net-udp.js';
import { readNetUnix } from '../procfs/net-unix.js';

export function readInodes(procRoot: string, kind: 'udp' | 'unix', into: Set<number>): void {
  if (kind === 'unix') {
    for (const s of readNetUnix(procRoot)) into.add(s.inode);
    return;
  }
  for (const t of [readNetUdp(procRoot), readNetUdp6(procRoot)]) {
    if (!t) continue;
    for (let i = 0; i < t.length; i++) into.add(t.inode[i] ?? 0);
  }
}
