import type { ProcessGroup } from '../collect/group.js';
import type { ProcessInfo } from '../collect/types.js';
import { fixed, humanBytes, int, table, truncate } from '../util/format.js';

export type SortKey = 'cpu' | 'rss' | 'pss' | 'fds' | 'swap' | 'threads' | 'sockets';

type Sortable = Pick<
  ProcessInfo,
  'cpuPercent' | 'rssBytes' | 'pssBytes' | 'fdCount' | 'swapBytes' | 'threads'
> & {
  socketCount?: number | undefined;
};

const keyOf: Record<SortKey, (p: Sortable) => number | undefined> = {
  cpu: (p) => p.cpuPercent,
  rss: (p) => p.rssBytes,
  pss: (p) => p.pssBytes,
  fds: (p) => p.fdCount,
  swap: (p) => p.swapBytes,
  threads: (p) => p.threads,
  sockets: (p) => p.socketCount,
};

/** Descending; unknown values sort last, not as zero. */
function byKey<T extends Sortable>(xs: readonly T[], key: SortKey): T[] {
  const f = keyOf[key];
  return [...xs].sort((a, b) => (f(b) ?? -Infinity) - (f(a) ?? -Infinity));
}

export function socketCount(p: ProcessInfo): number | undefined {
  const s = p.sockets;
  return s ? s.tcpTotal + s.udp + s.unix + s.other : undefined;
}

export function sortProcesses(ps: readonly ProcessInfo[], key: SortKey): ProcessInfo[] {
  return byKey(
    ps.map((p) => Object.assign({}, p, { socketCount: socketCount(p) })),
    key,
  ).map(({ socketCount: _s, ...p }) => p as ProcessInfo);
}

export function sortGroups(gs: readonly ProcessGroup[], key: SortKey): ProcessGroup[] {
  return byKey(gs, key);
}

export function renderProcesses(ps: readonly ProcessInfo[]): string {
  return table(
    ['PID', 'USER', 'S', 'CPU%', 'RSS', 'PSS', 'SWAP', 'THR', 'FDS', 'SOCK', 'COMMAND'],
    ps.map((p) => [
      String(p.pid),
      truncate(p.user ?? String(p.uid ?? '?'), 10),
      p.state,
      fixed(p.cpuPercent),
      humanBytes(p.rssBytes),
      humanBytes(p.pssBytes),
      humanBytes(p.swapBytes),
      String(p.threads),
      int(p.fdCount),
      int(socketCount(p)),
      truncate(p.cmdline || `[${p.comm}]`, 100),
    ]),
    ['right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
}

export function renderGroups(gs: readonly ProcessGroup[]): string {
  return table(
    ['N', 'CPU%', 'RSS', 'PSS', 'SWAP', 'THR', 'FDS', 'SOCK', 'PIDS', 'GROUP'],
    gs.map((g) => [
      String(g.count),
      fixed(g.cpuPercent),
      humanBytes(g.rssBytes),
      humanBytes(g.pssBytes),
      humanBytes(g.swapBytes),
      String(g.threads),
      int(g.fdCount),
      int(g.socketCount),
      truncate(g.pids.slice(0, 4).join(',') + (g.pids.length > 4 ? ',…' : ''), 28),
      truncate(g.label, 90),
    ]),
    ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  );
}
