/**
 * The Snapshot: everything the first half of the manual checklist shows, read once.
 * Field names are part of the JSON contract (issue 2): keep them stable.
 */

import { TCP_STATES, type TcpStateName } from '../procfs/net-tcp.js';

export { TCP_STATES };
export type TcpState = TcpStateName;
export type TcpStateCounts = Record<TcpState, number>;

export type Limit = number | 'unlimited';

export interface Psi {
  someAvg10: number;
  someAvg60: number;
  someAvg300: number;
  fullAvg10: number | undefined;
  fullAvg60: number | undefined;
  fullAvg300: number | undefined;
}

export interface HostInfo {
  hostname: string;
  kernel: string;
  bootId: string | undefined;
  cpus: number;
  uptimeSeconds: number;
  loadavg: [number, number, number];
  /** From /proc/loadavg and /proc/stat: tasks runnable now, and blocked on I/O. */
  runningTasks: number | undefined;
  blockedTasks: number | undefined;
  totalTasks: number | undefined;
  /** Host CPU busy over the snapshot window, percent of all cores (100 = every core busy). */
  cpuPercent: number | undefined;
  cpuUserPercent: number | undefined;
  cpuSystemPercent: number | undefined;
  cpuIowaitPercent: number | undefined;
  cpuStealPercent: number | undefined;
  memTotalBytes: number;
  memAvailableBytes: number | undefined;
  memFreeBytes: number | undefined;
  cachedBytes: number | undefined;
  shmemBytes: number | undefined;
  swapTotalBytes: number | undefined;
  swapFreeBytes: number | undefined;
  /** OOM kills since boot (/proc/vmstat oom_kill). */
  oomKills: number | undefined;
  pressure: { cpu?: Psi; memory?: Psi; io?: Psi } | undefined;
  /** The host's own addresses: excluded from "remote" tallies. */
  addresses: string[];
  clockTicksPerSecond: number;
  pageSizeBytes: number;
}

export interface KernelLimits {
  fileNrAllocated: number | undefined;
  fileNrFree: number | undefined;
  fileMax: Limit | undefined;
  nrOpen: number | undefined;
  /** [min, pressure, max] in pages. */
  tcpMemPages: [number, number, number] | undefined;
  tcpMaxOrphans: number | undefined;
  tcpFinTimeoutSeconds: number | undefined;
  ipLocalPortRange: [number, number] | undefined;
  somaxconn: number | undefined;
}

type MaybeCounts<K extends string> = Record<K, number | undefined>;

/** /proc/net/sockstat and sockstat6 as the kernel prints them; memPages are pages, as tcp_mem is. */
export interface Sockstat {
  socketsUsed: number | undefined;
  tcp: MaybeCounts<'inuse' | 'orphan' | 'tw' | 'alloc' | 'memPages'> | undefined;
  udp: MaybeCounts<'inuse' | 'memPages'> | undefined;
  tcp6: MaybeCounts<'inuse'> | undefined;
  udp6: MaybeCounts<'inuse'> | undefined;
  raw: MaybeCounts<'inuse'> | undefined;
  frag: MaybeCounts<'inuse' | 'memoryBytes'> | undefined;
}

export interface ProcessSockets {
  tcp: Partial<TcpStateCounts>;
  tcpTotal: number;
  udp: number;
  unix: number;
  /** Netlink, packet, raw, or sockets whose inode was not found in any /proc/net table. */
  other: number;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  startTimeTicks: number;
  comm: string;
  exe: string | undefined;
  /** Arguments joined by single spaces, as ps shows them; [] for kernel threads gives "". */
  cmdline: string;
  argv: string[];
  uid: number | undefined;
  user: string | undefined;
  state: string;
  threads: number;
  kernelThread: boolean;
  cpuPercent: number | undefined;
  /** The part of cpuPercent spent in the kernel (syscalls): high for busy pollers. */
  cpuSystemPercent: number | undefined;
  utimeTicks: number;
  stimeTicks: number;
  rssBytes: number | undefined;
  pssBytes: number | undefined;
  ussBytes: number | undefined;
  anonBytes: number | undefined;
  swapBytes: number | undefined;
  sharedBytes: number | undefined;
  vszBytes: number;
  /** As `pmap -d` prints them. */
  mappedBytes: number | undefined;
  writeablePrivateBytes: number | undefined;
  /** Size of shared anonymous memory mapped: /dev/zero (deleted), SysV shm, memfd, [anon_shmem:]. */
  shmMappedBytes: number | undefined;
  /** Resident shared memory (RssShmem). */
  shmemRssBytes: number | undefined;
  fdCount: number | undefined;
  fdLimit: Limit | undefined;
  sockets: ProcessSockets | undefined;
  /** Fields we could not read (permission denied), by source. */
  unreadable: string[];
}

export interface RemoteCount {
  address: string;
  count: number;
}

export interface TcpSummary {
  states: TcpStateCounts;
  /** Per state, remote addresses (the host's own excluded) with counts, most first. */
  remotes: Partial<Record<TcpState, RemoteCount[]>>;
  /** Per state, sockets whose remote end is one of the host's own addresses. */
  localRemotes: Partial<Record<TcpState, number>>;
}

export interface SocketOwner {
  pid: number;
  comm: string;
  fd: number;
}

export interface SourceTiming {
  source: string;
  durationMs: number;
}

export interface ReadProblems {
  /** Processes that exited while we read them. */
  vanished: number;
  /** Processes of which some files were denied, with which. */
  denied: { pid: number; comm: string | undefined; sources: string[] }[];
  /** Processes skipped because a file was malformed, with why. */
  skipped: { pid: number; reason: string }[];
  /** Host sources that were absent or denied. */
  hostSources: { source: string; reason: 'absent' | 'denied' }[];
}

export interface Snapshot {
  schema: 'procsleuth.snapshot/1';
  takenAt: string;
  /** How long CPU was measured over. */
  cpuWindowMs: number;
  host: HostInfo;
  limits: KernelLimits;
  sockstat: Sockstat;
  processes: ProcessInfo[];
  tcp: TcpSummary;
  problems: ReadProblems;
  timings: SourceTiming[];
}
