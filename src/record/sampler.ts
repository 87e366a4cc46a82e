/**
 * The sampler: reads /proc once per interval into a SampleInput for the store, reading per process only
 * what can have changed. The recorder is meant to run on every production machine for days, so the
 * budget is "less CPU than `pidstat -u -r -d -h 1`" (measured 5.7 % of one core with ~1,070 processes
 * at a 1 s interval) while recording more (fds, sockets by TCP state, PSS).
 *
 * ## What is read, and how often (N = processes; a "pass" happens every pass interval, default 60 s)
 * | every sample | host: /proc/stat, loadavg, meminfo, net/sockstat{,6}, sys/fs/file-nr (5 small files) |
 * |              | per process: /proc/PID/stat — CPU ticks, faults, RSS, VSZ, threads, state, ppid   |
 * | on change    | per process whose stat moved (CPU ticks, faults, RSS, VSZ or threads):              |
 * |              | /proc/PID/statm (anon = resident − shared) and stat() of /proc/PID/fd (fd count)   |
 * | sweep        | the same for unchanged processes, each once per pass interval, staggered by pid     |
 * | first sight  | cmdline, exe, status (uid) — identity, stored once                                  |
 * | PSS pass     | /proc/PID/smaps_rollup (PSS, swap) for processes whose RSS moved since their last  |
 * |              | PSS reading; every process at least every `pssMaxAgeMs` (10 min), staggered         |
 * | socket pass  | /proc/net/tcp{,6}, udp{,6}, unix once; each process's fd links are listed again    |
 * |              | only when its fd count changed (else its cached socket inodes are looked up in the |
 * |              | fresh tables), and every process at least every `fdWalkMaxAgeMs` (10 min)          |
 *
 * Why: reading stat of every process is the floor (it is how a change is noticed at all, and what
 * pidstat itself reads). An idle process — most of them on a server — then costs one small read per
 * sample and nothing else. smaps_rollup makes the kernel walk page tables and /proc/net/tcp at 36k
 * sockets costs ~61 ms of kernel time, so both go on the pass interval; at the default 60 s interval a
 * pass is every sample. A process whose fd count did not change still has the same sockets unless it
 * closed one and opened another between two samples; the 10-minute re-walk bounds that error.
 *
 * Measured with bench/record.bench.ts (see its output and docs/record.md for the figures).
 */
import { readLink } from '../util/proc-io.js';
import { listPids } from '../procfs/pids.js';
import { readPidStatm } from '../procfs/pid-statm.js';
import { readPidStatus } from '../procfs/pid-status.js';
import { readPidCmdline } from '../procfs/pid-cmdline.js';
import { readPidSmapsRollup } from '../procfs/pid-smaps-rollup.js';
import { countFds } from '../procfs/pid-fd.js';
import { readStat } from '../procfs/stat.js';
import { readLoadavg } from '../procfs/loadavg.js';
import { readMeminfo } from '../procfs/meminfo.js';
import { readSockstat, readSockstat6 } from '../procfs/net-sockstat.js';
import { readFileNr } from '../procfs/sys-fs.js';
import { readBootId } from '../procfs/boot-id.js';
import { readSocketTables, topRemotes, type SocketTables } from '../collect/sockets.js';
import { walkFds } from '../collect/fd-walk.js';
import { TCP_STATES, type TcpState } from '../collect/types.js';
import { emptyStatFields, isKernelThread, readPidStatFields, type StatFields } from '../procfs/pid-stat.js';
import type {
  HostSampleInput,
  ProcessSampleInput,
  ProcessSocketsInput,
  SampleInput,
} from '../store/index.js';

export interface SamplerOptions {
  procRoot: string;
  intervalMs: number;
  /** Unchanged processes get their statm and fd count re-read this often (default 60 s). */
  sweepMs?: number;
  /** PSS pass interval (default 60 s). */
  pssMs?: number;
  /** Every process's PSS at least this often (default 10 min). */
  pssMaxAgeMs?: number;
  /** Socket pass interval (default 60 s). */
  socketsMs?: number;
  /** Every process's fd links listed at least this often (default 10 min). */
  fdWalkMaxAgeMs?: number;
  /** Remote addresses kept per TCP state (default 10). */
  topRemotes?: number;
  pageSizeBytes?: number;
  now?: () => number;
}

export const SAMPLE_FLAGS = { sockets: 1, pss: 2 } as const;

interface Seen {
  start: number;
  comm: string;
  kthread: boolean;
  exe: string | undefined;
  argv: string[] | undefined;
  uid: number | undefined;
  /** What stat said last time: a change triggers the detail reads. */
  ticks: number;
  minflt: number;
  majflt: number;
  rssPages: number;
  vszBytes: number;
  threads: number;
  anonBytes: number | undefined;
  swapBytes: number | undefined;
  pssBytes: number | undefined;
  fdCount: number | undefined;
  /** RSS when PSS was last read (PSS is re-read when RSS moved). */
  pssAtRssPages: number | undefined;
  inodes: number[] | undefined;
  inodesAtFdCount: number | undefined;
}

export interface SampleStats {
  processes: number;
  vanished: number;
  skipped: number;
  detailed: number;
  pssRead: number;
  fdWalked: number;
  durationMs: number;
}

export class Sampler {
  private readonly o: Required<Omit<SamplerOptions, 'now'>> & { now: () => number };
  private readonly seen = new Map<number, Seen>();
  private index = 0;
  private readonly stat: StatFields = emptyStatFields();
  readonly bootId: string;
  lastStats: SampleStats | undefined;

  constructor(o: SamplerOptions) {
    this.o = {
      sweepMs: 60_000,
      pssMs: 60_000,
      pssMaxAgeMs: 600_000,
      socketsMs: 60_000,
      fdWalkMaxAgeMs: 600_000,
      topRemotes: 10,
      pageSizeBytes: 4096,
      now: () => Date.now(),
      ...o,
    };
    this.bootId = readBootId(o.procRoot);
  }

  private every(ms: number): number {
    return Math.max(1, Math.round(ms / this.o.intervalMs));
  }

  /** One sample. `full` reads everything for every process (used by --once and tests). */
  sample(full = false): SampleInput {
    const t0 = performance.now();
    const o = this.o;
    const proc = o.procRoot;
    const idx = this.index++;
    const tMs = o.now();
    const sweepEvery = this.every(o.sweepMs);
    const pssEvery = this.every(o.pssMs);
    const socketsEvery = this.every(o.socketsMs);
    const pssPass = full || idx % pssEvery === 0;
    const socketPass = full || idx % socketsEvery === 0;
    const pssRounds = Math.max(1, Math.round(o.pssMaxAgeMs / (pssEvery * o.intervalMs)));
    const walkRounds = Math.max(1, Math.round(o.fdWalkMaxAgeMs / (socketsEvery * o.intervalMs)));
    const pssRound = Math.floor(idx / pssEvery);
    const walkRound = Math.floor(idx / socketsEvery);
    const stats: SampleStats = {
      processes: 0,
      vanished: 0,
      skipped: 0,
      detailed: 0,
      pssRead: 0,
      fdWalked: 0,
      durationMs: 0,
    };

    const host = this.readHost();
    const processes: ProcessSampleInput[] = [];
    const alive = new Set<number>();
    const st = this.stat;
    for (const pid of listPids(proc)) {
      const r = readPidStatFields(proc, pid, st);
      if (!r.ok) {
        if (r.failure.kind === 'malformed') stats.skipped++;
        else stats.vanished++;
        continue;
      }
      let s = this.seen.get(pid);
      let fresh = false;
      if (!s || s.start !== st.startTimeTicks || s.comm !== st.comm) {
        // First sight, a reused PID, or an exec (same pid and start, new comm): read the identity.
        const ident = this.identity(pid, st);
        if (ident === undefined) {
          stats.vanished++;
          continue;
        }
        if (s && s.start === st.startTimeTicks) {
          s.comm = st.comm;
          s.exe = ident.exe;
          s.argv = ident.argv;
        } else {
          s = ident;
          fresh = true;
        }
        this.seen.set(pid, s);
      }
      alive.add(pid);
      const ticks = st.utimeTicks + st.stimeTicks;
      const changed =
        fresh ||
        ticks !== s.ticks ||
        st.minorFaults !== s.minflt ||
        st.majorFaults !== s.majflt ||
        st.rssPages !== s.rssPages ||
        st.vszBytes !== s.vszBytes ||
        st.threads !== s.threads;
      s.ticks = ticks;
      s.minflt = st.minorFaults;
      s.majflt = st.majorFaults;
      s.rssPages = st.rssPages;
      s.vszBytes = st.vszBytes;
      s.threads = st.threads;
      if (!s.kthread && (full || changed || (idx + pid) % sweepEvery === 0)) {
        if (!this.detail(pid, s)) {
          this.seen.delete(pid);
          alive.delete(pid);
          stats.vanished++;
          continue;
        }
        stats.detailed++;
      }
      if (
        pssPass &&
        !s.kthread &&
        (full ||
          s.pssBytes === undefined ||
          s.pssAtRssPages !== st.rssPages ||
          (pssRound + pid) % pssRounds === 0)
      ) {
        const rr = readPidSmapsRollup(proc, pid);
        if (rr.ok) {
          s.pssBytes = rr.value.pssBytes;
          s.swapBytes = rr.value.swapBytes ?? s.swapBytes;
          s.pssAtRssPages = st.rssPages;
          stats.pssRead++;
        }
      }
      processes.push({
        pid,
        startTimeTicks: st.startTimeTicks,
        ppid: st.ppid,
        comm: st.comm,
        kernelThread: s.kthread,
        exe: s.exe,
        argv: s.argv,
        uid: s.uid,
        utimeTicks: st.utimeTicks,
        stimeTicks: st.stimeTicks,
        minorFaults: st.minorFaults,
        majorFaults: st.majorFaults,
        rssBytes: s.kthread ? undefined : st.rssPages * o.pageSizeBytes,
        anonBytes: s.anonBytes,
        swapBytes: s.swapBytes,
        pssBytes: s.pssBytes,
        vszBytes: st.vszBytes,
        threads: st.threads,
        fdCount: s.fdCount,
      });
    }
    for (const pid of this.seen.keys()) if (!alive.has(pid)) this.seen.delete(pid);

    let remotes: SampleInput['remotes'];
    if (socketPass) {
      const tables = readSocketTables(proc, {});
      for (const st of TCP_STATES)
        host[`st_${st.toLowerCase()}` as keyof HostSampleInput] = tables.states[st];
      remotes = {};
      for (const st of TCP_STATES) {
        if (st === 'LISTEN') continue;
        const top = topRemotes(tables.remotes.get(st), o.topRemotes);
        if (top.length > 0) remotes[st] = top;
      }
      const toWalk: number[] = [];
      for (const p of processes) {
        const s = this.seen.get(p.pid);
        if (!s || s.kthread) continue;
        if (
          full ||
          s.inodes === undefined ||
          s.inodesAtFdCount !== s.fdCount ||
          (walkRound + p.pid) % walkRounds === 0
        )
          toWalk.push(p.pid);
      }
      const walk = walkFds(proc, toWalk);
      stats.fdWalked = toWalk.length;
      for (const pid of toWalk) {
        const s = this.seen.get(pid);
        if (!s) continue;
        if (walk.denied.has(pid) || walk.vanished.has(pid)) {
          s.inodes = undefined;
          continue;
        }
        s.inodes = walk.socketsByPid.get(pid) ?? [];
        const n = walk.fdCounts.get(pid);
        if (n !== undefined) s.fdCount = n;
        s.inodesAtFdCount = s.fdCount;
      }
      for (const p of processes) {
        const s = this.seen.get(p.pid);
        if (!s || s.kthread || s.inodes === undefined) continue;
        p.fdCount = s.fdCount;
        p.sockets = classify(s.inodes, tables);
      }
    }

    host.processes = processes.length;
    stats.processes = processes.length;
    stats.durationMs = performance.now() - t0;
    this.lastStats = stats;
    return {
      tMs,
      bootId: this.bootId,
      host,
      remotes,
      processes,
      flags: (socketPass ? SAMPLE_FLAGS.sockets : 0) | (pssPass ? SAMPLE_FLAGS.pss : 0),
    };
  }

  private identity(pid: number, st: StatFields): Seen | undefined {
    const proc = this.o.procRoot;
    const kthread = isKernelThread(st);
    let exe: string | undefined;
    let argv: string[] | undefined;
    let uid: number | undefined;
    if (!kthread) {
      const c = readPidCmdline(proc, pid);
      if (!c.ok && c.failure.kind === 'gone') return undefined;
      argv = c.ok ? c.value : undefined;
      const l = readLink(`${proc}/${pid}/exe`, true);
      // A zombie has no exe (ENOENT) while it is still there: unknown, not gone.
      exe = l.ok ? l.target : undefined;
      const status = readPidStatus(proc, pid);
      if (status.ok) uid = status.value.uid?.effective;
    }
    return {
      start: st.startTimeTicks,
      comm: st.comm,
      kthread,
      exe,
      argv,
      uid,
      ticks: -1,
      minflt: -1,
      majflt: -1,
      rssPages: -1,
      vszBytes: -1,
      threads: -1,
      anonBytes: undefined,
      swapBytes: undefined,
      pssBytes: undefined,
      fdCount: undefined,
      pssAtRssPages: undefined,
      inodes: undefined,
      inodesAtFdCount: undefined,
    };
  }

  /** statm (anon) and the fd count; false when the process is gone. */
  private detail(pid: number, s: Seen): boolean {
    const proc = this.o.procRoot;
    const m = readPidStatm(proc, pid);
    if (!m.ok && m.failure.kind === 'gone') return false;
    if (m.ok) s.anonBytes = Math.max(0, m.value.residentPages - m.value.sharedPages) * this.o.pageSizeBytes;
    const f = countFds(proc, pid);
    if (!f.ok && f.failure.kind === 'gone') return false;
    s.fdCount = f.ok ? f.value : undefined;
    return true;
  }

  private readHost(): HostSampleInput {
    const p = this.o.procRoot;
    const st = readStat(p);
    const la = readLoadavg(p);
    const mem = readMeminfo(p);
    const ss = readSockstat(p);
    const ss6 = readSockstat6(p);
    let fileNr: number | undefined;
    try {
      fileNr = readFileNr(p).allocated;
    } catch {
      fileNr = undefined; // hidden in some containers
    }
    const kib = (b: number | undefined): number | undefined =>
      b === undefined ? undefined : Math.round(b / 1024);
    const x100 = (v: number): number => Math.round(v * 100);
    return {
      cpu_user_ticks: st.cpu.userTicks,
      cpu_nice_ticks: st.cpu.niceTicks,
      cpu_system_ticks: st.cpu.systemTicks,
      cpu_idle_ticks: st.cpu.idleTicks,
      cpu_iowait_ticks: st.cpu.iowaitTicks,
      cpu_irq_ticks: st.cpu.irqTicks,
      cpu_softirq_ticks: st.cpu.softirqTicks,
      cpu_steal_ticks: st.cpu.stealTicks,
      ctxt: st.contextSwitches,
      forks: st.forksSinceBoot,
      load1_x100: x100(la.load1),
      load5_x100: x100(la.load5),
      load15_x100: x100(la.load15),
      procs_running: st.procsRunning,
      procs_blocked: st.procsBlocked,
      processes: undefined,
      tasks: la.totalTasks,
      mem_total_kib: kib(mem.memTotalBytes),
      mem_available_kib: kib(mem.memAvailableBytes),
      mem_free_kib: kib(mem.memFreeBytes),
      cached_kib: kib(mem.cachedBytes),
      shmem_kib: kib(mem.shmemBytes),
      swap_total_kib: kib(mem.swapTotalBytes),
      swap_free_kib: kib(mem.swapFreeBytes),
      file_nr: fileNr,
      sockets_used: ss.socketsUsed,
      tcp_inuse: ss.tcp?.inuse,
      tcp_orphan: ss.tcp?.orphan,
      tcp_tw: ss.tcp?.tw,
      tcp_alloc: ss.tcp?.alloc,
      tcp_mem_pages: ss.tcp?.memPages,
      udp_inuse: ss.udp?.inuse,
      tcp6_inuse: ss6?.protocols['TCP6']?.['inuse'],
      udp6_inuse: ss6?.protocols['UDP6']?.['inuse'],
    };
  }
}

function classify(inodes: readonly number[], t: SocketTables): ProcessSocketsInput {
  const s: ProcessSocketsInput = { tcp: {}, udp: 0, unix: 0, other: 0 };
  for (const inode of inodes) {
    const st: TcpState | undefined = t.tcpStateByInode.get(inode);
    if (st !== undefined) s.tcp[st] = (s.tcp[st] ?? 0) + 1;
    else if (t.udpInodes.has(inode)) s.udp++;
    else if (t.unixInodes.has(inode)) s.unix++;
    else s.other++;
  }
  return s;
}
