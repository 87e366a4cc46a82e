/**
 * The host half of a Snapshot: identity, load, memory, pressure, kernel limits and sockstat.
 * Required files (loadavg, meminfo, stat, uptime) throw with their path when missing or malformed;
 * optional ones (pressure, sysctls a container hides) become undefined and are noted.
 */
import { existsSync } from 'node:fs';
import { readHead } from '../util/proc-io.js';
import { ProcsleuthError } from '../util/errors.js';
import type { Roots } from '../util/roots.js';
import { readLoadavg } from '../procfs/loadavg.js';
import { readUptime } from '../procfs/uptime.js';
import { readStat, type CpuTimes } from '../procfs/stat.js';
import { readMeminfo } from '../procfs/meminfo.js';
import { readPressure, type PressureFile } from '../procfs/pressure.js';
import { readBootId } from '../procfs/boot-id.js';
import { readKernelIdent } from '../procfs/kernel-ident.js';
import { readFileNr, readFileMax, readNrOpen } from '../procfs/sys-fs.js';
import {
  readTcpMem,
  readTcpMaxOrphans,
  readTcpFinTimeoutSeconds,
  readIpLocalPortRange,
  readSomaxconn,
} from '../procfs/sys-net.js';
import { readSockstat, readSockstat6 } from '../procfs/net-sockstat.js';
import { readHostAddresses } from '../procfs/net-addresses.js';
import { readVmstat } from '../procfs/vmstat.js';
import type { HostInfo, KernelLimits, Psi, ReadProblems, Sockstat } from './types.js';
import { USER_HZ as CLOCK_TICKS_PER_SECOND } from '../procfs/pid-stat.js';

export interface HostReading {
  info: Omit<
    HostInfo,
    'cpuPercent' | 'cpuUserPercent' | 'cpuSystemPercent' | 'cpuIowaitPercent' | 'cpuStealPercent'
  >;
  cpuTotal: CpuTimes;
  limits: KernelLimits;
  sockstat: Sockstat;
  pageSizeBytes: number;
}

/**
 * A file a container may hide: undefined, and noted, rather than an error. A malformed file still
 * throws (with its path, line and token): that is a broken host or capture, not a hidden one.
 */
function optional<T>(
  source: string,
  f: () => T | undefined,
  problems: ReadProblems | undefined,
): T | undefined {
  try {
    const v = f();
    if (v === undefined) problems?.hostSources.push({ source, reason: 'absent' });
    return v;
  } catch (err) {
    if (err instanceof ProcsleuthError && err.code === 'IO') {
      problems?.hostSources.push({
        source,
        reason: /permission denied/.test(err.message) ? 'denied' : 'absent',
      });
      return undefined;
    }
    throw err;
  }
}

/** For readers that answer undefined for absent and unreadable alike: which of the two it was. */
function noteMissing(source: string, path: string, problems: ReadProblems | undefined): void {
  problems?.hostSources.push({ source, reason: existsSync(path) ? 'denied' : 'absent' });
}

export function readHost(
  roots: Roots,
  problems: ReadProblems | undefined,
  o: { cpuOnly?: boolean } = {},
): HostReading {
  const p = roots.proc;
  const stat = readStat(p);
  if (o.cpuOnly) return { cpuTotal: stat.cpu } as HostReading;
  const load = readLoadavg(p);
  const mem = readMeminfo(p);
  const ident = readKernelIdent(p);
  const fileNr = optional('sys/fs/file-nr', () => readFileNr(p), problems);
  const pr = readPressure(p);
  // PSI is absent before 4.20 and with psi=0; IPv6 may be disabled: undefined then, and noted.
  for (const r of ['cpu', 'memory', 'io'] as const)
    if (pr[r] === undefined) noteMissing(`pressure/${r}`, `${p}/pressure/${r}`, problems);
  const pressure = { cpu: psi(pr.cpu), memory: psi(pr.memory), io: psi(pr.io) };
  const hasPsi = pressure.cpu || pressure.memory || pressure.io;
  const ss = optional('net/sockstat', () => readSockstat(p), problems);
  const ss6 = readSockstat6(p);
  if (ss6 === undefined) noteMissing('net/sockstat6', `${p}/net/sockstat6`, problems);
  const info: HostReading['info'] = {
    hostname: ident.hostname,
    kernel: ident.osRelease,
    bootId: optional('sys/kernel/random/boot_id', () => readBootId(p), problems),
    cpus: stat.cpus.length || 1,
    uptimeSeconds: readUptime(p).uptimeSeconds,
    loadavg: [load.load1, load.load5, load.load15],
    runningTasks: stat.procsRunning ?? load.runningTasks,
    blockedTasks: stat.procsBlocked,
    totalTasks: load.totalTasks,
    memTotalBytes: mem.memTotalBytes ?? 0,
    memAvailableBytes: mem.memAvailableBytes,
    memFreeBytes: mem.memFreeBytes,
    cachedBytes: mem.cachedBytes,
    shmemBytes: mem.shmemBytes,
    swapTotalBytes: mem.swapTotalBytes,
    swapFreeBytes: mem.swapFreeBytes,
    oomKills: readVmstat(p)?.get('oom_kill'),
    pressure: hasPsi ? pressure : undefined,
    addresses: [...readHostAddresses(p)].sort(),
    clockTicksPerSecond: CLOCK_TICKS_PER_SECOND,
    pageSizeBytes: pageSize(p),
  };
  const limits: KernelLimits = {
    fileNrAllocated: fileNr?.allocated,
    fileNrFree: fileNr?.free,
    fileMax: optional('sys/fs/file-max', () => readFileMax(p), problems),
    nrOpen: optional('sys/fs/nr_open', () => readNrOpen(p), problems),
    tcpMemPages: optional(
      'sys/net/ipv4/tcp_mem',
      () => {
        const m = readTcpMem(p);
        return [m.minPages, m.pressurePages, m.maxPages] as [number, number, number];
      },
      problems,
    ),
    tcpMaxOrphans: optional('sys/net/ipv4/tcp_max_orphans', () => readTcpMaxOrphans(p), problems),
    tcpFinTimeoutSeconds: optional(
      'sys/net/ipv4/tcp_fin_timeout',
      () => readTcpFinTimeoutSeconds(p),
      problems,
    ),
    ipLocalPortRange: optional('sys/net/ipv4/ip_local_port_range', () => readIpLocalPortRange(p), problems),
    somaxconn: optional('sys/net/core/somaxconn', () => readSomaxconn(p), problems),
  };
  const sockstat: Sockstat = {
    socketsUsed: ss?.socketsUsed,
    tcp: ss?.tcp,
    udp: ss?.udp,
    tcp6: ss6?.tcp ? { inuse: ss6.tcp.inuse } : undefined,
    udp6: ss6?.udp ? { inuse: ss6.udp.inuse } : undefined,
    raw: ss?.raw,
    frag: ss?.frag,
  };
  return { info, cpuTotal: stat.cpu, limits, sockstat, pageSizeBytes: info.pageSizeBytes };
}

function psi(f: PressureFile | undefined): Psi | undefined {
  if (!f?.some) return undefined;
  return {
    someAvg10: f.some.avg10Pct,
    someAvg60: f.some.avg60Pct,
    someAvg300: f.some.avg300Pct,
    fullAvg10: f.full?.avg10Pct,
    fullAvg60: f.full?.avg60Pct,
    fullAvg300: f.full?.avg300Pct,
  };
}

/**
 * The page size: from a KernelPageSize line of our own smaps when reading the live /proc, else the
 * x86_64 default. (Node has no sysconf; statm counts pages, so this matters on 16K/64K-page arm64.)
 */
function pageSize(procRoot: string): number {
  // The first mapping's lines are enough; all of Node's own smaps cost the kernel ~10 ms.
  const t = readHead(`${procRoot}/self/smaps`, 4096);
  const m = t ? /KernelPageSize:\s+(\d+) kB/.exec(t) : null;
  return m ? Number(m[1]) * 1024 : 4096;
}

export function hostCpuPercent(h0: HostReading, h1: HostReading): { info: HostInfo } {
  const a = h0.cpuTotal;
  const b = h1.cpuTotal;
  const d = (k: keyof CpuTimes): number => (b[k] ?? 0) - (a[k] ?? 0);
  // guest and guest_nice are already inside user and nice.
  const total = (
    [
      'userTicks',
      'niceTicks',
      'systemTicks',
      'idleTicks',
      'iowaitTicks',
      'irqTicks',
      'softirqTicks',
      'stealTicks',
    ] as const
  ).reduce((n, k) => n + d(k), 0);
  const pct = (n: number): number | undefined =>
    total > 0 ? Math.round((n / total) * 1000) / 10 : undefined;
  return {
    info: {
      ...h0.info,
      cpuPercent: pct(total - d('idleTicks') - d('iowaitTicks')),
      cpuUserPercent: pct(d('userTicks') + d('niceTicks')),
      cpuSystemPercent: pct(d('systemTicks') + d('irqTicks') + d('softirqTicks')),
      cpuIowaitPercent: pct(d('iowaitTicks')),
      cpuStealPercent: pct(d('stealTicks')),
    },
  };
}
