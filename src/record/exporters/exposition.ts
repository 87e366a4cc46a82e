/**
 * What the recorder exports to Prometheus, and the text exposition format it is served in.
 * Format: https://prometheus.io/docs/instrumenting/exposition_formats/ (text format 0.0.4):
 *
 *   # HELP procsleuth_group_resident_bytes Resident memory of the group's processes (RSS).
 *   # TYPE procsleuth_group_resident_bytes gauge
 *   procsleuth_group_resident_bytes{node="web-1",group="/usr/sbin/nginx -g daemon off;"} 1.2e+07
 *
 * ## Label scheme (cardinality is bounded per node, whatever runs on it)
 * Every series has `node` (`--node`, default the hostname). Beyond that:
 * - host series: no other label but a small fixed enum (`mode` of CPU time, `state` of TCP sockets).
 * - per-group series: `group` = the executable and its normalised arguments (collect/group.ts: numbers,
 *   long hex ids and UUIDs become '#'), so twelve workers of one daemon, across restarts and PIDs, are
 *   one series. Kernel threads are grouped by name without the per-CPU or per-workqueue suffix
 *   (`[kworker]`, `[ksoftirqd]`). At most `maxGroups` groups (default 64) are exported; the rest are
 *   summed into `group="_other"` so host totals still add up. Which groups: at start, the largest by
 *   their share of the host's process CPU, RSS, fds or sockets; later, a group that is not exported
 *   takes the place of the weakest exported one only when its share is more than twice as large and
 *   the weakest has been exported for at least `minResidencyMs` (10 min) — a burst does not reshuffle
 *   the set, a runaway still gets its own series within one sample. A group absent for `groupTtlMs`
 *   (10 min) leaves the set. Counters (`*_total`) of a group add the increases of its processes since
 *   the previous sample, so they stay monotonic when processes come and go (the CPU a process spent
 *   between its last sample and its exit is not counted).
 *   A label longer than 200 characters is cut and ends with a hash of the whole, so two groups never
 *   collide into one series.
 * - top-N processes: per resource (cpu, resident, anon, pss, swap, fds, threads, sockets) the N largest
 *   processes (default 5) as `procsleuth_top_<resource>{rank="1".."N"}` — the rank, never the PID, is
 *   the series identity, so these series are as stable as the host series. Who holds a rank is in
 *   `procsleuth_top_process_info{resource,rank,pid,comm,group} 1`, which changes only when the holder
 *   changes; join with `* on(node,rank) group_left(pid,comm,group) procsleuth_top_process_info{resource="…"}`.
 * - recorder health: `procsleuth_recorder_*` — duration and success of each source of the last sample
 *   (`source` is a fixed enum), processes that vanished or were malformed while read (partial reads),
 *   samples written and dropped, the recorder's own CPU and RSS, and the number of series exported.
 * So a node exports about 45 host + 10–16 per exported group + 2 × 8 × N top-N + ~20 recorder series,
 * never a series per PID. Measured on a 2-vCPU VM: ~400 series (56 KB of text, 5.5 KB gzipped per
 * scrape) with 90 processes in 60 groups; ~700 series (80 KB, 5.4 KB gzipped) with 1,070 processes in
 * 560 groups, of which 64 exported and the rest in `_other`.
 *
 * Unknown is not zero: a series whose value is unknown (PSS not read yet, a denied fd count, sockets
 * not counted yet) is left out rather than exported as 0.
 */
import { createHash } from 'node:crypto';
import { groupKey, groupLabel } from '../../collect/group.js';
import { USER_HZ } from '../../procfs/pid-stat.js';
import { TCP_STATES } from '../../collect/types.js';
import type { SampleStats } from '../sampler.js';
import type { ProcessSampleInput, ProcessSocketsInput, SampleInput } from '../../store/index.js';

export type Label = readonly [name: string, value: string];

export interface Series {
  /** Without `node`: it is added when rendered or encoded. */
  labels: readonly Label[];
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  series: Series[];
}

/** One source of a sample (the sampler's read, the store's write, a send to the remote-write receiver). */
export interface SourceHealth {
  source: string;
  durationMs: number | undefined;
  ok: boolean;
}

/** What the recorder knows about its own last sample. */
export interface RecorderHealth {
  intervalMs: number;
  stats: SampleStats | undefined;
  sources: SourceHealth[];
  samplesWritten: number;
  samplesDropped: number;
  self: { cpuMs: number; rssBytes: number } | undefined;
}

/** Health of the remote-write sender, exported with each sample when it runs. */
export interface RemoteWriteHealth {
  samplesSent: number;
  samplesRejected: number;
  samplesDropped: number;
  failures: number;
  bufferBytes: number;
  bufferSamples: number;
  lastSend: SourceHealth | undefined;
}

export interface ExportOptions {
  maxGroups?: number;
  topN?: number;
  minResidencyMs?: number;
  groupTtlMs?: number;
  clockTicksPerSecond?: number;
}

export const OTHER_GROUP = '_other';
const MAX_LABEL = 200;

/** Per-process state kept between samples: what its counters were, which group it was counted in. */
interface ProcState {
  start: number;
  comm: string;
  exe: string | undefined;
  group: string;
  utime: number;
  stime: number;
  majflt: number;
  /** Socket counts by kind from the last socket pass, and their total. */
  sockets: Map<string, number> | undefined;
  socketTotal: number | undefined;
}

/** Per-group cumulative counters (ticks and faults) and set membership. */
interface GroupState {
  utime: number;
  stime: number;
  majflt: number;
  lastSeenMs: number;
  /** Socket kinds seen non-zero once: exported from then on, zeros included, so the series is continuous. */
  socketKinds: Set<string>;
}

interface Agg {
  processes: number;
  threads: number;
  du: number;
  ds: number;
  dmaj: number;
  rss: number | undefined;
  anon: number | undefined;
  pss: number | undefined;
  swap: number | undefined;
  fds: number | undefined;
  sockets: Map<string, number> | undefined;
}

const SOCKET_KINDS = ['tcp_established', 'tcp_close_wait', 'tcp_listen', 'tcp_other', 'udp', 'unix', 'other'];

/** Builds the families of one sample; keeps what it needs between samples (counters, group set). */
export class ExportModel {
  private readonly o: Required<ExportOptions>;
  private readonly procs = new Map<number, ProcState>();
  private readonly groups = new Map<string, GroupState>();
  /** Exported groups and since when. */
  private readonly selected = new Map<string, number>();
  private readonly other: GroupState = newGroup(0);
  private prevTMs: number | undefined;
  private hostTcp: Partial<Record<string, number>> = {};
  private readonly labelCache = new Map<string, string>();

  constructor(o: ExportOptions = {}) {
    this.o = {
      maxGroups: 64,
      topN: 5,
      minResidencyMs: 600_000,
      groupTtlMs: 600_000,
      clockTicksPerSecond: USER_HZ,
      ...o,
    };
  }

  update(input: SampleInput, health?: RecorderHealth, rw?: RemoteWriteHealth): Family[] {
    const hz = this.o.clockTicksPerSecond;
    const first = this.prevTMs === undefined;
    const dtSec = first ? undefined : Math.max(0.001, (input.tMs - (this.prevTMs ?? 0)) / 1000);
    this.prevTMs = input.tMs;

    const aggs = new Map<string, Agg>();
    const alive = new Set<number>();
    const top: TopRow[] = [];
    for (const p of input.processes) {
      alive.add(p.pid);
      let st = this.procs.get(p.pid);
      if (!st || st.start !== p.startTimeTicks) {
        // A process first seen after our first sample was born since the previous one: all its CPU
        // falls in this interval. One seen in our first sample is a baseline only.
        st = {
          start: p.startTimeTicks,
          comm: p.comm,
          exe: p.exe,
          group: this.groupOf(p),
          utime: first ? p.utimeTicks : 0,
          stime: first ? p.stimeTicks : 0,
          majflt: first ? p.majorFaults : 0,
          sockets: undefined,
          socketTotal: undefined,
        };
        this.procs.set(p.pid, st);
      } else if (st.comm !== p.comm || st.exe !== p.exe) {
        st.comm = p.comm; // an exec: from now on it counts in its new group
        st.exe = p.exe;
        st.group = this.groupOf(p);
      }
      const du = Math.max(0, p.utimeTicks - st.utime);
      const ds = Math.max(0, p.stimeTicks - st.stime);
      const dmaj = Math.max(0, p.majorFaults - st.majflt);
      st.utime = p.utimeTicks;
      st.stime = p.stimeTicks;
      st.majflt = p.majorFaults;
      if (p.sockets) {
        st.sockets = socketKinds(p.sockets);
        st.socketTotal = 0;
        for (const v of st.sockets.values()) st.socketTotal += v;
      }

      let a = aggs.get(st.group);
      if (!a) {
        a = emptyAgg();
        aggs.set(st.group, a);
      }
      a.processes++;
      a.threads += p.threads ?? 0;
      a.du += du;
      a.ds += ds;
      a.dmaj += dmaj;
      a.rss = add(a.rss, p.rssBytes);
      a.anon = add(a.anon, p.anonBytes);
      a.pss = add(a.pss, p.pssBytes);
      a.swap = add(a.swap, p.swapBytes);
      a.fds = add(a.fds, p.fdCount);
      const sk = st.sockets;
      if (sk) {
        a.sockets ??= new Map();
        for (const [k, v] of sk) a.sockets.set(k, (a.sockets.get(k) ?? 0) + v);
      }
      top.push({
        p,
        group: st.group,
        cpu: dtSec === undefined ? undefined : (du + ds) / hz / dtSec,
        sockets: st.socketTotal,
      });
    }
    for (const pid of this.procs.keys()) if (!alive.has(pid)) this.procs.delete(pid);

    this.select(aggs, input.tMs);

    // Fold: exported groups keep their own series, the rest go to _other.
    const out = new Map<string, { agg: Agg; state: GroupState }>();
    const otherAgg = emptyAgg();
    let folded = 0;
    for (const [g, a] of aggs) {
      let gs = this.groups.get(g);
      if (!gs) {
        gs = newGroup(input.tMs);
        this.groups.set(g, gs);
      }
      gs.lastSeenMs = input.tMs;
      gs.utime += a.du;
      gs.stime += a.ds;
      gs.majflt += a.dmaj;
      if (this.selected.has(g)) out.set(g, { agg: a, state: gs });
      else {
        folded++;
        mergeAgg(otherAgg, a);
      }
    }
    for (const [g, gs] of this.groups)
      if (!aggs.has(g) && !this.selected.has(g) && input.tMs - gs.lastSeenMs > this.o.groupTtlMs)
        this.groups.delete(g);
    this.other.utime += otherAgg.du;
    this.other.stime += otherAgg.ds;
    this.other.majflt += otherAgg.dmaj;
    if (otherAgg.processes > 0) out.set(OTHER_GROUP, { agg: otherAgg, state: this.other });

    const families: Family[] = [];
    this.hostFamilies(input, families);
    this.groupFamilies(out, families);
    this.topFamilies(top, families);
    if (health) healthFamilies(health, folded, families);
    if (rw) remoteWriteFamilies(rw, families);
    if (health) {
      let n = 1;
      for (const f of families) n += f.series.length;
      families.push(
        fam(
          'procsleuth_recorder_exported_series',
          'Series exported for this sample, this one included.',
          'gauge',
          [s([], n)],
        ),
      );
    }
    return families;
  }

  private groupOf(p: ProcessSampleInput): string {
    if (p.kernelThread) return `[${kthreadName(p.comm)}]`;
    const key = groupKey({ exe: p.exe, argv: p.argv ?? [], comm: p.comm, kernelThread: false });
    let label = this.labelCache.get(key);
    if (label === undefined) {
      label = boundLabel(groupLabel(key));
      if (label === OTHER_GROUP) label = `./${OTHER_GROUP}`;
      if (this.labelCache.size > 10_000) this.labelCache.clear();
      this.labelCache.set(key, label);
    }
    return label;
  }

  /** Which groups get series of their own (see the header). */
  private select(aggs: Map<string, Agg>, tMs: number): void {
    const total = emptyAgg();
    for (const a of aggs.values()) mergeAgg(total, a);
    const share = (x: number | undefined, t: number | undefined): number =>
      x === undefined || t === undefined || t <= 0 ? 0 : x / t;
    const totalSockets = sumMap(total.sockets);
    const score = (g: string): number => {
      const a = aggs.get(g);
      if (!a) return 0;
      return Math.max(
        share(a.du + a.ds, total.du + total.ds),
        share(a.rss, total.rss),
        share(a.fds, total.fds),
        share(sumMap(a.sockets), totalSockets),
      );
    };
    for (const [g] of this.selected) {
      const gs = this.groups.get(g);
      if (!aggs.has(g) && (!gs || tMs - gs.lastSeenMs > this.o.groupTtlMs)) this.selected.delete(g);
    }
    const candidates = [...aggs.keys()]
      .filter((g) => !this.selected.has(g))
      .map((g) => ({ g, score: score(g) }))
      .sort((x, y) => y.score - x.score || (x.g < y.g ? -1 : 1));
    let weakest: { g: string; score: number }[] | undefined;
    for (const c of candidates) {
      if (this.selected.size < this.o.maxGroups) {
        this.selected.set(c.g, tMs);
        continue;
      }
      weakest ??= [...this.selected]
        .filter(([, since]) => tMs - since >= this.o.minResidencyMs)
        .map(([g]) => ({ g, score: score(g) }))
        .sort((x, y) => x.score - y.score);
      const w = weakest[0];
      if (!w || c.score <= 2 * w.score || c.score === 0) break;
      weakest.shift();
      this.selected.delete(w.g);
      this.selected.set(c.g, tMs);
    }
  }

  private hostFamilies(input: SampleInput, out: Family[]): void {
    const h = input.host;
    const hz = this.o.clockTicksPerSecond;
    const modes = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
    const cpu: Series[] = [];
    for (const m of modes) {
      const v = h[`cpu_${m}_ticks`];
      if (v !== undefined) cpu.push(s([['mode', m]], v / hz));
    }
    out.push(
      fam('procsleuth_host_cpu_seconds_total', 'CPU time of all cores by mode (/proc/stat).', 'counter', cpu),
    );
    const one = (
      name: string,
      help: string,
      type: Family['type'],
      v: number | undefined,
      scale = 1,
    ): void => {
      if (v !== undefined) out.push(fam(name, help, type, [s([], v * scale)]));
    };
    one('procsleuth_host_context_switches_total', 'Context switches since boot.', 'counter', h.ctxt);
    one('procsleuth_host_forks_total', 'Processes and threads created since boot.', 'counter', h.forks);
    one('procsleuth_host_load1', 'Load average over 1 minute.', 'gauge', h.load1_x100, 0.01);
    one('procsleuth_host_load5', 'Load average over 5 minutes.', 'gauge', h.load5_x100, 0.01);
    one('procsleuth_host_load15', 'Load average over 15 minutes.', 'gauge', h.load15_x100, 0.01);
    one('procsleuth_host_procs_running', 'Tasks runnable now.', 'gauge', h.procs_running);
    one('procsleuth_host_procs_blocked', 'Tasks blocked on I/O now.', 'gauge', h.procs_blocked);
    one('procsleuth_host_processes', 'Processes (not threads) alive.', 'gauge', h.processes);
    one('procsleuth_host_tasks', 'Tasks (threads included) alive.', 'gauge', h.tasks);
    const kib = 1024;
    one('procsleuth_host_memory_total_bytes', 'MemTotal.', 'gauge', h.mem_total_kib, kib);
    one('procsleuth_host_memory_available_bytes', 'MemAvailable.', 'gauge', h.mem_available_kib, kib);
    one('procsleuth_host_memory_free_bytes', 'MemFree.', 'gauge', h.mem_free_kib, kib);
    one('procsleuth_host_memory_cached_bytes', 'Cached (page cache).', 'gauge', h.cached_kib, kib);
    one('procsleuth_host_memory_shmem_bytes', 'Shmem (tmpfs and shared memory).', 'gauge', h.shmem_kib, kib);
    one('procsleuth_host_swap_total_bytes', 'SwapTotal.', 'gauge', h.swap_total_kib, kib);
    one('procsleuth_host_swap_free_bytes', 'SwapFree.', 'gauge', h.swap_free_kib, kib);
    one(
      'procsleuth_host_file_handles_allocated',
      'Open file handles (/proc/sys/fs/file-nr).',
      'gauge',
      h.file_nr,
    );
    one('procsleuth_host_sockets_used', 'Sockets in use (/proc/net/sockstat).', 'gauge', h.sockets_used);
    one('procsleuth_host_tcp_inuse', 'TCP sockets in use, IPv4 (sockstat).', 'gauge', h.tcp_inuse);
    one('procsleuth_host_tcp6_inuse', 'TCP sockets in use, IPv6 (sockstat6).', 'gauge', h.tcp6_inuse);
    one('procsleuth_host_tcp_orphan', 'Orphaned TCP sockets (sockstat).', 'gauge', h.tcp_orphan);
    one('procsleuth_host_tcp_time_wait', 'TCP sockets in TIME_WAIT (sockstat).', 'gauge', h.tcp_tw);
    one('procsleuth_host_tcp_alloc', 'TCP sockets allocated (sockstat).', 'gauge', h.tcp_alloc);
    one(
      'procsleuth_host_tcp_memory_pages',
      'Pages used by TCP buffers (sockstat mem).',
      'gauge',
      h.tcp_mem_pages,
    );
    one('procsleuth_host_udp_inuse', 'UDP sockets in use, IPv4 (sockstat).', 'gauge', h.udp_inuse);
    one('procsleuth_host_udp6_inuse', 'UDP sockets in use, IPv6 (sockstat6).', 'gauge', h.udp6_inuse);
    // TCP states come from the socket pass only: carry the last count between passes.
    for (const st of TCP_STATES) {
      const v = h[`st_${st.toLowerCase()}` as keyof typeof h];
      if (v !== undefined) this.hostTcp[st] = v;
    }
    const tcp: Series[] = [];
    for (const st of TCP_STATES) {
      const v = this.hostTcp[st];
      if (v !== undefined) tcp.push(s([['state', st]], v));
    }
    out.push(
      fam(
        'procsleuth_host_tcp_sockets',
        'TCP sockets by state, IPv4 and IPv6 (/proc/net/tcp{,6}).',
        'gauge',
        tcp,
      ),
    );
  }

  private groupFamilies(groups: Map<string, { agg: Agg; state: GroupState }>, out: Family[]): void {
    const hz = this.o.clockTicksPerSecond;
    const f = {
      processes: fam('procsleuth_group_processes', 'Processes in the group.', 'gauge'),
      threads: fam('procsleuth_group_threads', 'Threads of the group.', 'gauge'),
      cpu: fam(
        'procsleuth_group_cpu_seconds_total',
        "CPU time of the group's processes by mode, counted while they were sampled.",
        'counter',
      ),
      maj: fam('procsleuth_group_major_faults_total', 'Major page faults of the group.', 'counter'),
      rss: fam('procsleuth_group_resident_bytes', "Resident memory (RSS) of the group's processes.", 'gauge'),
      anon: fam(
        'procsleuth_group_anon_bytes',
        'Anonymous resident memory (RSS minus shared) of the group.',
        'gauge',
      ),
      pss: fam('procsleuth_group_pss_bytes', 'Proportional set size of the group (smaps_rollup).', 'gauge'),
      swap: fam('procsleuth_group_swap_bytes', 'Swapped-out memory of the group.', 'gauge'),
      fds: fam('procsleuth_group_fds', 'Open file descriptors of the group.', 'gauge'),
      sockets: fam(
        'procsleuth_group_sockets',
        'Sockets the group holds, by kind (last socket pass).',
        'gauge',
      ),
    };
    const sorted = [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [g, { agg: a, state }] of sorted) {
      const l: Label[] = [['group', g]];
      f.processes.series.push(s(l, a.processes));
      f.threads.series.push(s(l, a.threads));
      f.cpu.series.push(s([...l, ['mode', 'user']], state.utime / hz));
      f.cpu.series.push(s([...l, ['mode', 'system']], state.stime / hz));
      f.maj.series.push(s(l, state.majflt));
      if (a.rss !== undefined) f.rss.series.push(s(l, a.rss));
      if (a.anon !== undefined) f.anon.series.push(s(l, a.anon));
      if (a.pss !== undefined) f.pss.series.push(s(l, a.pss));
      if (a.swap !== undefined) f.swap.series.push(s(l, a.swap));
      if (a.fds !== undefined) f.fds.series.push(s(l, a.fds));
      if (a.sockets) {
        for (const [k, v] of a.sockets) if (v > 0) state.socketKinds.add(k);
        for (const k of SOCKET_KINDS)
          if (state.socketKinds.has(k)) f.sockets.series.push(s([...l, ['kind', k]], a.sockets.get(k) ?? 0));
      }
    }
    out.push(...Object.values(f));
  }

  private topFamilies(rows: TopRow[], out: Family[]): void {
    const n = this.o.topN;
    if (n <= 0) return;
    const info = fam(
      'procsleuth_top_process_info',
      'Which process holds each rank of each procsleuth_top_* series (value is always 1).',
      'gauge',
    );
    for (const r of TOP_RESOURCES) {
      // One pass keeping the N largest (N is small): no sort of every process per resource.
      const ranked: { row: TopRow; v: number }[] = [];
      for (const row of rows) {
        const v = r.value(row);
        if (v === undefined || !(v > 0)) continue;
        const last = ranked[ranked.length - 1];
        if (ranked.length === n && last && !beats(v, row, last)) continue;
        let i = ranked.length;
        while (i > 0) {
          const prev = ranked[i - 1];
          if (!prev || !beats(v, row, prev)) break;
          i--;
        }
        ranked.splice(i, 0, { row, v });
        if (ranked.length > n) ranked.pop();
      }
      const f = fam(r.name, r.help, 'gauge');
      ranked.forEach(({ row, v }, i) => {
        const rank = String(i + 1);
        f.series.push(s([['rank', rank]], v));
        info.series.push(
          s(
            [
              ['resource', r.resource],
              ['rank', rank],
              ['pid', String(row.p.pid)],
              ['comm', row.p.comm],
              ['group', row.group],
            ],
            1,
          ),
        );
      });
      out.push(f);
    }
    out.push(info);
  }
}

/** Larger first; equal values by smaller PID, so ranks do not flap between equals. */
function beats(v: number, row: TopRow, other: { row: TopRow; v: number }): boolean {
  return v > other.v || (v === other.v && row.p.pid < other.row.p.pid);
}

interface TopRow {
  p: ProcessSampleInput;
  group: string;
  cpu: number | undefined;
  sockets: number | undefined;
}

const TOP_RESOURCES: {
  resource: string;
  name: string;
  help: string;
  value: (r: TopRow) => number | undefined;
}[] = [
  {
    resource: 'cpu',
    name: 'procsleuth_top_cpu_ratio',
    help: 'CPU of the Nth busiest process over the last interval (1 = one core).',
    value: (r) => r.cpu,
  },
  {
    resource: 'resident',
    name: 'procsleuth_top_resident_bytes',
    help: 'RSS of the Nth largest process.',
    value: (r) => r.p.rssBytes,
  },
  {
    resource: 'anon',
    name: 'procsleuth_top_anon_bytes',
    help: 'Anonymous resident memory of the Nth largest process.',
    value: (r) => r.p.anonBytes,
  },
  {
    resource: 'pss',
    name: 'procsleuth_top_pss_bytes',
    help: 'PSS of the Nth largest process.',
    value: (r) => r.p.pssBytes,
  },
  {
    resource: 'swap',
    name: 'procsleuth_top_swap_bytes',
    help: 'Swap of the Nth most swapped-out process.',
    value: (r) => r.p.swapBytes,
  },
  {
    resource: 'fds',
    name: 'procsleuth_top_fds',
    help: 'Open file descriptors of the Nth process.',
    value: (r) => r.p.fdCount,
  },
  {
    resource: 'threads',
    name: 'procsleuth_top_threads',
    help: 'Threads of the Nth process.',
    value: (r) => r.p.threads,
  },
  {
    resource: 'sockets',
    name: 'procsleuth_top_sockets',
    help: 'Sockets held by the Nth process (last socket pass).',
    value: (r) => r.sockets,
  },
];

function healthFamilies(h: RecorderHealth, folded: number, out: Family[]): void {
  const dur: Series[] = [];
  const ok: Series[] = [];
  for (const src of h.sources) {
    if (src.durationMs !== undefined) dur.push(s([['source', src.source]], src.durationMs / 1000));
    ok.push(s([['source', src.source]], src.ok ? 1 : 0));
  }
  out.push(
    fam(
      'procsleuth_recorder_source_duration_seconds',
      'How long each source of the last sample took.',
      'gauge',
      dur,
    ),
    fam(
      'procsleuth_recorder_source_success',
      'Whether each source of the last sample succeeded (1) or not (0).',
      'gauge',
      ok,
    ),
    fam('procsleuth_recorder_interval_seconds', 'The sampling interval.', 'gauge', [
      s([], h.intervalMs / 1000),
    ]),
    fam('procsleuth_recorder_samples_total', 'Samples taken, by whether the store kept them.', 'counter', [
      s([['result', 'written']], h.samplesWritten),
      s([['result', 'dropped']], h.samplesDropped),
    ]),
    fam(
      'procsleuth_recorder_groups_folded',
      `Groups summed into group="${OTHER_GROUP}" by the cardinality bound.`,
      'gauge',
      [s([], folded)],
    ),
  );
  if (h.stats)
    out.push(
      fam(
        'procsleuth_recorder_processes',
        'Processes of the last sample: read, vanished while read, skipped as malformed (partial reads).',
        'gauge',
        [
          s([['result', 'read']], h.stats.processes),
          s([['result', 'vanished']], h.stats.vanished),
          s([['result', 'malformed']], h.stats.skipped),
        ],
      ),
    );
  if (h.self)
    out.push(
      fam('procsleuth_recorder_cpu_seconds_total', "The recorder's own CPU time.", 'counter', [
        s([], h.self.cpuMs / 1000),
      ]),
      fam('procsleuth_recorder_resident_bytes', "The recorder's own RSS.", 'gauge', [s([], h.self.rssBytes)]),
    );
}

function remoteWriteFamilies(rw: RemoteWriteHealth, out: Family[]): void {
  out.push(
    fam('procsleuth_remote_write_samples_total', 'Samples handed to remote write, by outcome.', 'counter', [
      s([['result', 'sent']], rw.samplesSent),
      s([['result', 'rejected']], rw.samplesRejected),
      s([['result', 'dropped']], rw.samplesDropped),
    ]),
    fam('procsleuth_remote_write_failures_total', 'Sends that failed and were retried.', 'counter', [
      s([], rw.failures),
    ]),
    fam('procsleuth_remote_write_buffer_bytes', 'Bytes waiting in the on-disk buffer.', 'gauge', [
      s([], rw.bufferBytes),
    ]),
    fam('procsleuth_remote_write_buffer_samples', 'Samples waiting in the on-disk buffer.', 'gauge', [
      s([], rw.bufferSamples),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------------
// Text exposition

/** Label values escape backslash, double quote and newline (and nothing else). */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text escapes backslash and newline. */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** Go's float formatting as Prometheus parses it: NaN, +Inf, -Inf, else the shortest round-trip. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The text format, `node` first on every series. Families without series are left out. */
export function renderText(families: readonly Family[], node: string): string {
  const parts: string[] = [];
  const nodeLabel = `node="${escapeLabelValue(node)}"`;
  for (const f of families) {
    if (f.series.length === 0) continue;
    if (!NAME.test(f.name)) throw new Error(`invalid metric name ${JSON.stringify(f.name)}`);
    parts.push(`# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`);
    for (const x of f.series) {
      let labels = nodeLabel;
      for (const [k, v] of x.labels) {
        if (!LABEL_NAME.test(k) || k.startsWith('__'))
          throw new Error(`invalid label name ${JSON.stringify(k)}`);
        labels += `,${k}="${escapeLabelValue(v)}"`;
      }
      parts.push(`${f.name}{${labels}} ${formatValue(x.value)}\n`);
    }
  }
  return parts.join('');
}

export function countSeries(families: readonly Family[]): number {
  let n = 0;
  for (const f of families) n += f.series.length;
  return n;
}

// ---------------------------------------------------------------------------------------------------

/** `kworker/u8:2-events_unbound` → `kworker`, `ksoftirqd/1` → `ksoftirqd`, `jbd2/sda1-8` → `jbd2`. */
export function kthreadName(comm: string): string {
  const base = comm.split(/[/:-]/)[0] ?? '';
  return base === '' ? comm : base;
}

/** Cut to MAX_LABEL characters, ending in a hash of the whole so two long labels never collide. */
export function boundLabel(v: string, max = MAX_LABEL): string {
  const chars = [...v];
  if (chars.length <= max) return v;
  const h = createHash('sha1').update(v).digest('hex').slice(0, 8);
  return `${chars.slice(0, max - 10).join('')}…#${h}`;
}

function socketKinds(x: ProcessSocketsInput): Map<string, number> {
  const m = new Map<string, number>();
  let tcpOther = 0;
  for (const [st, n] of Object.entries(x.tcp)) {
    if (n === undefined) continue;
    if (st === 'ESTABLISHED') m.set('tcp_established', n);
    else if (st === 'CLOSE_WAIT') m.set('tcp_close_wait', n);
    else if (st === 'LISTEN') m.set('tcp_listen', n);
    else tcpOther += n;
  }
  m.set('tcp_other', tcpOther);
  m.set('udp', x.udp);
  m.set('unix', x.unix);
  m.set('other', x.other);
  return m;
}

function fam(name: string, help: string, type: Family['type'], series: Series[] = []): Family {
  return { name, help, type, series };
}

function s(labels: readonly Label[], value: number): Series {
  return { labels, value };
}

function add(a: number | undefined, b: number | undefined): number | undefined {
  return b === undefined ? a : (a ?? 0) + b;
}

function sumMap(m: Map<string, number> | undefined): number | undefined {
  if (!m) return undefined;
  let t = 0;
  for (const v of m.values()) t += v;
  return t;
}

function emptyAgg(): Agg {
  return {
    processes: 0,
    threads: 0,
    du: 0,
    ds: 0,
    dmaj: 0,
    rss: undefined,
    anon: undefined,
    pss: undefined,
    swap: undefined,
    fds: undefined,
    sockets: undefined,
  };
}

function mergeAgg(into: Agg, a: Agg): void {
  into.processes += a.processes;
  into.threads += a.threads;
  into.du += a.du;
  into.ds += a.ds;
  into.dmaj += a.dmaj;
  into.rss = add(into.rss, a.rss);
  into.anon = add(into.anon, a.anon);
  into.pss = add(into.pss, a.pss);
  into.swap = add(into.swap, a.swap);
  into.fds = add(into.fds, a.fds);
  if (a.sockets) {
    into.sockets ??= new Map();
    for (const [k, v] of a.sockets) into.sockets.set(k, (into.sockets.get(k) ?? 0) + v);
  }
}

function newGroup(tMs: number): GroupState {
  return { utime: 0, stime: 0, majflt: 0, lastSeenMs: tMs, socketKinds: new Set() };
}
