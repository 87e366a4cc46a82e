/**
 * Assembles a Snapshot. Order matters for cost. Two reads that are mostly kernel time start first on
 * libuv worker threads — the fd walk (socket ownership, fd counts) and smaps_rollup + maps of every
 * process — while this thread reads the other per-process files and the socket tables; on two cores
 * the two halves overlap. CPU ticks are read again at the end, and the time spent reading everything
 * IS the CPU window (we sleep only for what is left of the minimum window), so a snapshot costs no
 * idle wait on a big host.
 */
import type { Roots } from '../util/roots.js';
import { emptyStatFields, readPidStatFields, USER_HZ as CLOCK_TICKS_PER_SECOND } from '../procfs/pid-stat.js';
import { listPids } from '../procfs/pids.js';
import { fillFdLimit, fillMemory, readProcess, type ProcessReadOptions } from './processes.js';
import { prefetchFiles } from './prefetch.js';
import { readHost, hostCpuPercent, type HostReading } from './host.js';
import { readSocketTables, topRemotes, emptyStateCounts } from './sockets.js';
import { walkFdsAsync } from './fd-walk.js';
import type { ProcessInfo, ProcessSockets, ReadProblems, Snapshot, SourceTiming, TcpState } from './types.js';

export interface CollectOptions {
  roots: Roots;
  /** The least time between the two CPU readings. */
  cpuWindowMs?: number;
  pss?: boolean;
  maps?: boolean;
  /**
   * Read maps only of processes with at least this much virtual memory (the rest keep their pmap
   * totals undefined). triage needs maps only for shared mappings of 256 MiB or more, which a process
   * with less address space cannot have; on a host of small processes that skips nearly every read.
   */
  mapsMinVszBytes?: number;
  /**
   * Read RLIMIT_NOFILE only of processes with at least this many fds open, after the fd walk (the
   * others keep fdLimit undefined). triage's fd-exhaustion rule speaks from 64 fds up.
   */
  limitsMinFds?: number;
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
  // The fd walk (kernel time, ~5 us per fd) runs on a worker thread while this one reads every
  // process's files: on two cores the walk costs next to nothing. Kernel threads are walked too (an
  // empty directory each) because which pids they are is known only once their stat is read.
  const fdsStarted = performance.now();
  const walking = (o.fds ?? true) ? walkFdsAsync(proc, pids) : undefined;
  // The same for the files that cost the kernel most (smaps_rollup walks page tables): read on
  // another worker thread, parsed here once the rest is read.
  const pss = o.pss ?? true;
  const maps = o.maps ?? true;
  const prefetchStarted = performance.now();
  const prefetching = prefetchFiles(proc, pids, [
    ...(pss ? ['smaps_rollup'] : []),
    // which processes pass mapsMinVszBytes is known only after their stat: those few are read inline
    ...(maps && o.mapsMinVszBytes === undefined ? ['maps'] : []),
  ]);
  const ro: ProcessReadOptions = {
    pss,
    maps,
    mapsMinVszBytes: o.mapsMinVszBytes,
    limits: o.limitsMinFds === undefined || o.fds === false,
    pageSizeBytes: host0.pageSizeBytes,
    deferMemory: !!prefetching,
  };
  let processes: ProcessInfo[] = [];
  time('processes', () => {
    for (const pid of pids) {
      const r = readProcess(proc, pid, ro, problems);
      if (r) processes.push(r.info);
    }
  });

  const tables = o.sockets === false ? undefined : time('sockets', () => readSocketTables(proc, {}));
  for (const source of tables?.absent ?? []) problems.hostSources.push({ source, reason: 'absent' });
  if (tables)
    timings.push(...tables.timings.map((t) => ({ source: t.source, durationMs: round(t.durationMs) })));
  if (prefetching) {
    const waitStarted = performance.now();
    const pre = await prefetching;
    timings.push({ source: 'memory files', durationMs: round(performance.now() - prefetchStarted) });
    timings.push({ source: 'memory files wait', durationMs: round(performance.now() - waitStarted) });
    time('memory files parse', () => {
      const kept: ProcessInfo[] = [];
      for (const p of processes) {
        const texts = { smapsRollup: pre.get(p.pid, 'smaps_rollup'), maps: pre.get(p.pid, 'maps') };
        const r = fillMemory(proc, p, ro, texts, problems);
        if (r === 'ok') kept.push(p);
        else if (r === 'gone') problems.vanished++;
      }
      processes = kept;
    });
  }
  if (walking) {
    const waitStarted = performance.now();
    const walk = await walking;
    // 'fds' is the walk's whole duration, 'fds wait' what of it was not hidden behind the other reads.
    timings.push({ source: 'fds', durationMs: round(performance.now() - fdsStarted) });
    timings.push({ source: 'fds wait', durationMs: round(performance.now() - waitStarted) });
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
    if (!ro.limits) {
      const min = o.limitsMinFds ?? 0;
      time('limits', () => {
        for (const p of processes) if ((p.fdCount ?? 0) >= min) fillFdLimit(proc, p, problems);
      });
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
  const st = emptyStatFields();
  for (const p of processes) {
    const r = readPidStatFields(proc, p.pid, st);
    // Gone, malformed, or the pid was reused by another process: no rate.
    if (!r.ok || st.startTimeTicks !== p.startTimeTicks) continue;
    const ticks = st.utimeTicks + st.stimeTicks - (p.utimeTicks + p.stimeTicks);
    if (ticks < 0) continue;
    p.cpuPercent = round((ticks / CLOCK_TICKS_PER_SECOND / seconds) * 100);
    const sys = st.stimeTicks - p.stimeTicks;
    p.cpuSystemPercent = sys >= 0 ? round((sys / CLOCK_TICKS_PER_SECOND / seconds) * 100) : undefined;
    p.utimeTicks = st.utimeTicks;
    p.stimeTicks = st.stimeTicks;
    p.state = String.fromCharCode(st.state);
    p.threads = st.threads;
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
