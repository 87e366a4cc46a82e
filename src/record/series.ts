/**
 * Entity series for `leaks` and `spikes`, read from the record: every process run (never across a
 * restart), every group (same executable and normalised arguments, summed over the members alive at
 * each sample) and every tree (a process and its descendants, summed), plus the limits each would run
 * into. Also the external CSV series of `leaks --input`.
 *
 * Streaming, because five days at one minute for 1,000 processes is 7.2 M process-samples: each
 * process's rows are decoded into one reused array per metric, handed to the caller (who judges them at
 * once and lets them go), and added into the group and tree sums. Only groups and trees with two or
 * more members keep sums. Rows reach JavaScript through RowDecoder (store/reader.ts), one aggregate
 * call per row straight into the dense arrays, without the min/max arrays RecordReader.decode keeps.
 *
 * On a big record the decoding runs on a worker thread (series-worker.ts) with its own connection,
 * while the caller judges the series already decoded on its own thread: both cores work, and the
 * caller's synchronous API stays as it was (it takes each series with receiveMessageOnPort). The worker
 * reads with the plan (timeline and processes) the caller read, and emits in the caller's order, so
 * the series and their order are the same either way (a test holds them equal).
 *
 * Gauges in 10-minute buckets (older than the retention) contribute the bucket minimum: the leak
 * detector judges floors. Counters (CPU ticks) become rates here; a counter that went backwards, or
 * a gap across recorder runs of different boots, yields no rate (NaN).
 */
import { readFileSync } from 'node:fs';
import { ParseError, ProcsleuthError } from '../util/errors.js';
import { readText } from '../util/proc-io.js';
import { loaderReady, siblingModule } from '../util/worker-boot.js';
import { USER_HZ, readPidStat } from '../procfs/pid-stat.js';
import { readPidLimits } from '../procfs/pid-limits.js';
import { readBootId } from '../procfs/boot-id.js';
import { parseFileMax } from '../procfs/sys-fs.js';
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Statement } from 'better-sqlite3';
import {
  HOST_CPU_BUSY_COLUMNS,
  HOST_SERIES,
  PROC_SERIES,
  RecordReader,
  SOCK_SERIES,
  Store,
  type SeriesSpec,
  type Timeline,
} from '../store/index.js';
import { RowDecoder, SampleIndex, type DenseExtra } from '../store/reader.js';

// ---- types (structurally the detect layer's EntityRef / SeriesInput / Limit) ------------------------

export interface SeriesEntity {
  kind: 'process' | 'group' | 'tree' | 'series';
  key: string;
  label: string;
  pid?: number;
  startTimeTicks?: number;
  bootId?: string;
  comm?: string;
  cmdline?: string;
  group?: string;
  processes?: number;
}

export interface SeriesLimit {
  value: number;
  name: string;
  source: string;
}

export interface LevelSeries {
  entity: SeriesEntity;
  metric: LevelMetric;
  tMs: Float64Array;
  values: Float64Array;
  limit?: () => SeriesLimit | undefined;
  /** Processes only: the group it belongs to, when that group has two or more runs (for the run comparison). */
  runsOf?: SeriesEntity;
}

export interface CpuSeries {
  entity: SeriesEntity;
  tMs: Float64Array;
  /** % of one core; NaN = no rate. */
  percent: Float64Array;
}

export const LEVEL_METRICS = ['anon', 'rss', 'pss', 'fds', 'sockets', 'close_wait', 'threads'] as const;
export type LevelMetric = (typeof LEVEL_METRICS)[number];

export interface ScanOptions {
  sinceMs?: number | undefined;
  /** Live limits (RLIMIT_NOFILE, cgroup memory.max, file-max, threads-max) are read under these roots. */
  procRoot?: string | undefined;
  sysRoot?: string | undefined;
  /** Read no live limits at all (tests and benches on synthetic records). */
  noLiveLimits?: boolean | undefined;
  metrics?: readonly LevelMetric[] | undefined;
  /**
   * scanLevelSeries: decode on a worker thread while the caller judges on this one (true), or all on
   * this thread (false). Default: a worker when the record is big enough to be worth one (see
   * WORKER_MIN_SAMPLES), the store is a read-only file and there are two CPUs.
   */
  worker?: boolean | undefined;
}

export interface ScanSummary {
  samples: number;
  fromMs: number | undefined;
  toMs: number | undefined;
  processes: number;
  groups: number;
  trees: number;
  /** Entity key of a group or tree → the keys of its member processes. */
  members: Map<string, string[]>;
  notes: string[];
}

// ---- processes --------------------------------------------------------------------------------------

interface Proc {
  id: number;
  boot: number;
  bootId: string;
  pid: number;
  start: number;
  parent: number | null;
  grp: number | null;
  groupLabel: string | null;
  comm: string;
  cmd: string | null;
  firstSample: number;
  firstMs: number;
  endSample: number | null;
  endMs: number | null;
}

function processes(r: RecordReader, sinceMs: number): Proc[] {
  return r.store.db
    .prepare(
      `SELECT p.id, p.boot, b.boot_id AS bootId, p.pid, p.start_ticks AS start, p.parent, p.grp, g.label AS groupLabel,
         coalesce(sc.s, '') AS comm, sa.s AS cmd, p.first_sample AS firstSample, p.first_ms AS firstMs,
         p.end_sample AS endSample, p.end_ms AS endMs
       FROM processes p JOIN boots b ON b.id = p.boot LEFT JOIN strings sc ON sc.id = p.comm
         LEFT JOIN strings sa ON sa.id = p.cmdline LEFT JOIN groups g ON g.id = p.grp
       WHERE p.kthread = 0 AND (p.end_ms IS NULL OR p.end_ms >= ?) ORDER BY p.id`,
    )
    .all(sinceMs) as Proc[];
}

function cmdlineOf(p: Proc): string {
  return p.cmd ? p.cmd.split('\u0000').join(' ') : `[${p.comm}]`;
}

function processEntity(p: Proc): SeriesEntity {
  const cmdline = cmdlineOf(p);
  return {
    kind: 'process',
    key: `p:${p.bootId}:${p.pid}:${p.start}`,
    label: `${p.pid} ${p.comm} (${cmdline})`,
    pid: p.pid,
    startTimeTicks: p.start,
    bootId: p.bootId,
    comm: p.comm,
    cmdline,
    ...(p.groupLabel !== null ? { group: p.groupLabel } : {}),
  };
}

function aliveRange(p: Proc, t: Timeline, si: SampleIndex): [number, number] | undefined {
  let i0 = -1;
  let i1 = -1;
  const endMs = p.endMs ?? Infinity;
  const firstBucketMs = Math.floor(p.firstMs / 600_000) * 600_000;
  for (let i = 0; i < t.firstRaw; i++) {
    const ms = t.tMs[i]!;
    if (ms >= firstBucketMs && ms <= endMs) {
      if (i0 < 0) i0 = i;
      i1 = i;
    }
  }
  const endSample = p.endSample ?? Infinity;
  for (let i = si.atOrAfter(p.firstSample); i < t.length; i++) {
    if (t.sample[i]! > endSample || t.boot[i] !== p.boot) break;
    if (i0 < 0) i0 = i;
    i1 = i;
  }
  return i0 < 0 ? undefined : [i0, i1];
}

// ---- decoding -----------------------------------------------------------------------------------

type Row = (number | null)[];

/**
 * One table's columns of one process, dense over its alive range: 10-minute buckets first (a gauge
 * contributes the bucket minimum, the floor the leak detector judges; a counter its last value), then
 * the raw and recent rows (RowDecoder, reading the recent tier of all processes once per scan).
 */
class TableDecoder {
  readonly rows: RowDecoder;
  private readonly buckets: Statement | undefined;
  private readonly state: Float64Array;

  constructor(
    r: RecordReader,
    spec: SeriesSpec,
    cols: readonly string[],
    counters: readonly string[],
    withBuckets: boolean,
    skipUnchanged: boolean,
  ) {
    this.rows = new RowDecoder(r, spec, cols, { recent: 'preload', skipUnchanged });
    this.state = new Float64Array(cols.length);
    const bsel = cols.map((c) => (counters.includes(c) ? `${c}_last` : `${c}_min`)).join(', ');
    this.buckets = withBuckets
      ? r.store.db
          .prepare(`SELECT bucket, ${bsel} FROM ${spec.table}_10m WHERE proc = ? ORDER BY bucket`)
          .raw(true)
      : undefined;
  }

  /**
   * Values over timeline range [i0, i1] into out[c][i − i0] (times extra.scale[c]; undefined out: not
   * written), carrying each last known value forward. Returns false when the process has no rows here.
   */
  decode(
    id: number,
    t: Timeline,
    si: SampleIndex,
    range: [number, number],
    out: readonly (Float64Array | undefined)[],
    extra: DenseExtra = {},
  ): boolean {
    const [i0, i1] = range;
    const nc = this.state.length;
    const state = this.state.fill(NaN);
    let any = false;
    let cursor = i0;
    // bucket points first (all buckets precede every raw sample)
    if (this.buckets && i0 < t.firstRaw) {
      const rows = this.buckets.all(id) as Row[];
      let b = 0;
      const { scale, sum } = extra;
      for (let i = i0; i <= Math.min(i1, t.firstRaw - 1); i++) {
        const bucket = t.bucket[i]!;
        while (b < rows.length && rows[b]![0]! <= bucket) {
          const row = rows[b++]!;
          any = true;
          for (let c = 0; c < nc; c++) {
            const v = row[1 + c];
            if (v !== null && v !== undefined) state[c] = v;
          }
        }
        let total = 0;
        let known = false;
        for (let c = 0; c < nc; c++) {
          const x = state[c]!;
          const o = out[c];
          if (o) o[i - i0] = scale ? x * scale[c]! : x;
          if (x === x) {
            total += x;
            known = true;
          }
        }
        if (sum) sum[i - i0] = known ? total : NaN;
      }
      cursor = Math.max(cursor, t.firstRaw);
    }
    const raw = this.rows.decodeRaw(id, t, si, range, cursor, state, out, extra);
    return any || raw;
  }
}

// ---- host and live limits -----------------------------------------------------------------------

interface HostLast {
  memAvailableKib: number | undefined;
  swapFreeKib: number | undefined;
  fileNr: number | undefined;
  tasks: number | undefined;
  atMs: number | undefined;
}

function hostLast(r: RecordReader, t: Timeline): HostLast {
  const cols = ['mem_available_kib', 'swap_free_kib', 'file_nr', 'tasks'];
  if (t.length === 0)
    return {
      memAvailableKib: undefined,
      swapFreeKib: undefined,
      fileNr: undefined,
      tasks: undefined,
      atMs: undefined,
    };
  // the host has one row per sample: the last rows suffice, but decode carries values from the start
  const d = r.decode(HOST_SERIES, undefined, cols, t, [t.length - 1, t.length - 1]);
  const last = (c: number): number | undefined => {
    const v = d.values[c]?.[0];
    return v === undefined || Number.isNaN(v) ? undefined : v;
  };
  return {
    memAvailableKib: last(0),
    swapFreeKib: last(1),
    fileNr: last(2),
    tasks: last(3),
    atMs: t.tMs[t.length - 1],
  };
}

function readNumber(path: string): number | undefined {
  const r = readText(path);
  if (!r.ok) return undefined;
  const s = r.text.trim();
  return /^\d+$/.test(s) ? Number(s) : undefined;
}

class Limits {
  private readonly bootId: string | undefined;
  private readonly host: HostLast;
  private readonly o: ScanOptions;
  readonly notes = new Set<string>();

  constructor(o: ScanOptions, host: HostLast) {
    this.o = o;
    this.host = host;
    let boot: string | undefined;
    if (!o.noLiveLimits && o.procRoot) {
      try {
        boot = readBootId(o.procRoot);
      } catch {
        boot = undefined;
      }
    }
    this.bootId = boot;
  }

  /** Is this recorded process the one running now (same boot, pid and start time)? */
  private live(p: Proc): boolean {
    if (this.bootId === undefined || p.bootId !== this.bootId || p.endSample !== null || !this.o.procRoot)
      return false;
    const st = readPidStat(this.o.procRoot, p.pid);
    return st.ok && st.value.startTimeTicks === p.start;
  }

  memory(last: number, p: Proc | undefined): SeriesLimit | undefined {
    const h = this.host;
    let best: SeriesLimit | undefined;
    if (h.memAvailableKib !== undefined) {
      const room = (h.memAvailableKib + (h.swapFreeKib ?? 0)) * 1024;
      best = {
        value: last + room,
        name: 'MemAvailable+SwapFree',
        source: `host meminfo in the record at ${new Date(h.atMs ?? 0).toISOString()}`,
      };
    }
    if (p && this.live(p)) {
      const cg = this.cgroupRoom(p.pid);
      if (cg && (!best || last + cg.room < best.value))
        best = {
          value: last + cg.room,
          name: 'memory.max',
          source: `cgroup ${cg.path}, read now (not stored in the record)`,
        };
    }
    return best;
  }

  /** Room left under memory.max of the process's cgroup and its ancestors (cgroup v2). */
  private cgroupRoom(pid: number): { room: number; path: string } | undefined {
    const r = readText(`${this.o.procRoot}/${pid}/cgroup`, true);
    if (!r.ok) return undefined;
    const line = r.text.split('\n').find((l) => l.startsWith('0::'));
    if (!line) return undefined;
    const sys = this.o.sysRoot ?? '/sys';
    let path = line.slice(3).trim();
    let best: { room: number; path: string } | undefined;
    for (;;) {
      const dir = `${sys}/fs/cgroup${path === '/' ? '' : path}`;
      const max = readNumber(`${dir}/memory.max`);
      const cur = readNumber(`${dir}/memory.current`);
      if (max !== undefined && cur !== undefined && (!best || max - cur < best.room))
        best = { room: max - cur, path };
      if (path === '/' || path === '') break;
      path = path.slice(0, path.lastIndexOf('/')) || '/';
    }
    return best;
  }

  /** RLIMIT_NOFILE headroom for fds, sockets and CLOSE_WAIT (each is an fd), for live processes only. */
  nofile(last: number, fdsLast: number | undefined, p: Proc): SeriesLimit | undefined {
    if (fdsLast === undefined || !this.live(p) || !this.o.procRoot) return undefined;
    const l = readPidLimits(this.o.procRoot, p.pid);
    const soft = l.ok ? l.value.openFiles?.soft : undefined;
    if (typeof soft !== 'number') return undefined;
    this.notes.add(
      'RLIMIT_NOFILE is not stored in the record: it was read from /proc/PID/limits of the processes still running',
    );
    return {
      value: last + (soft - fdsLast),
      name: 'RLIMIT_NOFILE',
      source: `/proc/${p.pid}/limits, read now (not stored in the record)`,
    };
  }

  /** fs.file-max headroom for a group's or tree's fds. */
  fileMax(last: number): SeriesLimit | undefined {
    if (this.o.noLiveLimits || !this.o.procRoot || this.host.fileNr === undefined) return undefined;
    const r = readText(`${this.o.procRoot}/sys/fs/file-max`);
    if (!r.ok) return undefined;
    let max: number | 'unlimited';
    try {
      max = parseFileMax(r.text);
    } catch {
      return undefined;
    }
    if (max === 'unlimited') return undefined;
    return {
      value: last + (max - this.host.fileNr),
      name: 'fs.file-max',
      source: '/proc/sys/fs/file-max read now, file-nr from the record',
    };
  }

  threads(last: number): SeriesLimit | undefined {
    if (this.o.noLiveLimits || !this.o.procRoot || this.host.tasks === undefined) return undefined;
    const max = readNumber(`${this.o.procRoot}/sys/kernel/threads-max`);
    const pidMax = readNumber(`${this.o.procRoot}/sys/kernel/pid_max`);
    const cap = Math.min(max ?? Infinity, pidMax ?? Infinity);
    if (!Number.isFinite(cap)) return undefined;
    return {
      value: last + (cap - this.host.tasks),
      name: 'kernel.threads-max',
      source: 'threads-max and pid_max read now, tasks from the record',
    };
  }
}

// ---- aggregates -----------------------------------------------------------------------------------

class Aggregate {
  readonly entity: SeriesEntity;
  readonly members: string[] = [];
  readonly sums = new Map<string, Float64Array>();
  readonly counts = new Map<string, Uint16Array>();
  constructor(entity: SeriesEntity) {
    this.entity = entity;
  }
  add(metric: string, i0: number, v: Float64Array, len: number, total: number): void {
    let s = this.sums.get(metric);
    let c = this.counts.get(metric);
    if (!s || !c) {
      s = new Float64Array(total);
      c = new Uint16Array(total);
      this.sums.set(metric, s);
      this.counts.set(metric, c);
    }
    for (let j = 0; j < len; j++) {
      const x = v[j]!;
      if (x === x) {
        s[i0 + j]! += x;
        c[i0 + j]!++;
      }
    }
  }
  series(metric: string): Float64Array | undefined {
    const s = this.sums.get(metric);
    const c = this.counts.get(metric);
    if (!s || !c) return undefined;
    const out = new Float64Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = c[i]! > 0 ? s[i]! : NaN;
    return out;
  }
}

interface Plan {
  t: Timeline;
  si: SampleIndex;
  procs: Proc[];
  ranges: ([number, number] | undefined)[];
  groups: Map<number, Aggregate>;
  /** Per process index: the tree aggregates it adds into (its own, if it has descendants, and every ancestor's). */
  treesOf: Aggregate[][];
  trees: Aggregate[];
}

/** What a scan reads before any series: the timeline and the processes alive in it. */
export interface PlanInput {
  t: Timeline;
  procs: Proc[];
}

function readPlan(r: RecordReader, sinceMs: number): PlanInput {
  return { t: r.timeline(sinceMs), procs: processes(r, sinceMs) };
}

/** Alive ranges, groups and trees: a pure function of the plan input, so a worker rebuilds the same. */
function buildPlan({ t, procs }: PlanInput): Plan {
  const si = new SampleIndex(t);
  const ranges = procs.map((p) => aliveRange(p, t, si));
  const byId = new Map<number, number>();
  procs.forEach((p, i) => {
    if (ranges[i]) byId.set(p.id, i);
  });
  // groups with two or more runs in the window
  const groupCount = new Map<number, number>();
  procs.forEach((p, i) => {
    if (ranges[i] && p.grp !== null) groupCount.set(p.grp, (groupCount.get(p.grp) ?? 0) + 1);
  });
  const groups = new Map<number, Aggregate>();
  for (const [g, n] of groupCount) {
    if (n < 2) continue;
    const p = procs.find((x) => x.grp === g)!;
    const label = p.groupLabel ?? cmdlineOf(p);
    groups.set(
      g,
      new Aggregate({
        kind: 'group',
        key: `g:${g}`,
        label,
        group: label,
        comm: p.comm,
        cmdline: label,
        processes: n,
      }),
    );
  }
  // trees: descendants counted through recorded parents
  const desc = new Map<number, number>();
  const ancestors = (i: number): number[] => {
    const out: number[] = [];
    const seen = new Set<number>();
    let cur = procs[i]!.parent;
    while (cur !== null && !seen.has(cur)) {
      seen.add(cur);
      const k = byId.get(cur);
      if (k === undefined) break;
      out.push(k);
      cur = procs[k]!.parent;
    }
    return out;
  };
  const anc = procs.map((_, i) => (ranges[i] ? ancestors(i) : []));
  anc.forEach((a) => a.forEach((k) => desc.set(k, (desc.get(k) ?? 0) + 1)));
  const treeAgg = new Map<number, Aggregate>();
  for (const [k, n] of desc) {
    const p = procs[k]!;
    const e = processEntity(p);
    treeAgg.set(
      k,
      new Aggregate({
        ...e,
        kind: 'tree',
        key: `t:${p.id}`,
        label: `${e.label} and ${n} descendant${n > 1 ? 's' : ''}`,
        processes: n + 1,
      }),
    );
  }
  const treesOf = procs.map((_, i) => {
    const list: Aggregate[] = [];
    const own = treeAgg.get(i);
    if (own) list.push(own);
    for (const k of anc[i]!) list.push(treeAgg.get(k)!);
    return list;
  });
  return { t, si, procs, ranges, groups, treesOf, trees: [...treeAgg.values()] };
}

function summaryOf(pl: Plan, notes: Iterable<string>): ScanSummary {
  const members = new Map<string, string[]>();
  for (const a of [...pl.groups.values(), ...pl.trees]) members.set(a.entity.key, a.members);
  return {
    samples: pl.t.length,
    fromMs: pl.t.length > 0 ? pl.t.tMs[0] : undefined,
    toMs: pl.t.length > 0 ? pl.t.tMs[pl.t.length - 1] : undefined,
    processes: pl.ranges.filter(Boolean).length,
    groups: pl.groups.size,
    trees: pl.trees.length,
    members,
    notes: [...notes],
  };
}

// ---- levels (leaks) ---------------------------------------------------------------------------------

const PROC_COLS = ['anon_kib', 'rss_kib', 'pss_kib', 'fds', 'threads'] as const;
const SOCK_COLS = SOCK_SERIES.columns.map((c) => c.name);
/** Of the proc columns: the metric each becomes and its scale (KiB → bytes). */
const PROC_METRICS: readonly [LevelMetric, number][] = [
  ['anon', 1024],
  ['rss', 1024],
  ['pss', 1024],
  ['fds', 1],
  ['threads', 1],
];

function lastFinite(v: Float64Array, len: number): number | undefined {
  for (let i = len - 1; i >= 0; i--) if (!Number.isNaN(v[i]!)) return v[i]!;
  return undefined;
}

/**
 * Decodes the level series of one process at a time into buffers of the timeline's length (reused
 * from one process to the next): the five proc columns straight into their metrics (memory scaled to
 * bytes on the way), and of the socket columns only what the metrics need, the sum and CLOSE_WAIT.
 */
export class LevelDecoder {
  private readonly t: Timeline;
  private readonly si: SampleIndex;
  private readonly want: ReadonlySet<LevelMetric>;
  private readonly proc: TableDecoder;
  private readonly sock: TableDecoder | undefined;
  private readonly buf = new Map<LevelMetric, Float64Array>();
  private readonly procOut: (Float64Array | undefined)[];
  private readonly procScale: Float64Array;
  private readonly sockOut: (Float64Array | undefined)[];

  constructor(r: RecordReader, t: Timeline, si: SampleIndex, want: ReadonlySet<LevelMetric>) {
    this.t = t;
    this.si = si;
    this.want = want;
    const n = t.length;
    const withBuckets = t.firstRaw > 0;
    for (const m of LEVEL_METRICS) if (want.has(m)) this.buf.set(m, new Float64Array(n));
    // A process whose rows all leave these columns alone decodes to NaN either way, and an all-NaN
    // series is never emitted: skipping such rows changes nothing here.
    this.proc = new TableDecoder(r, PROC_SERIES, PROC_COLS, [], withBuckets, true);
    this.procOut = PROC_METRICS.map(([m]) => this.buf.get(m));
    this.procScale = Float64Array.from(PROC_METRICS, ([, k]) => k);
    this.sock =
      want.has('sockets') || want.has('close_wait')
        ? new TableDecoder(r, SOCK_SERIES, SOCK_COLS, [], withBuckets, false)
        : undefined;
    this.sockOut = SOCK_COLS.map((c) => (c === 'tcp_close_wait' ? this.buf.get('close_wait') : undefined));
  }

  /**
   * The series of one process over `range`, in LEVEL_METRICS order, as views of the reused buffers
   * (valid until the next call). Metrics of a table the process has no rows in are left out.
   */
  decode(id: number, range: [number, number]): Map<LevelMetric, Float64Array> {
    const len = range[1] - range[0] + 1;
    const series = new Map<LevelMetric, Float64Array>();
    const hasProc = this.proc.decode(id, this.t, this.si, range, this.procOut, { scale: this.procScale });
    const sum = this.buf.get('sockets');
    const hasSock = this.sock ? this.sock.decode(id, this.t, this.si, range, this.sockOut, { sum }) : false;
    for (const m of LEVEL_METRICS) {
      const b = this.buf.get(m);
      if (!b) continue;
      const fromProc = m !== 'sockets' && m !== 'close_wait';
      if (fromProc ? hasProc : hasSock) series.set(m, b.subarray(0, len));
    }
    return series;
  }
}

/**
 * Streams every level series: each process's (as soon as it is decoded), then each group's and tree's
 * sum. Series that are all NaN (a metric never read, no sockets pass) are not emitted. The arrays passed
 * to `emit` for processes are reused afterwards: copy what must outlive the call.
 */
export function scanLevelSeries(
  r: RecordReader,
  o: ScanOptions,
  emit: (s: LevelSeries) => void,
): ScanSummary {
  return snapshot(r, () => scanLevels(r, o, emit));
}

function scanLevels(r: RecordReader, o: ScanOptions, emit: (s: LevelSeries) => void): ScanSummary {
  const input = readPlan(r, o.sinceMs ?? 0);
  const pl = buildPlan(input);
  const { t, procs, ranges } = pl;
  const want = new Set<LevelMetric>(o.metrics ?? LEVEL_METRICS);
  const limits = new Limits(o, hostLast(r, t));
  const times = t.tMs;

  const emitProcess = (k: number, series: Map<LevelMetric, Float64Array>, add: boolean): void => {
    const p = procs[k]!;
    const [i0, i1] = ranges[k]!;
    const len = i1 - i0 + 1;
    const entity = processEntity(p);
    const grp = p.grp !== null ? pl.groups.get(p.grp) : undefined;
    grp?.members.push(entity.key);
    for (const tr of pl.treesOf[k]!) tr.members.push(entity.key);
    const fds = series.get('fds');
    const fdsLast = fds ? lastFinite(fds, len) : undefined;
    const tt = times.subarray(i0, i1 + 1);
    for (const [m, v] of series) {
      const last = lastFinite(v, len);
      if (last === undefined) continue;
      const limit = (): SeriesLimit | undefined => {
        if (m === 'anon' || m === 'rss' || m === 'pss') return limits.memory(last, p);
        if (m === 'fds' || m === 'sockets' || m === 'close_wait') return limits.nofile(last, fdsLast, p);
        if (m === 'threads') return limits.threads(last);
        return undefined;
      };
      emit({ entity, metric: m, tMs: tt, values: v, limit, ...(grp ? { runsOf: grp.entity } : {}) });
      if (add) addToAggregates(pl, k, m, v);
    }
  };
  const emitAggregate = (a: Aggregate, m: LevelMetric, v: Float64Array): void => {
    // only the stretch where some member was alive
    let a0 = 0;
    let a1 = v.length - 1;
    while (a0 <= a1 && Number.isNaN(v[a0]!)) a0++;
    while (a1 >= a0 && Number.isNaN(v[a1]!)) a1--;
    if (a0 > a1) return;
    const vals = v.subarray(a0, a1 + 1);
    const last = lastFinite(vals, vals.length) ?? 0;
    const limit = (): SeriesLimit | undefined =>
      m === 'anon' || m === 'rss' || m === 'pss'
        ? limits.memory(last, undefined)
        : m === 'threads'
          ? limits.threads(last)
          : limits.fileMax(last);
    emit({ entity: a.entity, metric: m, tMs: times.subarray(a0, a1 + 1), values: vals, limit });
  };

  const emitAggregatesHere = (): void => {
    for (const a of [...pl.groups.values(), ...pl.trees]) {
      for (const m of LEVEL_METRICS) {
        const v = a.series(m);
        if (v) emitAggregate(a, m, v);
      }
      // the sums are no longer needed
      a.sums.clear();
      a.counts.clear();
    }
  };
  const emitAllHere = (): void => {
    const dec = new LevelDecoder(r, t, pl.si, want);
    procs.forEach((p, k) => {
      const range = ranges[k];
      if (range) emitProcess(k, dec.decode(p.id, range), true);
    });
    emitAggregatesHere();
  };

  let stream: LevelStream | undefined;
  try {
    stream =
      (o.worker ?? workerWorthIt(r, pl)) ? LevelStream.start(r.store.path, input, [...want]) : undefined;
  } catch {
    stream = undefined; // no thread to be had: decode here
  }
  if (!stream) {
    emitAllHere();
    return summaryOf(pl, limits.notes);
  }
  // While the worker starts (a thread, its modules, its connection: a few hundred ms) this thread
  // decodes the first processes itself, and takes the worker's from its first message on. The worker
  // decodes and sums every process, so the sums are all its; the series it sends of the processes
  // decoded here are dropped. Should it fail to start, this thread sums what it decoded and goes on.
  let local: LevelDecoder | undefined;
  const decodeHere = (k: number): Map<LevelMetric, Float64Array> =>
    (local ??= new LevelDecoder(r, t, pl.si, want)).decode(procs[k]!.id, ranges[k]!);
  const here: number[] = [];
  let live: LevelStream | undefined = stream;
  const fallBack = (): void => {
    live = undefined;
    for (const k of here)
      for (const [m, v] of decodeHere(k))
        if (lastFinite(v, v.length) !== undefined) addToAggregates(pl, k, m, v);
  };
  try {
    procs.forEach((_, k) => {
      if (!ranges[k]) return;
      const state = live?.poll();
      if (state === 'failed') fallBack();
      if (live && state === 'ready') {
        emitProcess(k, live.process(k), false);
        live.consumed();
        return;
      }
      emitProcess(k, decodeHere(k), live === undefined);
      if (live) here.push(k);
    });
    if (live?.waitStart() === 'failed') fallBack();
    if (live) {
      for (const a of [...pl.groups.values(), ...pl.trees]) {
        for (const m of LEVEL_METRICS) {
          const v = live.aggregate(a.entity.key, m);
          if (v) emitAggregate(a, m, v);
        }
      }
      live.finish();
    } else emitAggregatesHere();
  } catch (err) {
    stream.abort();
    throw err;
  }
  return summaryOf(pl, limits.notes);
}

/** Adds a process's series into its group's sum and the sums of every tree it belongs to. */
function addToAggregates(pl: Plan, k: number, m: LevelMetric, v: Float64Array): void {
  const p = pl.procs[k]!;
  const i0 = pl.ranges[k]![0];
  const grp = p.grp !== null ? pl.groups.get(p.grp) : undefined;
  grp?.add(m, i0, v, v.length, pl.t.length);
  for (const tr of pl.treesOf[k]!) tr.add(m, i0, v, v.length, pl.t.length);
}

/**
 * Process-samples from which the decoding moves to a worker thread: below it, starting a thread (about
 * 0.1 s) costs more than it saves. Five days at one minute for 1,000 processes is 7.2 M.
 */
export const WORKER_MIN_SAMPLES = 1_000_000;

function workerWorthIt(r: RecordReader, pl: Plan): boolean {
  if (r.store.mode !== 'read' || r.store.path === ':memory:' || availableParallelism() < 2) return false;
  let samples = 0;
  for (const range of pl.ranges) if (range) samples += range[1] - range[0] + 1;
  return samples >= WORKER_MIN_SAMPLES;
}

// ---- the decoding worker ----------------------------------------------------------------------------

/** Indices into the control words shared with the worker. */
const POSTED = 0;
const CONSUMED = 1;
/** Processes decoded ahead of the caller at most: bounds memory when judging is the slower side. */
const MAX_IN_FLIGHT = 16;
/** A worker silent this long is taken for dead (it never is while it works: a message per process). */
const STALL_MS = 60_000;

export interface LevelWorkerData {
  dbPath: string;
  input: PlanInput;
  metrics: LevelMetric[];
  port: MessagePort;
  /** Int32 control words: [messages posted, process messages consumed]. */
  ctl: SharedArrayBuffer;
}

type LevelMessage =
  | { type: 'process'; k: number; metrics: LevelMetric[]; values: Float64Array[] }
  | { type: 'aggregate'; key: string; metric: LevelMetric; values: Float64Array | null }
  | { type: 'done' }
  | { type: 'error'; message: string };

/**
 * The caller's side of the decoding worker. The caller's emit runs synchronously inside the scan, so
 * the messages are taken with receiveMessageOnPort, and the wait between them is an Atomics.wait on a
 * counter the worker bumps after each post.
 */
class LevelStream {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly ctl: Int32Array;
  private received = 0;
  private pending: LevelMessage | undefined;
  private live = false;

  private constructor(worker: Worker, port: MessagePort, ctl: Int32Array) {
    this.worker = worker;
    this.port = port;
    this.ctl = ctl;
  }

  static start(dbPath: string, input: PlanInput, metrics: LevelMetric[]): LevelStream {
    const { port1, port2 } = new MessageChannel();
    const ctl = new SharedArrayBuffer(8);
    const data: LevelWorkerData = { dbPath, input, metrics, port: port2, ctl };
    const self = import.meta.url;
    const entry = siblingModule(self, 'series-worker');
    // Any failure to start (util/worker-boot.ts says why it starts from an eval'd bootstrap) is posted
    // like a failure later, so the caller never waits on a worker that is gone.
    const boot = `const { workerData } = require('node:worker_threads');
const fail = (err) => {
  workerData.port.postMessage({ type: 'error', message: String((err && err.stack) || err) });
  const ctl = new Int32Array(workerData.ctl);
  Atomics.add(ctl, ${POSTED}, 1);
  Atomics.notify(ctl, ${POSTED});
};
${loaderReady(self)}
  .then(() => import(${JSON.stringify(entry)}))
  .then((m) => m.runLevelWorker(workerData))
  .catch(fail);`;
    const worker = new Worker(boot, { eval: true, workerData: data, transferList: [port2] });
    worker.unref();
    return new LevelStream(worker, port1, new Int32Array(ctl));
  }

  /**
   * Without waiting: 'ready' once the worker has sent anything (and from then on), 'failed' when what
   * it sent is that it could not start (its module or the database would not open), else 'waiting'.
   */
  poll(): 'waiting' | 'ready' | 'failed' {
    if (this.live) return 'ready';
    if (!this.pending) {
      const m = receiveMessageOnPort(this.port);
      if (!m) return 'waiting';
      this.received++;
      this.pending = m.message as LevelMessage;
    }
    if (this.pending.type === 'error') {
      this.abort();
      return 'failed';
    }
    this.live = true;
    return 'ready';
  }

  /** Waits for the worker's first message: 'ready', or 'failed' as poll() says. */
  waitStart(): 'ready' | 'failed' {
    if (this.live) return 'ready';
    if (!this.pending) {
      try {
        this.pending = this.next();
      } catch {
        this.abort();
        return 'failed';
      }
    }
    return this.poll() === 'ready' ? 'ready' : 'failed';
  }

  private next(): LevelMessage {
    if (this.pending) {
      const msg = this.pending;
      this.pending = undefined;
      return msg;
    }
    let waited = 0;
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (m) {
        this.received++;
        const msg = m.message as LevelMessage;
        if (msg.type === 'error') throw new Error(`the decoding worker failed: ${msg.message}`);
        return msg;
      }
      const r = Atomics.wait(this.ctl, POSTED, this.received, 1000);
      if (r === 'timed-out' && (waited += 1000) >= STALL_MS)
        throw new Error(`the decoding worker sent nothing for ${STALL_MS / 1000} s`);
    }
  }

  /** Process k's series; those of earlier processes (decoded by the caller meanwhile) are dropped. */
  process(k: number): Map<LevelMetric, Float64Array> {
    let msg = this.next();
    while (msg.type === 'process' && msg.k < k) {
      this.consumed();
      msg = this.next();
    }
    if (msg.type !== 'process' || msg.k !== k)
      throw new Error(
        `the decoding worker is out of step: expected process ${k}, got ${JSON.stringify(msg.type)}`,
      );
    return new Map(msg.metrics.map((m, i) => [m, msg.values[i]!]));
  }

  consumed(): void {
    Atomics.add(this.ctl, CONSUMED, 1);
    Atomics.notify(this.ctl, CONSUMED);
  }

  aggregate(key: string, metric: LevelMetric): Float64Array | undefined {
    let msg = this.next();
    while (msg.type === 'process') {
      this.consumed();
      msg = this.next();
    }
    if (msg.type !== 'aggregate' || msg.key !== key || msg.metric !== metric)
      throw new Error(`the decoding worker is out of step: expected ${key} ${metric}, got ${msg.type}`);
    return msg.values ?? undefined;
  }

  finish(): void {
    const msg = this.next();
    if (msg.type !== 'done')
      throw new Error(`the decoding worker is out of step: got ${msg.type} at the end`);
    this.port.close();
  }

  abort(): void {
    this.port.close();
    void this.worker.terminate();
  }
}

/** The worker's side (series-worker.ts runs it): decodes, sums, and posts in the caller's order. */
export function runLevelWorker(d: LevelWorkerData): void {
  const ctl = new Int32Array(d.ctl);
  const post = (msg: LevelMessage, transfer: ArrayBuffer[] = []): void => {
    d.port.postMessage(msg, transfer);
    Atomics.add(ctl, POSTED, 1);
    Atomics.notify(ctl, POSTED);
  };
  try {
    const store = Store.open(d.dbPath, { mode: 'read' });
    try {
      const r = new RecordReader(store);
      snapshot(r, () => {
        const pl = buildPlan(d.input);
        const dec = new LevelDecoder(r, pl.t, pl.si, new Set(d.metrics));
        let sent = 0;
        pl.procs.forEach((p, k) => {
          const range = pl.ranges[k];
          if (!range) return;
          const len = range[1] - range[0] + 1;
          const metrics: LevelMetric[] = [];
          const values: Float64Array[] = [];
          for (const [m, v] of dec.decode(p.id, range)) {
            if (lastFinite(v, len) === undefined) continue;
            addToAggregates(pl, k, m, v);
            metrics.push(m);
            values.push(v.slice());
          }
          for (;;) {
            const c = Atomics.load(ctl, CONSUMED);
            if (sent - c < MAX_IN_FLIGHT) break;
            Atomics.wait(ctl, CONSUMED, c, 1000);
          }
          post(
            { type: 'process', k, metrics, values },
            values.map((v) => v.buffer as ArrayBuffer),
          );
          sent++;
        });
        for (const a of [...pl.groups.values(), ...pl.trees]) {
          for (const m of LEVEL_METRICS) {
            const v = a.series(m) ?? null;
            post(
              { type: 'aggregate', key: a.entity.key, metric: m, values: v },
              v ? [v.buffer as ArrayBuffer] : [],
            );
          }
          a.sums.clear();
          a.counts.clear();
        }
        post({ type: 'done' });
      });
    } finally {
      store.close();
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
  d.port.close();
}

/**
 * Runs `fn` in one read transaction, so the raw and recent tiers (between which a live recorder moves
 * rows every ten minutes) and the timeline come from the same moment. Inside a caller's transaction it
 * just runs.
 */
function snapshot<T>(r: RecordReader, fn: () => T): T {
  const db = r.store.db;
  if (db.inTransaction) return fn();
  db.exec('BEGIN');
  try {
    return fn();
  } finally {
    if (db.inTransaction) db.exec('COMMIT');
  }
}

// ---- CPU (spikes) -----------------------------------------------------------------------------------

/** Rate of a tick counter as % of one core; NaN at the first point, across a boot change, or where it went back. */
function tickRate(ticks: Float64Array, t: Timeline, i0: number, len: number, out: Float64Array): void {
  out[0] = NaN;
  for (let j = 1; j < len; j++) {
    const i = i0 + j;
    const dv = ticks[j]! - ticks[j - 1]!;
    const dt = (t.tMs[i]! - t.tMs[i - 1]!) / 1000;
    const sameBoot = i < t.firstRaw || t.boot[i] === t.boot[i - 1] || t.boot[i - 1] === -1;
    out[j] = dv >= 0 && dt > 0 && sameBoot ? ((dv / dt) * 100) / USER_HZ : NaN;
  }
}

/** Streams every process's CPU series, then each group's (sum over members) and the host's. */
export function scanCpuSeries(r: RecordReader, o: ScanOptions, emit: (s: CpuSeries) => void): ScanSummary {
  return snapshot(r, () => scanCpu(r, o, emit));
}

function scanCpu(r: RecordReader, o: ScanOptions, emit: (s: CpuSeries) => void): ScanSummary {
  const pl = buildPlan(readPlan(r, o.sinceMs ?? 0));
  const { t, si, procs, ranges } = pl;
  const n = t.length;
  const buf = [new Float64Array(n), new Float64Array(n)];
  const ticks = new Float64Array(n);
  const rate = new Float64Array(n);
  const d = new TableDecoder(
    r,
    PROC_SERIES,
    ['utime_ticks', 'stime_ticks'],
    ['utime_ticks', 'stime_ticks'],
    t.firstRaw > 0,
    false,
  );
  procs.forEach((p, k) => {
    const range = ranges[k];
    if (!range) return;
    const [i0, i1] = range;
    const len = i1 - i0 + 1;
    if (len < 2 || !d.decode(p.id, t, si, range, buf)) return;
    for (let j = 0; j < len; j++) ticks[j] = buf[0]![j]! + buf[1]![j]!;
    tickRate(ticks, t, i0, len, rate);
    const entity = processEntity(p);
    const grp = p.grp !== null ? pl.groups.get(p.grp) : undefined;
    grp?.members.push(entity.key);
    emit({ entity, tMs: t.tMs.subarray(i0, i1 + 1), percent: rate.subarray(0, len) });
    grp?.add('cpu', i0, rate, len, n);
  });
  for (const g of pl.groups.values()) {
    const v = g.series('cpu');
    if (v) emit({ entity: g.entity, tMs: t.tMs, percent: v });
  }
  if (n > 1) {
    const cols = [...HOST_CPU_BUSY_COLUMNS];
    const h = r.decode(HOST_SERIES, undefined, cols, t, [0, n - 1]);
    const busy = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (const c of h.values) s += c[i]!;
      busy[i] = s;
    }
    const out = new Float64Array(n);
    tickRate(busy, t, 0, n, out);
    emit({
      entity: { kind: 'tree', key: 'host', label: 'the host (all CPUs, % of one core)' },
      tMs: t.tMs,
      percent: out,
    });
  }
  pl.trees.length = 0; // trees are not used for CPU
  return summaryOf(pl, []);
}

// ---- CSV input --------------------------------------------------------------------------------------

export interface CsvSeries {
  name: string;
  tMs: Float64Array;
  values: Float64Array;
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const EPOCH = /^[+-]?\d+(?:\.\d+)?$/;

function splitCsvLine(line: string, lineNo: number): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length)
          throw new ParseError('unterminated quoted field', { line: lineNo, token: line });
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',')
        throw new ParseError('text after a closing quote', { line: lineNo, token: line.slice(i) });
    } else {
      const j = line.indexOf(',', i);
      field = j < 0 ? line.slice(i) : line.slice(i, j);
      i = j < 0 ? line.length : j;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/** ISO-8601 or epoch seconds → ms; undefined when it is neither. */
export function parseTimestamp(tok: string): number | undefined {
  const s = tok.trim();
  if (EPOCH.test(s)) {
    const v = Number(s) * 1000;
    return Number.isFinite(v) ? v : undefined;
  }
  if (!ISO.test(s)) return undefined;
  const ms = Date.parse(s.replace(' ', 'T').replace(',', '.'));
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * `timestamp,series,value` rows (an optional header line naming those columns; fields may be quoted as
 * RFC 4180 quotes them). Each series is sorted by time. Errors name the line and the token.
 */
export function parseSeriesCsv(text: string): CsvSeries[] {
  const lines = text.split('\n');
  const acc = new Map<string, { t: number[]; v: number[] }>();
  let rows = 0;
  for (let k = 0; k < lines.length; k++) {
    const lineNo = k + 1;
    const line = (lines[k] ?? '').replace(/\r$/, '');
    if (line.trim() === '') continue;
    const f = splitCsvLine(line, lineNo);
    if (rows === 0 && acc.size === 0 && f[0]?.trim().toLowerCase() === 'timestamp') {
      const names = f.map((x) => x.trim().toLowerCase()).join(',');
      if (names !== 'timestamp,series,value')
        throw new ParseError('the header must be timestamp,series,value', { line: lineNo, token: line });
      rows = -1; // header seen
      continue;
    }
    if (f.length !== 3)
      throw new ParseError(`expected 3 fields (timestamp,series,value), got ${f.length}`, {
        line: lineNo,
        token: line,
      });
    const [ts, name, val] = f as [string, string, string];
    const tMs = parseTimestamp(ts);
    if (tMs === undefined)
      throw new ParseError('timestamp is neither ISO-8601 nor epoch seconds', { line: lineNo, token: ts });
    if (name.trim() === '') throw new ParseError('empty series name', { line: lineNo, token: line });
    const v = val.trim() === '' ? NaN : Number(val.trim());
    if (!Number.isFinite(v))
      throw new ParseError('value is not a finite number', { line: lineNo, token: val });
    let s = acc.get(name);
    if (!s) acc.set(name, (s = { t: [], v: [] }));
    s.t.push(tMs);
    s.v.push(v);
    rows = Math.max(rows, 0) + 1;
  }
  if (acc.size === 0) throw new ParseError('no data rows (expected timestamp,series,value)', { line: 1 });
  return [...acc].map(([name, s]) => {
    const idx = s.t.map((_, i) => i).sort((a, b) => s.t[a]! - s.t[b]! || a - b);
    return {
      name,
      tMs: Float64Array.from(idx, (i) => s.t[i]!),
      values: Float64Array.from(idx, (i) => s.v[i]!),
    };
  });
}

export function readSeriesCsv(path: string): CsvSeries[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProcsleuthError('INPUT', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseSeriesCsv(text);
  } catch (err) {
    if (err instanceof ParseError) throw err.withPath(path);
    throw err;
  }
}

/**
 * The entity and metric a CSV series name stands for: `history --csv` writes `process:PID:comm/metric`
 * and `group:LABEL/metric`; anything else is a series of its own, its metric the part after the last '/'.
 */
export function csvEntity(name: string): { entity: SeriesEntity; metric: string } {
  const slash = name.lastIndexOf('/');
  const metric = slash > 0 && /^[a-z_]+$/.test(name.slice(slash + 1)) ? name.slice(slash + 1) : 'value';
  const who = metric === 'value' ? name : name.slice(0, slash);
  const m = /^(process|tree):(\d+):(.*)$/.exec(who);
  return {
    entity: {
      kind: 'series',
      key: `s:${who}`,
      label: who,
      ...(m ? { pid: Number(m[2]), comm: m[3] } : {}),
    },
    metric,
  };
}
