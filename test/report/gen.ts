/**
 * A synthetic record written through the real RecordWriter: N processes over M samples, most of them
 * idle (as on a real host: an idle process writes no row), some busy, a few leaking memory, fds or
 * sockets, plus host series with a daily load cycle. Deterministic for a seed.
 */
import { RecordWriter, Store, type ProcessSampleInput, type SampleInput } from '../../src/store/index.js';
import { mulberry32 } from '../../src/detect/random.js';

export interface GenOptions {
  processes: number;
  samples: number;
  intervalMs: number;
  startMs?: number;
  seed?: number;
  bootId?: string;
  /** Share of processes that change something each sample (CPU, RSS). */
  activeShare?: number;
  /** PIDs (index + 1000) of leakers: memory, fds, CLOSE_WAIT sockets. */
  leakMem?: number;
  leakFds?: number;
  leakSockets?: number;
  /** Extra argv given to process index 0 (planting secrets in the record). */
  argv0?: string[];
  progress?: (done: number) => void;
}

export const GEN_BOOT = '5b0d3f6e-1111-4c2a-9a7e-222233334444';

export function generateRecord(
  path: string,
  o: GenOptions,
): { firstMs: number; lastMs: number; leakPids: number[] } {
  const rnd = mulberry32(o.seed ?? 7);
  const startMs = o.startMs ?? Date.now() - o.samples * o.intervalMs;
  const store = Store.open(path, { mode: 'write', check: false });
  const w = new RecordWriter(store, {
    pid: 4242,
    hostname: 'gen-host',
    version: '0.1.0',
    intervalMs: o.intervalMs,
    startedMs: startMs,
  });
  const active = o.activeShare ?? 0.1;
  const kinds = [
    'nginx',
    'php-fpm',
    'postgres',
    'java',
    'node',
    'redis-server',
    'sshd',
    'cron',
    'python3',
    'memcached',
  ];
  const procs: ProcessSampleInput[] = [];
  for (let i = 0; i < o.processes; i++) {
    const kind = kinds[i % kinds.length]!;
    const argv = i === 0 && o.argv0 ? o.argv0 : [`/usr/bin/${kind}`, '--worker', String(i % 7)];
    procs.push({
      pid: 1000 + i,
      startTimeTicks: 5000 + i,
      ppid: i < kinds.length ? 1 : 1000 + (i % kinds.length),
      comm: kind,
      kernelThread: false,
      exe: `/usr/bin/${kind}`,
      argv,
      uid: i % 3 === 0 ? 0 : 33,
      utimeTicks: Math.floor(rnd() * 10_000),
      stimeTicks: Math.floor(rnd() * 5000),
      minorFaults: 100,
      majorFaults: 0,
      rssBytes: Math.floor(4 + rnd() * 200) * 1024 * 1024,
      anonBytes: Math.floor(2 + rnd() * 100) * 1024 * 1024,
      swapBytes: 0,
      pssBytes: Math.floor(2 + rnd() * 150) * 1024 * 1024,
      vszBytes: 800 * 1024 * 1024,
      threads: 1 + (i % 8),
      fdCount: 8 + (i % 40),
      sockets: { tcp: { ESTABLISHED: i % 5, LISTEN: i < kinds.length ? 1 : 0 }, udp: 0, unix: 2, other: 0 },
    });
  }
  const bases = procs.map((p) => p.rssBytes ?? 0);
  const leakMem = o.leakMem ?? Math.min(3, o.processes);
  const leakFds = o.leakFds ?? Math.min(4, o.processes);
  const leakSock = o.leakSockets ?? Math.min(5, o.processes);
  const leakPids = [leakMem, leakFds, leakSock].map((i) => 1000 + i).filter((p) => p < 1000 + o.processes);
  const host = { user: 1e6, sys: 4e5, idle: 8e6, iowait: 1e4, ctxt: 1e8 };
  for (let s = 0; s < o.samples; s++) {
    const tMs = startMs + s * o.intervalMs;
    const day = Math.sin((tMs / 86_400_000) * 2 * Math.PI);
    // A CPU spike in the middle of the record, burnt by process index 1 (below).
    const spiking = s > o.samples / 2 && s < o.samples / 2 + Math.max(5, o.samples / 100);
    const busy = 0.25 + 0.15 * day + rnd() * 0.1 + (spiking ? 0.4 : 0);
    const ticks = (o.intervalMs / 10) * 2;
    host.user += ticks * busy * 0.7;
    host.sys += ticks * busy * 0.3;
    host.idle += ticks * (1 - busy);
    host.iowait += ticks * 0.01;
    host.ctxt += 5000;
    for (let i = 0; i < procs.length; i++) {
      const p = procs[i]!;
      if (rnd() < active) {
        p.utimeTicks += Math.floor(rnd() * ticks * 0.05);
        p.stimeTicks += Math.floor(rnd() * ticks * 0.02);
        // Mean-reverting noise around the process's base size: busy, not leaking.
        const base = bases[i] ?? 0;
        p.rssBytes = base + Math.floor((rnd() - 0.5) * 256) * 4096;
      }
    }
    const lm = procs[leakMem];
    if (lm) {
      lm.rssBytes = (200 << 20) + s * 40_960 + Math.floor(rnd() * 2e6);
      lm.anonBytes = (150 << 20) + s * 40_960;
      lm.utimeTicks += 3;
    }
    const lf = procs[leakFds];
    if (lf) lf.fdCount = 20 + Math.floor(s / 3) + (rnd() < 0.3 ? 1 : 0);
    const ls = procs[leakSock];
    if (ls)
      ls.sockets = {
        tcp: { ESTABLISHED: 10, CLOSE_WAIT: Math.floor(s / 4), LISTEN: 1 },
        udp: 0,
        unix: 1,
        other: 0,
      };
    if (s % 30 === 0) for (const p of procs) p.pssBytes = Math.floor((p.rssBytes ?? 0) * 0.7);
    if (spiking && procs[1]) procs[1].utimeTicks += Math.round(ticks * 0.4);
    const socketPass = s % 6 === 0;
    const sample: SampleInput = {
      tMs,
      bootId: o.bootId ?? GEN_BOOT,
      host: {
        cpu_user_ticks: Math.round(host.user),
        cpu_nice_ticks: 0,
        cpu_system_ticks: Math.round(host.sys),
        cpu_idle_ticks: Math.round(host.idle),
        cpu_iowait_ticks: Math.round(host.iowait),
        cpu_irq_ticks: 0,
        cpu_softirq_ticks: 100,
        cpu_steal_ticks: 0,
        ctxt: Math.round(host.ctxt),
        forks: 1000 + s,
        load1_x100: Math.round(busy * 200 * 100) / 100 + Math.round(rnd() * 30),
        load5_x100: Math.round(busy * 200),
        load15_x100: Math.round(busy * 190),
        procs_running: 1 + Math.floor(rnd() * 3),
        procs_blocked: 0,
        processes: o.processes,
        tasks: o.processes * 2,
        mem_total_kib: 8 * 1024 * 1024,
        mem_available_kib: Math.round(5 * 1024 * 1024 - s * 10 - day * 200_000),
        mem_free_kib: 1024 * 1024,
        cached_kib: 2 * 1024 * 1024,
        shmem_kib: 100_000,
        swap_total_kib: 1024 * 1024,
        swap_free_kib: 1024 * 1024,
        file_nr: 9000 + Math.floor(s / 3),
        sockets_used: 2000 + Math.floor(s / 4),
        tcp_inuse: 800,
        tcp_orphan: 0,
        tcp_tw: 300 + Math.round(100 * day),
        tcp_alloc: 900,
        tcp_mem_pages: 500,
        udp_inuse: 10,
        tcp6_inuse: 20,
        udp6_inuse: 2,
        ...(socketPass
          ? {
              st_established: 700 + Math.round(rnd() * 50),
              st_listen: 12,
              st_time_wait: 300 + Math.round(100 * day),
              st_close_wait: Math.floor(s / 4),
              st_syn_recv: 0,
              st_fin_wait2: 3,
            }
          : {}),
      },
      remotes: socketPass
        ? {
            ESTABLISHED: [
              { address: '10.0.0.12', count: 400 },
              { address: '10.0.0.13', count: 250 },
              { address: '192.168.1.7', count: 50 },
            ],
            CLOSE_WAIT: [{ address: '10.0.9.9', count: Math.floor(s / 4) }],
            TIME_WAIT: [{ address: '10.0.0.12', count: 300 }],
          }
        : undefined,
      processes: procs,
      self: { durationMs: 20 + rnd() * 5, cpuMs: s * 2, rssBytes: 60 << 20 },
      flags: socketPass ? 1 : 0,
    };
    w.append(sample);
    if (o.progress && s % 1000 === 0) o.progress(s);
  }
  w.endRun(startMs + (o.samples - 1) * o.intervalMs);
  store.close();
  return { firstMs: startMs, lastMs: startMs + (o.samples - 1) * o.intervalMs, leakPids };
}
