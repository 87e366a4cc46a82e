/**
 * Entity series for `leaks` and `spikes`, read from the record: every process run (never across a
 * restart), every group (same executable and normalised arguments, summed over the members alive at
 * each sample) and every tree (a process and its descendants, summed), plus the limits each would run
 * into. Also the external CSV series of `leaks --input`.
 *
 * Streaming, because five days at one minute for 1,000 processes is 7.2 M process-samples: each
 * process's rows are decoded into one scratch array per metric, handed to the caller (who judges them
 * at once and lets them go), and added into the group and tree sums. Only groups and trees with two or
 * more members keep sums. Rows are decoded here rather than with RecordReader.decode because the leak
 * scan needs seven columns of two tables per process in one pass, without the min/max arrays.
 *
 * Gauges in 10-minute buckets (older than the retention) contribute the bucket minimum: the leak
 * detector judges floors. Counters (CPU ticks) become rates here; a counter that went backwards, or
 * a gap across recorder runs of different boots, yields no rate (NaN).
 */
import { readFileSync } from 'node:fs';
import { ParseError, ProcsleuthError } from '../util/errors.js';
import { readText } from '../util/proc-io.js';
import { USER_HZ, readPidStat } from '../procfs/pid-stat.js';
import { readPidLimits } from '../procfs/pid-limits.js';
import { readBootId } from '../procfs/boot-id.js';
import { parseFileMax } from '../procfs/sys-fs.js';
import { HOST_SERIES, SOCK_SERIES, type RecordReader, type Timeline } from '../store/index.js';

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

/** Maps sample ids to timeline indices in O(1). */
class SampleIndex {
  private readonly base: number;
  private readonly idx: Int32Array;
  constructor(t: Timeline) {
    const first = t.firstRaw < t.length ? t.sample[t.firstRaw]! : 0;
    const last = t.length > t.firstRaw ? t.sample[t.length - 1]! : -1;
    this.base = first;
    this.idx = new Int32Array(Math.max(0, last - first + 1)).fill(-1);
    for (let i = t.firstRaw; i < t.length; i++) this.idx[t.sample[i]! - first] = i;
  }
  /** Timeline index of the first raw point with sample id ≥ s (length when none). */
  atOrAfter(s: number, t: Timeline): number {
    if (s < this.base) return t.firstRaw;
    for (let k = s - this.base; k < this.idx.length; k++) if (this.idx[k]! >= 0) return this.idx[k]!;
    return t.length;
  }
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
  for (let i = si.atOrAfter(p.firstSample, t); i < t.length; i++) {
    if (t.sample[i]! > endSample || t.boot[i] !== p.boot) break;
    if (i0 < 0) i0 = i;
    i1 = i;
  }
  return i0 < 0 ? undefined : [i0, i1];
}

// ---- decoding -----------------------------------------------------------------------------------

type Row = (number | null)[];

interface Decoder {
  /** Columns of one table (`proc` or `sock`) this decoder reads. */
  cols: readonly string[];
  counter: readonly boolean[];
  /** One row: the process's rows flattened into a string (see decoder). */
  raw: ReturnType<RecordReader['store']['db']['prepare']>;
  recent: ReturnType<RecordReader['store']['db']['prepare']>;
  buckets: ReturnType<RecordReader['store']['db']['prepare']> | undefined;
}

function decoder(
  r: RecordReader,
  table: 'proc' | 'sock',
  cols: readonly string[],
  counters: readonly string[],
  withBuckets: boolean,
): Decoder {
  const db = r.store.db;
  // One string per process, parsed with JSON.parse: materialising millions of rows as JS arrays costs
  // ~3× more than SQLite concatenating them (measured on the 7.2 M process-sample bench record).
  const row = ['sample', 'ifnull(k,0)', ...cols.map((c) => `ifnull(${c},'null')`)].join(`||','||`);
  const flat = (t: string): string =>
    `SELECT group_concat(${row}, ',') FROM (SELECT * FROM ${t} WHERE proc = ? ORDER BY sample)`;
  const bsel = cols.map((c) => (counters.includes(c) ? `${c}_last` : `${c}_min`)).join(', ');
  return {
    cols,
    counter: cols.map((c) => counters.includes(c)),
    raw: db.prepare(flat(`${table}_raw`)).pluck(),
    recent: db.prepare(flat(`${table}_recent`)).pluck(),
    buckets: withBuckets
      ? db.prepare(`SELECT bucket, ${bsel} FROM ${table}_10m WHERE proc = ? ORDER BY bucket`).raw(true)
      : undefined,
  };
}

/** The flat [sample, k, col…, sample, k, col…] rows of one process, in sample order. */
function fetchFlat(stmt: Decoder['raw'], id: number, stride: number): (number | null)[] {
  const s = stmt.get(id) as string | null | undefined;
  if (!s) return [];
  const a = JSON.parse(`[${s}]`) as (number | null)[];
  // SQLite keeps the subquery's (primary key) order in practice; sort if it ever did not
  for (let i = stride; i < a.length; i += stride) {
    if (a[i]! < a[i - stride]!) {
      const rows: (number | null)[][] = [];
      for (let j = 0; j < a.length; j += stride) rows.push(a.slice(j, j + stride));
      rows.sort((x, y) => x[0]! - y[0]!);
      return rows.flat();
    }
  }
  return a;
}

/**
 * Dense values over timeline range [i0, i1] of each decoder column, into `out[c]` (length ≥ i1−i0+1),
 * carrying each last known value forward. Returns false when the process has no rows in this table.
 */
function decodeInto(
  d: Decoder,
  id: number,
  t: Timeline,
  range: [number, number],
  si: SampleIndex,
  out: Float64Array[],
): boolean {
  const [i0, i1] = range;
  const nc = d.cols.length;
  const state = new Float64Array(nc).fill(NaN);
  const len = i1 - i0 + 1;
  for (let c = 0; c < nc; c++) out[c]!.fill(NaN, 0, len);
  let any = false;
  let cursor = i0;
  // bucket points first (all buckets precede every raw sample)
  if (d.buckets && i0 < t.firstRaw) {
    const rows = d.buckets.all(id) as Row[];
    let b = 0;
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
      for (let c = 0; c < nc; c++) out[c]![i - i0] = state[c]!;
    }
    cursor = Math.max(cursor, t.firstRaw);
  }
  const firstSampleOfRange = cursor <= i1 && cursor < t.length ? t.sample[cursor]! : Infinity;
  const stride = 2 + nc;
  const apply = (a: (number | null)[], o: number): void => {
    const key = a[o + 1] === 1;
    for (let c = 0; c < nc; c++) {
      const v = a[o + 2 + c];
      if (d.counter[c]) {
        if (key) state[c] = v ?? NaN;
        else if (v !== null && v !== undefined) state[c] = state[c]! + v;
      } else if (v !== null && v !== undefined) state[c] = v;
      else if (key) state[c] = NaN;
    }
  };
  const consume = (a: (number | null)[]): void => {
    for (let o = 0; o < a.length; o += stride) {
      any = true;
      const s = a[o]!;
      if (s < firstSampleOfRange) {
        apply(a, o);
        continue;
      }
      const at = Math.min(si.atOrAfter(s, t), i1 + 1);
      for (; cursor < at; cursor++) for (let c = 0; c < nc; c++) out[c]![cursor - i0] = state[c]!;
      if (at > i1) return;
      apply(a, o);
    }
  };
  consume(fetchFlat(d.raw, id, stride));
  consume(fetchFlat(d.recent, id, stride));
  for (; cursor <= i1; cursor++) for (let c = 0; c < nc; c++) out[c]![cursor - i0] = state[c]!;
  return any;
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

function plan(r: RecordReader, sinceMs: number): Plan {
  const t = r.timeline(sinceMs);
  const si = new SampleIndex(t);
  const procs = processes(r, sinceMs);
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

function lastFinite(v: Float64Array, len: number): number | undefined {
  for (let i = len - 1; i >= 0; i--) if (!Number.isNaN(v[i]!)) return v[i]!;
  return undefined;
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
  const pl = plan(r, o.sinceMs ?? 0);
  const { t, si, procs, ranges } = pl;
  const want = new Set<LevelMetric>(o.metrics ?? LEVEL_METRICS);
  const sockCols = SOCK_COLS;
  const withBuckets = t.firstRaw > 0;
  const pd = decoder(r, 'proc', PROC_COLS, [], withBuckets);
  const sd = decoder(r, 'sock', sockCols, [], withBuckets);
  const limits = new Limits(o, hostLast(r, t));
  const n = t.length;
  const procBuf = PROC_COLS.map(() => new Float64Array(n));
  const sockBuf = sockCols.map(() => new Float64Array(n));
  const times = t.tMs;
  const metricBuf = new Map<LevelMetric, Float64Array>(LEVEL_METRICS.map((m) => [m, new Float64Array(n)]));
  const cwIdx = sockCols.indexOf('tcp_close_wait');

  procs.forEach((p, k) => {
    const range = ranges[k];
    if (!range) return;
    const [i0, i1] = range;
    const len = i1 - i0 + 1;
    const hasProc = decodeInto(pd, p.id, t, range, si, procBuf);
    const hasSock =
      want.has('sockets') || want.has('close_wait') ? decodeInto(sd, p.id, t, range, si, sockBuf) : false;
    const series = new Map<LevelMetric, Float64Array>();
    if (hasProc) {
      const kib = (src: Float64Array, m: LevelMetric): void => {
        const dst = metricBuf.get(m)!;
        for (let j = 0; j < len; j++) dst[j] = src[j]! * 1024;
        series.set(m, dst.subarray(0, len));
      };
      if (want.has('anon')) kib(procBuf[0]!, 'anon');
      if (want.has('rss')) kib(procBuf[1]!, 'rss');
      if (want.has('pss')) kib(procBuf[2]!, 'pss');
      if (want.has('fds')) series.set('fds', procBuf[3]!.subarray(0, len));
      if (want.has('threads')) series.set('threads', procBuf[4]!.subarray(0, len));
    }
    if (hasSock) {
      if (want.has('sockets')) {
        const dst = metricBuf.get('sockets')!;
        for (let j = 0; j < len; j++) {
          let s = 0;
          let known = false;
          for (const col of sockBuf) {
            const x = col[j]!;
            if (x === x) {
              s += x;
              known = true;
            }
          }
          dst[j] = known ? s : NaN;
        }
        series.set('sockets', dst.subarray(0, len));
      }
      if (want.has('close_wait') && cwIdx >= 0) series.set('close_wait', sockBuf[cwIdx]!.subarray(0, len));
    }
    const entity = processEntity(p);
    const grp = p.grp !== null ? pl.groups.get(p.grp) : undefined;
    grp?.members.push(entity.key);
    for (const tr of pl.treesOf[k]!) tr.members.push(entity.key);
    const fds = series.get('fds');
    const fdsLast = fds ? lastFinite(fds, len) : undefined;
    const tt = times.subarray(i0, i1 + 1);
    for (const [m, v] of series) {
      if (lastFinite(v, len) === undefined) continue;
      const limit = (): SeriesLimit | undefined => {
        const last = lastFinite(v, len) ?? 0;
        if (m === 'anon' || m === 'rss' || m === 'pss') return limits.memory(last, p);
        if (m === 'fds' || m === 'sockets' || m === 'close_wait') return limits.nofile(last, fdsLast, p);
        if (m === 'threads') return limits.threads(last);
        return undefined;
      };
      emit({ entity, metric: m, tMs: tt, values: v, limit, ...(grp ? { runsOf: grp.entity } : {}) });
      grp?.add(m, i0, v, len, n);
      for (const tr of pl.treesOf[k]!) tr.add(m, i0, v, len, n);
    }
  });

  for (const a of [...pl.groups.values(), ...pl.trees]) {
    for (const m of LEVEL_METRICS) {
      const v = a.series(m);
      if (!v) continue;
      // only the stretch where some member was alive
      let a0 = 0;
      let a1 = v.length - 1;
      while (a0 <= a1 && Number.isNaN(v[a0]!)) a0++;
      while (a1 >= a0 && Number.isNaN(v[a1]!)) a1--;
      if (a0 > a1) continue;
      const vals = v.subarray(a0, a1 + 1);
      const last = lastFinite(vals, vals.length) ?? 0;
      const limit = (): SeriesLimit | undefined =>
        m === 'anon' || m === 'rss' || m === 'pss'
          ? limits.memory(last, undefined)
          : m === 'threads'
            ? limits.threads(last)
            : limits.fileMax(last);
      emit({ entity: a.entity, metric: m, tMs: times.subarray(a0, a1 + 1), values: vals, limit });
    }
    // the sums are no longer needed
    a.sums.clear();
    a.counts.clear();
  }
  return summaryOf(pl, limits.notes);
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
  const pl = plan(r, o.sinceMs ?? 0);
  const { t, si, procs, ranges } = pl;
  const n = t.length;
  const d = decoder(
    r,
    'proc',
    ['utime_ticks', 'stime_ticks'],
    ['utime_ticks', 'stime_ticks'],
    t.firstRaw > 0,
  );
  const buf = [new Float64Array(n), new Float64Array(n)];
  const ticks = new Float64Array(n);
  const rate = new Float64Array(n);
  procs.forEach((p, k) => {
    const range = ranges[k];
    if (!range) return;
    const [i0, i1] = range;
    const len = i1 - i0 + 1;
    if (len < 2 || !decodeInto(d, p.id, t, range, si, buf)) return;
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
    const cols = [
      'cpu_user_ticks',
      'cpu_nice_ticks',
      'cpu_system_ticks',
      'cpu_irq_ticks',
      'cpu_softirq_ticks',
      'cpu_steal_ticks',
    ];
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
