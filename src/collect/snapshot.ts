/**
 * Assembles a Snapshot. Order matters for cost: processes are read once, CPU ticks are read again at
 * the end, and the time spent reading everything else IS the CPU window (we sleep only for what is
 * left of the minimum window), so a snapshot costs no idle wait on a big host.
 */
import type { Roots } from '../util/roots.js';
import { readPidStat, USER_HZ as CLOCK_TICKS_PER_SECOND } from '../procfs/pid-stat.js';
import { listPids } from '../procfs/pids.js';
import { readProcess } from './processes.js';
import { readHost, hostCpuPercent, type HostReading } from './host.js';
import { readSocketTables, topRemotes, emptyStateCounts } from './sockets.js';
import { walkFds } from './fd-walk.js';
import type { ProcessInfo, ProcessSockets, ReadProblems, Snapshot, SourceTiming, TcpState } from './types.js';

export interface CollectOptions {
  roots: Roots;
  /** The least time between the two CPU readings. */
  cpuWindowMs?: number;
  pss?: boolean;
  maps?: boolean;
  /** Walk fds: fd counts and socket ownership. */
  fds?: boolean;
  sockets?: boolean;
  /** Remote addresses kept per state. */
  topRemotes?: number;
  sleep?: (ms: number) => Promise<void>;
}

export async function collectSnapshot(o: CollectOptions): Promise<Snapshot> {
  const proc = o.roots.proc;
  const cpuWindowMs = o.cpuWindowMs ?? 250;
  const timings: SourceTiming[] = [];
  const time = <T>(source: string, f: () => T): T => {
    const t0 = performance.now();
    const v = f();
    timings.push({ source, durationMs: round(performance.now() - t0) });
    return v;
  };
  const problems: ReadProblems = { vanished: 0, denied: [], skipped: [], hostSources: [] };
  const takenAt = new Date().toISOString();
  const t0 = performance.now();

  const host0 = time('host', () => readHost(o.roots, problems));
  const pids = time('pids', () => listPids(proc));
  const processes: ProcessInfo[] = [];
  time('processes', () => {
    for (const pid of pids) {
      const r = readProcess(
        proc,
        pid,
        { pss: o.pss ?? true, maps: o.maps ?? true, pageSizeBytes: host0.pageSizeBytes },
        problems,
      );
      if (r) processes.push(r.info);
    }
  });

  const tables = o.sockets === false ? undefined : time('sockets', () => readSocketTables(proc, {}));
  if (tables)
    timings.push(...tables.timings.map((t) => ({ source: t.source, durationMs: round(t.durationMs) })));
  if (o.fds ?? true) {
    const walk = time('fds', () =>
      walkFds(
        proc,
        processes.filter((p) => !p.kernelThread).map((p) => p.pid),
      ),
    );
    for (const p of processes) {
      if (p.kernelThread) continue;
      p.fdCount = walk.fdCounts.get(p.pid);
      if (walk.denied.has(p.pid)) {
        p.unreadable.push('fd');
        const d = problems.denied.find((x) => x.pid === p.pid);
        if (d) d.sources.push('fd');
        else problems.denied.push({ pid: p.pid, comm: p.comm, sources: ['fd'] });
      }
      if (tables && p.fdCount !== undefined)
        p.sockets = socketsOf(walk.socketsByPid.get(p.pid) ?? [], tables);
    }
  }
  const tcp: Snapshot['tcp'] = tables
    ? {
        states: tables.states,
        remotes: Object.fromEntries(
          [...tables.remotes].map(([s, m]) => [s, topRemotes(m, o.topRemotes ?? 20)]),
        ),
        localRemotes: tables.localRemotes,
      }
    : { states: emptyStateCounts(), remotes: {}, localRemotes: {} };

  // Second CPU reading. Whatever time the reads above took counts toward the window.
  const elapsed = performance.now() - t0;
  // Timers may fire a little early; ask for a millisecond more so the window is never short.
  if (elapsed < cpuWindowMs) await (o.sleep ?? sleep)(cpuWindowMs - elapsed + 1);
  const windowMs = time('cpu', () => measureCpu(proc, processes, performance.now() - t0));
  const host1 = readHost(o.roots, undefined, { cpuOnly: true });
  const host = hostCpuPercent(host0, host1);

  return {
    schema: 'procsleuth.snapshot/1',
    takenAt,
    cpuWindowMs: round(windowMs),
    host: host.info,
    limits: host0.limits,
    sockstat: host0.sockstat,
    processes,
    tcp,
    problems,
    timings,
  };
}

/** Re-reads each process's stat; CPU% is of one core, as top and ps print it. */
function measureCpu(proc: string, processes: ProcessInfo[], windowMs: number): number {
  const seconds = windowMs / 1000;
  for (const p of processes) {
    const r = readPidStat(proc, p.pid);
    // Gone, or the pid was reused by another process: no rate.
    if (!r.ok || r.value.startTimeTicks !== p.startTimeTicks) continue;
    const ticks = r.value.utimeTicks + r.value.stimeTicks - (p.utimeTicks + p.stimeTicks);
    if (ticks < 0) continue;
    p.cpuPercent = round((ticks / CLOCK_TICKS_PER_SECOND / seconds) * 100);
    const sys = r.value.stimeTicks - p.stimeTicks;
    p.cpuSystemPercent = sys >= 0 ? round((sys / CLOCK_TICKS_PER_SECOND / seconds) * 100) : undefined;
    p.utimeTicks = r.value.utimeTicks;
    p.stimeTicks = r.value.stimeTicks;
    p.state = r.value.state;
    p.threads = r.value.threads;
  }
  return windowMs;
}

function socketsOf(
  inodes: number[],
  t: { tcpStateByInode: Map<number, TcpState>; udpInodes: Set<number>; unixInodes: Set<number> },
): ProcessSockets {
  const s: ProcessSockets = { tcp: {}, tcpTotal: 0, udp: 0, unix: 0, other: 0 };
  for (const inode of inodes) {
    const st = t.tcpStateByInode.get(inode);
    if (st !== undefined) {
      s.tcp[st] = (s.tcp[st] ?? 0) + 1;
      s.tcpTotal++;
    } else if (t.udpInodes.has(inode)) s.udp++;
    else if (t.unixInodes.has(inode)) s.unix++;
    else s.other++;
  }
  return s;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export type { HostReading };
