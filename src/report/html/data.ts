/**
 * What the HTML report and the dashboard show, read from the record: host series, the series of a
 * process or a group (summed over the members alive at each point), the latest values of every live
 * process (the dashboard's table), and the recorder runs (how the data was collected).
 *
 * Series come out dense over the timeline at full resolution (the leak verdict wants every sample);
 * `decimate` shrinks them for drawing. Counters become rates here, as in record/history.ts: CPU in
 * percent of one core, a counter that went backwards or crossed a boot yields no rate.
 *
 * The latest values avoid decoding whole histories: a gauge's latest value is the newest non-NULL row
 * (one indexed backward probe per process and column, `ORDER BY sample DESC LIMIT 1`), and CPU over the
 * last window is the sum of the counter increases stored after the window's start.
 */
import type { Statement } from 'better-sqlite3';
import {
  HOST_CPU_BUSY_COLUMNS,
  HOST_CPU_IDLE_COLUMNS,
  HOST_SERIES,
  PROC_SERIES,
  SOCK_SERIES,
  SOCK_TCP_STATES,
  type ProcessRow,
  type RecordReader,
  type SeriesSpec,
  type Timeline,
} from '../../store/index.js';

/** USER_HZ: /proc reports CPU times in 1/100 s on every Linux architecture. */
export const TICKS_PER_SECOND = 100;
const KIB = 1024;

export interface RunInfo {
  id: number;
  startedMs: number;
  endedMs: number | null;
  pid: number;
  hostname: string;
  version: string;
  intervalMs: number;
}

/** Dense columns over timeline points; NaN = unknown or not alive. */
export interface Columns {
  tMs: Float64Array;
  cols: Record<string, Float64Array>;
}

export interface ProcessLatest {
  /** The record's row id of this process identity. */
  id: number;
  pid: number;
  startTimeTicks: number;
  ppid: number | null;
  uid: number | null;
  comm: string;
  exe: string | null;
  argv: string[];
  group: string | null;
  kernelThread: boolean;
  firstMs: number;
  cpuPercent: number | undefined;
  rssBytes: number | undefined;
  pssBytes: number | undefined;
  anonBytes: number | undefined;
  swapBytes: number | undefined;
  vszBytes: number | undefined;
  threads: number | undefined;
  fds: number | undefined;
  sockets: number | undefined;
  tcp: Partial<Record<string, number>>;
  udp: number | undefined;
  unix: number | undefined;
}

export interface GroupLatest {
  group: string;
  count: number;
  pids: number[];
  cpuPercent: number | undefined;
  rssBytes: number | undefined;
  pssBytes: number | undefined;
  fds: number | undefined;
  sockets: number | undefined;
}

const HOST_LEVELS = [
  'load1_x100',
  'load5_x100',
  'load15_x100',
  'procs_running',
  'procs_blocked',
  'tasks',
  'mem_total_kib',
  'mem_available_kib',
  'mem_free_kib',
  'cached_kib',
  'swap_total_kib',
  'swap_free_kib',
  'file_nr',
  'sockets_used',
  'tcp_inuse',
  'tcp_tw',
  'tcp_orphan',
];
export const HOST_TCP_STATES = HOST_SERIES.columns
  .map((c) => c.name)
  .filter((n) => n.startsWith('st_'))
  .map((n) => n.slice(3).toUpperCase());

const PROC_GAUGES = ['rss_kib', 'anon_kib', 'swap_kib', 'pss_kib', 'vsz_kib', 'threads', 'fds'] as const;
const SOCK_COLS = SOCK_SERIES.columns.map((c) => c.name);

function sameBoot(t: Timeline, i: number): boolean {
  // Bucket points (boot -1) are one boot as far as a 10-minute rate goes; a raw point after a bucket is not.
  return i > 0 && t.boot[i] === t.boot[i - 1];
}

/** Per-second rate of a summed counter column set; NaN where no rate exists. */
function rate(t: Timeline, from: number, cols: Float64Array[], scale: number, out: Float64Array): void {
  const n = cols[0]?.length ?? 0;
  for (let j = 1; j < n; j++) {
    const i = from + j;
    if (!sameBoot(t, i)) continue;
    const dt = ((t.tMs[i] ?? 0) - (t.tMs[i - 1] ?? 0)) / 1000;
    if (dt <= 0) continue;
    let d = 0;
    let ok = true;
    for (const c of cols) {
      const x = (c[j] ?? NaN) - (c[j - 1] ?? NaN);
      if (!(x >= 0)) ok = false;
      else d += x;
    }
    if (ok) out[i] = (d / dt) * scale;
  }
}

export class RecordView {
  readonly reader: RecordReader;
  private readonly stmts = new Map<string, Statement>();
  /** latestGauges: per table and columns, the newest values found and the newest sample they cover. */
  private readonly gaugeCache = new Map<
    string,
    { upTo: number; values: Map<number, (number | undefined)[]> }
  >();

  constructor(reader: RecordReader) {
    this.reader = reader;
  }

  private prep(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.reader.store.db.prepare(sql)));
    return s;
  }

  runs(): RunInfo[] {
    return this.prep(
      `SELECT id, started_ms AS startedMs, ended_ms AS endedMs, pid, hostname, version, interval_ms AS intervalMs FROM runs ORDER BY id`,
    ).all() as RunInfo[];
  }

  latestSample(): { id: number; tMs: number; boot: number; bootId: string } | undefined {
    return this.prep(
      `SELECT s.id, s.t_ms AS tMs, s.boot, b.boot_id AS bootId FROM samples s JOIN boots b ON b.id = s.boot ORDER BY s.id DESC LIMIT 1`,
    ).get() as { id: number; tMs: number; boot: number; bootId: string } | undefined;
  }

  /** Host series: CPU %, load, memory, tasks, fds and sockets (TCP states counted on socket passes). */
  host(t: Timeline): Columns {
    const n = t.length;
    const cols: Record<string, Float64Array> = {};
    if (n === 0) return { tMs: t.tMs, cols };
    const names = [
      ...HOST_CPU_BUSY_COLUMNS,
      ...HOST_CPU_IDLE_COLUMNS,
      ...HOST_LEVELS,
      ...HOST_TCP_STATES.map((s) => `st_${s.toLowerCase()}`),
    ];
    const d = this.reader.decode(HOST_SERIES, undefined, names, t, [0, n - 1]);
    const col = (name: string): Float64Array =>
      d.values[names.indexOf(name)] ?? new Float64Array(n).fill(NaN);
    const busy = HOST_CPU_BUSY_COLUMNS.map(col);
    const all = [...busy, ...HOST_CPU_IDLE_COLUMNS.map(col)];
    const cpu = new Float64Array(n).fill(NaN);
    const user = new Float64Array(n).fill(NaN);
    const system = new Float64Array(n).fill(NaN);
    const iowait = new Float64Array(n).fill(NaN);
    for (let i = 1; i < n; i++) {
      if (!sameBoot(t, i)) continue;
      const delta = (c: Float64Array): number => (c[i] ?? NaN) - (c[i - 1] ?? NaN);
      let total = 0;
      let b = 0;
      let ok = true;
      for (const c of all) {
        const x = delta(c);
        if (!(x >= 0)) ok = false;
        total += x;
      }
      for (const c of busy) b += delta(c);
      if (!ok || total <= 0) continue;
      cpu[i] = (b / total) * 100;
      user[i] = ((delta(col('cpu_user_ticks')) + delta(col('cpu_nice_ticks'))) / total) * 100;
      system[i] =
        ((delta(col('cpu_system_ticks')) + delta(col('cpu_irq_ticks')) + delta(col('cpu_softirq_ticks'))) /
          total) *
        100;
      iowait[i] = (delta(col('cpu_iowait_ticks')) / total) * 100;
    }
    cols['cpuPercent'] = cpu;
    cols['cpuUserPercent'] = user;
    cols['cpuSystemPercent'] = system;
    cols['cpuIowaitPercent'] = iowait;
    const scaled = (name: string, k: number): Float64Array => col(name).map((v) => v * k);
    cols['load1'] = scaled('load1_x100', 0.01);
    cols['load5'] = scaled('load5_x100', 0.01);
    cols['load15'] = scaled('load15_x100', 0.01);
    const total = col('mem_total_kib');
    const avail = col('mem_available_kib');
    cols['memTotalBytes'] = scaled('mem_total_kib', KIB);
    cols['memAvailableBytes'] = scaled('mem_available_kib', KIB);
    cols['memUsedBytes'] = total.map((v, i) => (v - (avail[i] ?? NaN)) * KIB);
    cols['cachedBytes'] = scaled('cached_kib', KIB);
    const swapFree = col('swap_free_kib');
    cols['swapUsedBytes'] = col('swap_total_kib').map((v, i) => (v - (swapFree[i] ?? NaN)) * KIB);
    for (const name of [
      'procs_running',
      'procs_blocked',
      'tasks',
      'file_nr',
      'sockets_used',
      'tcp_inuse',
      'tcp_tw',
      'tcp_orphan',
    ])
      cols[name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = col(name);
    for (const s of HOST_TCP_STATES) cols[`tcp:${s}`] = col(`st_${s.toLowerCase()}`);
    return { tMs: t.tMs, cols };
  }

  /**
   * The series of one process, or of several summed at each point over those alive then (a group's
   * workers, a tree). `processes` counts the members that contributed to each point.
   */
  entity(t: Timeline, members: readonly ProcessRow[]): Columns {
    const n = t.length;
    const out = {
      cpuPercent: new Float64Array(n).fill(NaN),
      rssBytes: new Float64Array(n).fill(NaN),
      anonBytes: new Float64Array(n).fill(NaN),
      swapBytes: new Float64Array(n).fill(NaN),
      pssBytes: new Float64Array(n).fill(NaN),
      vszBytes: new Float64Array(n).fill(NaN),
      threads: new Float64Array(n).fill(NaN),
      fds: new Float64Array(n).fill(NaN),
      sockets: new Float64Array(n).fill(NaN),
      tcp: new Float64Array(n).fill(NaN),
      udp: new Float64Array(n).fill(NaN),
      unix: new Float64Array(n).fill(NaN),
      processes: new Float64Array(n),
      ...Object.fromEntries(SOCK_TCP_STATES.map((s) => [`tcp:${s}`, new Float64Array(n).fill(NaN)])),
    } as Record<string, Float64Array>;
    const addTo = (a: Float64Array, i: number, v: number): void => {
      if (Number.isNaN(v)) return;
      const cur = a[i] ?? NaN;
      a[i] = Number.isNaN(cur) ? v : cur + v;
    };
    const procTargets = ['rssBytes', 'anonBytes', 'swapBytes', 'pssBytes', 'vszBytes', 'threads', 'fds'].map(
      (k) => out[k]!,
    );
    const procScale = [KIB, KIB, KIB, KIB, KIB, 1, 1];
    // Per socket column: its own target (a TCP state, udp, unix) or none, and whether it counts as TCP.
    const sockTargets = SOCK_COLS.map((c) =>
      c.startsWith('tcp_')
        ? out[`tcp:${c.slice(4).toUpperCase()}`]
        : c === 'udp' || c === 'unix'
          ? out[c]
          : undefined,
    );
    const sockIsTcp = SOCK_COLS.map((c) => c.startsWith('tcp_'));
    const cpuOut = out['cpuPercent']!;
    const procCount = out['processes']!;
    const socketsOut = out['sockets']!;
    const tcpOut = out['tcp']!;
    const procCols = ['utime_ticks', 'stime_ticks', ...PROC_GAUGES];
    const cpu = new Float64Array(n);
    for (const p of members) {
      const range = this.reader.aliveRange(p, t);
      if (!range) continue;
      const [i0, i1] = range;
      const len = i1 - i0 + 1;
      const d = this.reader.decode(PROC_SERIES, p.id, procCols, t, range);
      cpu.fill(NaN, i0, i1 + 1);
      rate(t, i0, [d.values[0]!, d.values[1]!], 100 / TICKS_PER_SECOND, cpu);
      const s = this.reader.decode(SOCK_SERIES, p.id, SOCK_COLS, t, range);
      for (let j = 0; j < len; j++) {
        const i = i0 + j;
        procCount[i] = (procCount[i] ?? 0) + 1;
        addTo(cpuOut, i, cpu[i] ?? NaN);
        for (let c = 0; c < procTargets.length; c++)
          addTo(procTargets[c]!, i, (d.values[c + 2]?.[j] ?? NaN) * procScale[c]!);
        let all = 0;
        let tcp = 0;
        let known = false;
        for (let c = 0; c < sockTargets.length; c++) {
          const v = s.values[c]?.[j] ?? NaN;
          if (Number.isNaN(v)) continue;
          known = true;
          all += v;
          if (sockIsTcp[c]) tcp += v;
          const target = sockTargets[c];
          if (target) addTo(target, i, v);
        }
        if (known) {
          addTo(socketsOut, i, all);
          addTo(tcpOut, i, tcp);
        }
      }
    }
    return { tMs: t.tMs, cols: out };
  }

  /** Only what the leak verdict judges, RSS, fds and all sockets of one process: a third of `entity`'s decoding. */
  leakSeries(t: Timeline, p: ProcessRow): Columns {
    const n = t.length;
    const rss = new Float64Array(n).fill(NaN);
    const fds = new Float64Array(n).fill(NaN);
    const sockets = new Float64Array(n).fill(NaN);
    const range = this.reader.aliveRange(p, t);
    if (range) {
      const d = this.reader.decode(PROC_SERIES, p.id, ['rss_kib', 'fds'], t, range);
      const s = this.reader.decode(SOCK_SERIES, p.id, SOCK_COLS, t, range);
      const len = range[1] - range[0] + 1;
      for (let j = 0; j < len; j++) {
        const i = range[0] + j;
        rss[i] = (d.values[0]?.[j] ?? NaN) * KIB;
        fds[i] = d.values[1]?.[j] ?? NaN;
        let sum = NaN;
        for (const col of s.values) {
          const v = col[j] ?? NaN;
          if (!Number.isNaN(v)) sum = Number.isNaN(sum) ? v : sum + v;
        }
        sockets[i] = sum;
      }
    }
    return { tMs: t.tMs, cols: { rssBytes: rss, fds, sockets } };
  }

  /** Every process alive at the newest sample with its latest values; CPU over the last `windowMs`. */
  latest(windowMs = 60_000): ProcessLatest[] {
    // One read snapshot for all of it: the cache of latestGauges checks that the recent tier still
    // holds every row since its last reading and then reads them, and a sample committed between the
    // two (moving rows on to the raw tier) would lose rows for good.
    const db = this.reader.store.db;
    return db.inTransaction ? this.readLatest(windowMs) : db.transaction(() => this.readLatest(windowMs))();
  }

  private readLatest(windowMs: number): ProcessLatest[] {
    const last = this.latestSample();
    if (!last) return [];
    const procs = this.prep(
      `SELECT p.id, p.pid, p.start_ticks AS startTimeTicks, p.ppid, p.uid, sc.s AS comm, se.s AS exe, sa.s AS cmd,
           g.label AS grp, p.kthread, p.first_ms AS firstMs
         FROM processes p LEFT JOIN strings sc ON sc.id = p.comm LEFT JOIN strings se ON se.id = p.exe
           LEFT JOIN strings sa ON sa.id = p.cmdline LEFT JOIN groups g ON g.id = p.grp
         WHERE p.end_sample IS NULL AND p.boot = ? ORDER BY p.id`,
    ).all(last.boot) as {
      id: number;
      pid: number;
      startTimeTicks: number;
      ppid: number | null;
      uid: number | null;
      comm: string | null;
      exe: string | null;
      cmd: string | null;
      grp: string | null;
      kthread: number;
      firstMs: number;
    }[];
    const w0 = this.prep(
      `SELECT id, t_ms AS tMs FROM samples WHERE t_ms <= ? AND boot = ? ORDER BY id DESC LIMIT 1`,
    ).get(last.tMs - windowMs, last.boot) as { id: number; tMs: number } | undefined;
    const first =
      w0 ??
      (this.prep(`SELECT id, t_ms AS tMs FROM samples WHERE boot = ? ORDER BY id LIMIT 1`).get(last.boot) as {
        id: number;
        tMs: number;
      });
    const spanS = (last.tMs - first.tMs) / 1000;

    const recentCpu = new Map<number, number>();
    for (const [proc, u, s] of this.prep(
      `SELECT proc, total(utime_ticks), total(stime_ticks) FROM proc_recent WHERE sample > ? AND k IS NULL GROUP BY proc`,
    )
      .raw(true)
      .iterate(first.id) as Iterable<[number, number, number]>)
      recentCpu.set(proc, u + s);
    const rawCpu = this.prep(
      `SELECT total(utime_ticks) + total(stime_ticks) FROM proc_raw WHERE proc = ? AND sample > ? AND k IS NULL`,
    ).pluck(true);

    const procLast = this.latestGauges(PROC_SERIES, PROC_GAUGES, last.id);
    const sockLast = this.latestGauges(SOCK_SERIES, SOCK_COLS, last.id);
    this.keepGauges(new Set(procs.map((p) => p.id)));
    return procs.map((p) => {
      const g = procLast(p.id);
      const s = sockLast(p.id);
      const ticks = (recentCpu.get(p.id) ?? 0) + ((rawCpu.get(p.id, first.id) as number | null) ?? 0);
      const startedInWindow = p.firstMs > first.tMs;
      const span = startedInWindow ? (last.tMs - p.firstMs) / 1000 : spanS;
      const kib = (v: number | undefined): number | undefined => (v === undefined ? undefined : v * KIB);
      const tcp: Partial<Record<string, number>> = {};
      let tcpAll: number | undefined;
      let socketsAll: number | undefined;
      SOCK_COLS.forEach((c, k) => {
        const v = s[k];
        if (v === undefined) return;
        socketsAll = (socketsAll ?? 0) + v;
        if (c.startsWith('tcp_')) {
          tcpAll = (tcpAll ?? 0) + v;
          if (v > 0) tcp[c.slice(4).toUpperCase()] = v;
        }
      });
      return {
        id: p.id,
        pid: p.pid,
        startTimeTicks: p.startTimeTicks,
        ppid: p.ppid,
        uid: p.uid,
        comm: p.comm ?? '',
        exe: p.exe,
        argv: p.cmd ? p.cmd.split('\u0000') : [],
        group: p.grp,
        kernelThread: p.kthread === 1,
        firstMs: p.firstMs,
        cpuPercent: span > 0 ? Math.round((ticks / TICKS_PER_SECOND / span) * 100 * 10) / 10 : undefined,
        rssBytes: kib(g[0]),
        anonBytes: kib(g[1]),
        swapBytes: kib(g[2]),
        pssBytes: kib(g[3]),
        vszBytes: kib(g[4]),
        threads: g[5],
        fds: g[6],
        sockets: socketsAll,
        tcp,
        udp: s[SOCK_COLS.indexOf('udp')],
        unix: s[SOCK_COLS.indexOf('unix')],
      };
    });
  }

  /**
   * A lookup of the newest known value of some gauge columns for a process: the recent tier (read once,
   * it holds ≤ 10 minutes), then one backward index probe per column in the raw tier, then the last
   * value of the newest 10-minute bucket (a process idle for longer than the retention).
   *
   * A value stored only when it changed makes the raw probe walk back through every sample since the
   * last change (600 ms for 1,000 processes over a day at 10 s). A long-lived view (the dashboard's
   * worker, asked again after every new sample) therefore keeps what it found, with the newest sample
   * it covers, and next time applies only the rows stored since — while the recent tier still holds
   * all of them; when rows since then have moved on to the raw tier, it starts over.
   */
  private latestGauges(
    spec: SeriesSpec,
    columns: readonly string[],
    newest: number,
  ): (id: number) => (number | undefined)[] {
    const recentTable = `${spec.table}_recent`;
    const key = `${spec.table}:${columns.join(',')}`;
    let cache = this.gaugeCache.get(key);
    if (cache && cache.upTo !== newest) {
      const oldest = this.prep(`SELECT min(sample) FROM ${recentTable}`).pluck().get() as number | null;
      if (newest > cache.upTo && oldest !== null && oldest <= cache.upTo + 1) {
        const rows = this.prep(
          `SELECT proc, ${columns.join(', ')} FROM ${recentTable} WHERE sample > ? ORDER BY sample`,
        )
          .raw(true)
          .iterate(cache.upTo) as Iterable<(number | null)[]>;
        for (const r of rows) {
          const v = cache.values.get(r[0] ?? 0);
          if (!v) continue; // not asked before: computed in full when asked
          for (let c = 0; c < columns.length; c++) if (r[c + 1] !== null) v[c] = r[c + 1] ?? undefined;
        }
        cache.upTo = newest;
      } else cache = undefined;
    }
    if (!cache) this.gaugeCache.set(key, (cache = { upTo: newest, values: new Map() }));
    const values = cache.values;
    let recent: Map<number, (number | undefined)[]> | undefined;
    const readRecent = (): Map<number, (number | undefined)[]> => {
      const m = new Map<number, (number | undefined)[]>();
      const rows = this.prep(`SELECT proc, ${columns.join(', ')} FROM ${recentTable} ORDER BY sample DESC`)
        .raw(true)
        .iterate() as Iterable<(number | null)[]>;
      for (const r of rows) {
        const id = r[0] ?? 0;
        let cur = m.get(id);
        if (!cur) m.set(id, (cur = columns.map(() => undefined)));
        for (let c = 0; c < columns.length; c++)
          if (cur[c] === undefined && r[c + 1] !== null) cur[c] = r[c + 1] ?? undefined;
      }
      return m;
    };
    const raw = this.prep(
      `SELECT ${columns
        .map(
          (c) =>
            `(SELECT ${c} FROM ${spec.table}_raw WHERE proc = @id AND ${c} IS NOT NULL ORDER BY sample DESC LIMIT 1)`,
        )
        .join(', ')}`,
    ).raw(true);
    const buckets = this.prep(
      `SELECT ${columns.map((c) => `${c}_last`).join(', ')} FROM ${spec.table}_10m WHERE proc = ? ORDER BY bucket DESC LIMIT 1`,
    ).raw(true);
    const full = (id: number): (number | undefined)[] => {
      recent ??= readRecent();
      const cur = recent.get(id) ?? columns.map(() => undefined);
      if (cur.every((v) => v !== undefined)) return [...cur];
      const r = (raw.get({ id }) ?? []) as (number | null)[];
      const merged = cur.map((v, c) => v ?? r[c] ?? undefined);
      if (merged.every((v) => v !== undefined)) return merged;
      const b = (buckets.get(id) ?? []) as (number | null)[];
      return merged.map((v, c) => v ?? b[c] ?? undefined);
    };
    return (id) => {
      let v = values.get(id);
      if (!v) values.set(id, (v = full(id)));
      return [...v];
    };
  }

  /** Forgets the cached latest values of processes no longer alive (the cache follows `latest`). */
  private keepGauges(alive: ReadonlySet<number>): void {
    for (const c of this.gaugeCache.values())
      for (const id of c.values.keys()) if (!alive.has(id)) c.values.delete(id);
  }
}

/** The processes of `latest` folded by group (same executable and normalised arguments). */
export function groupLatest(rows: readonly ProcessLatest[]): GroupLatest[] {
  const by = new Map<string, GroupLatest>();
  const plus = (a: number | undefined, b: number | undefined): number | undefined =>
    b === undefined ? a : (a ?? 0) + b;
  for (const r of rows) {
    const key = r.group ?? (r.kernelThread ? `[${r.comm}]` : r.comm);
    let g = by.get(key);
    if (!g) {
      g = {
        group: key,
        count: 0,
        pids: [],
        cpuPercent: undefined,
        rssBytes: undefined,
        pssBytes: undefined,
        fds: undefined,
        sockets: undefined,
      };
      by.set(key, g);
    }
    g.count++;
    g.pids.push(r.pid);
    g.cpuPercent = plus(g.cpuPercent, r.cpuPercent);
    g.rssBytes = plus(g.rssBytes, r.rssBytes);
    g.pssBytes = plus(g.pssBytes, r.pssBytes);
    g.fds = plus(g.fds, r.fds);
    g.sockets = plus(g.sockets, r.sockets);
  }
  for (const g of by.values())
    if (g.cpuPercent !== undefined) g.cpuPercent = Math.round(g.cpuPercent * 10) / 10;
  return [...by.values()];
}

/**
 * A timeline of at most `maxPoints` points, every k-th point of `t` plus the newest. Decoding over it
 * costs k times less, and stays exact at the points it keeps: the decoder applies every stored row up
 * to each point, so a gauge is its value at that point and a counter's rate is the mean over the k
 * intervals before it. What it loses is a gauge's excursions between points.
 */
export function thin(t: Timeline, maxPoints: number): Timeline {
  if (t.length <= maxPoints) return t;
  const step = Math.ceil(t.length / maxPoints);
  const keep: number[] = [];
  for (let i = 0; i < t.length; i += step) keep.push(i);
  if (keep[keep.length - 1] !== t.length - 1) keep.push(t.length - 1);
  const pick = <A extends Float64Array | Int32Array>(a: A, make: (n: number) => A): A => {
    const o = make(keep.length);
    keep.forEach((i, k) => (o[k] = a[i] ?? NaN));
    return o;
  };
  const f64 = (n: number): Float64Array => new Float64Array(n);
  return {
    tMs: pick(t.tMs, f64),
    boot: pick(t.boot, (n) => new Int32Array(n)),
    sample: pick(t.sample, f64),
    bucket: pick(t.bucket, f64),
    length: keep.length,
    firstRaw: keep.filter((i) => i < t.firstRaw).length,
    self: {
      durationMs: pick(t.self.durationMs, f64),
      cpuMs: pick(t.self.cpuMs, f64),
      rssKib: pick(t.self.rssKib, f64),
    },
  };
}

/** The points `from` … `to` (inclusive) of a timeline, at full resolution. */
export function slice(t: Timeline, from: number, to: number): Timeline {
  const a = Math.max(0, from);
  const z = Math.min(t.length - 1, to);
  if (a === 0 && z === t.length - 1) return t;
  const n = Math.max(0, z - a + 1);
  return {
    tMs: t.tMs.slice(a, a + n),
    boot: t.boot.slice(a, a + n),
    sample: t.sample.slice(a, a + n),
    bucket: t.bucket.slice(a, a + n),
    length: n,
    firstRaw: Math.max(0, Math.min(n, t.firstRaw - a)),
    self: {
      durationMs: t.self.durationMs.slice(a, a + n),
      cpuMs: t.self.cpuMs.slice(a, a + n),
      rssKib: t.self.rssKib.slice(a, a + n),
    },
  };
}

export type Reduce = 'max' | 'mean' | 'last';

/**
 * At most `maxPoints` points per column for drawing: each output point covers a run of input points and
 * keeps their max (levels: a spike or a peak must stay visible), mean (rates) or last. Times are the
 * run's first time. NaN-only runs stay NaN (a gap).
 */
export function decimate(
  tMs: ArrayLike<number>,
  cols: Record<string, ArrayLike<number>>,
  maxPoints: number,
  reduce: (name: string) => Reduce = () => 'max',
  from = 0,
): Columns {
  const n = tMs.length - from;
  const step = Math.max(1, Math.ceil(n / Math.max(1, maxPoints)));
  const m = Math.max(0, Math.ceil(n / step));
  const t = new Float64Array(m);
  for (let k = 0; k < m; k++) t[k] = tMs[from + k * step] ?? NaN;
  const out: Record<string, Float64Array> = {};
  for (const [name, v] of Object.entries(cols)) {
    const how = reduce(name);
    const o = new Float64Array(m).fill(NaN);
    for (let k = 0; k < m; k++) {
      const a = from + k * step;
      const b = Math.min(tMs.length, a + step);
      let acc = NaN;
      let cnt = 0;
      for (let i = a; i < b; i++) {
        const x = v[i] ?? NaN;
        if (Number.isNaN(x)) continue;
        if (how === 'max') acc = cnt === 0 ? x : Math.max(acc, x);
        else if (how === 'mean') acc = cnt === 0 ? x : acc + x;
        else acc = x;
        cnt++;
      }
      o[k] = how === 'mean' && cnt > 0 ? acc / cnt : acc;
    }
    out[name] = o;
  }
  return { tMs: t, cols: out };
}

/** Columns as JSON: seconds for times (what uPlot wants), null for NaN, values rounded. */
export function columnsJson(
  c: Columns,
  names?: readonly string[],
): { t: number[]; series: Record<string, (number | null)[]> } {
  const r = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
  const series: Record<string, (number | null)[]> = {};
  for (const name of names ?? Object.keys(c.cols)) {
    const v = c.cols[name];
    if (v) series[name] = Array.from(v, r);
  }
  return { t: Array.from(c.tMs, (x) => Math.round(x / 10) / 100), series };
}
