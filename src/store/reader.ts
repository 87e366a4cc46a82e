/**
 * The read side of the record: the timeline (every sample, and every 10-minute bucket older than the
 * retention), process identities, and the decoding of change-only rows into dense series over that
 * timeline (carrying each last known value forward, see index.ts). Rates and sums across processes are
 * left to the caller (record/history.ts), which knows the units.
 */
import type { Database, Statement } from 'better-sqlite3';
import { BUCKET_MS, HOST_SERIES, PROC_SERIES, SOCK_SERIES, type SeriesSpec } from './schema.js';
import type { Store } from './store.js';

export interface Timeline {
  /** Point times, ascending: bucket starts first (downsampled region), then raw samples. */
  tMs: Float64Array;
  /** Boot (row id) of each raw point; -1 for bucket points. */
  boot: Int32Array;
  /** Sample id of each raw point; -1 for bucket points. */
  sample: Float64Array;
  /** Bucket number of each bucket point; -1 for raw points. */
  bucket: Float64Array;
  length: number;
  /** Index of the first raw point (= number of bucket points). */
  firstRaw: number;
  /** Per point, the recorder's duration, cumulative CPU and RSS (NaN for buckets). */
  self: { durationMs: Float64Array; cpuMs: Float64Array; rssKib: Float64Array };
}

export interface ProcessRow {
  id: number;
  boot: number;
  bootId: string;
  pid: number;
  startTimeTicks: number;
  ppid: number | null;
  parent: number | null;
  uid: number | null;
  comm: string;
  exe: string | null;
  argv: string[];
  group: number | null;
  groupKey: string | null;
  groupLabel: string | null;
  kernelThread: boolean;
  firstSample: number;
  firstMs: number;
  endSample: number | null;
  endMs: number | null;
}

export interface DecodedSeries {
  /** First timeline index covered; values[c][j] is point `from + j`. */
  from: number;
  /** One array per requested column (absolute values; NaN = not alive or unknown). */
  values: Float64Array[];
  /** Bucket points only: the min and max of gauges within the bucket (NaN elsewhere). */
  min: Float64Array[];
  max: Float64Array[];
}

export type EntitySelector =
  { kind: 'process'; pid: number } | { kind: 'group'; name: string } | { kind: 'tree'; pid: number };

const PROCESS_COLS = `p.id, p.boot, b.boot_id AS bootId, p.pid, p.start_ticks AS startTimeTicks, p.ppid, p.parent, p.uid,
  sc.s AS comm, se.s AS exe, sa.s AS cmd, p.grp AS "group", g.key AS groupKey, g.label AS groupLabel, p.kthread,
  p.first_sample AS firstSample, p.first_ms AS firstMs, p.end_sample AS endSample, p.end_ms AS endMs`;
const PROCESS_FROM = `processes p JOIN boots b ON b.id = p.boot LEFT JOIN strings sc ON sc.id = p.comm
  LEFT JOIN strings se ON se.id = p.exe LEFT JOIN strings sa ON sa.id = p.cmdline LEFT JOIN groups g ON g.id = p.grp`;

type RawProcess = Omit<ProcessRow, 'argv' | 'kernelThread'> & { cmd: string | null; kthread: number };

function toProcess(r: RawProcess): ProcessRow {
  const { cmd, kthread, ...rest } = r;
  return { ...rest, comm: r.comm ?? '', argv: cmd ? cmd.split('\u0000') : [], kernelThread: kthread === 1 };
}

export class RecordReader {
  readonly store: Store;
  private readonly stmts = new Map<string, Statement>();
  private readonly decoders = new Map<string, RowDecoder>();
  private readonly indices = new WeakMap<Timeline, SampleIndex>();

  constructor(store: Store) {
    this.store = store;
  }

  /** A decoder reading the recent tier per call (the reader may live while a recorder appends). */
  private rowDecoder(spec: SeriesSpec, columns: readonly string[]): RowDecoder {
    const key = `${spec.table}\u0000${columns.join(',')}`;
    let d = this.decoders.get(key);
    if (!d)
      this.decoders.set(
        key,
        (d = new RowDecoder(this, spec, columns, { recent: 'query', skipUnchanged: true })),
      );
    return d;
  }

  /** The sample → point index of a timeline, built once per timeline. */
  sampleIndex(t: Timeline): SampleIndex {
    let si = this.indices.get(t);
    if (!si) this.indices.set(t, (si = new SampleIndex(t)));
    return si;
  }

  private prep(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.store.db.prepare(sql)));
    return s;
  }

  /** The timeline from `sinceMs` (inclusive) to the newest sample. */
  timeline(sinceMs = 0): Timeline {
    const b0 = Math.floor(sinceMs / BUCKET_MS);
    const buckets = this.prep(`SELECT bucket FROM host_10m WHERE bucket >= ? ORDER BY bucket`)
      .raw(true)
      .all(b0) as [number][];
    const first = this.prep(`SELECT min(id) AS id FROM samples WHERE t_ms >= ?`).get(sinceMs) as {
      id: number | null;
    };
    const samples =
      first.id === null
        ? []
        : (this.prep(
            `SELECT id, t_ms, boot, duration_ms, self_cpu_ms, self_rss_kib FROM samples WHERE id >= ? ORDER BY id`,
          )
            .raw(true)
            .all(first.id) as [number, number, number, number | null, number | null, number | null][]);
    const n = buckets.length + samples.length;
    const t: Timeline = {
      tMs: new Float64Array(n),
      boot: new Int32Array(n),
      sample: new Float64Array(n),
      bucket: new Float64Array(n),
      length: n,
      firstRaw: buckets.length,
      self: {
        durationMs: new Float64Array(n).fill(NaN),
        cpuMs: new Float64Array(n).fill(NaN),
        rssKib: new Float64Array(n).fill(NaN),
      },
    };
    buckets.forEach(([b], i) => {
      t.tMs[i] = b * BUCKET_MS;
      t.boot[i] = -1;
      t.sample[i] = -1;
      t.bucket[i] = b;
    });
    samples.forEach(([id, ms, boot, dur, cpu, rss], k) => {
      const i = buckets.length + k;
      t.tMs[i] = ms;
      t.boot[i] = boot;
      t.sample[i] = id;
      t.bucket[i] = -1;
      t.self.durationMs[i] = dur ?? NaN;
      t.self.cpuMs[i] = cpu ?? NaN;
      t.self.rssKib[i] = rss ?? NaN;
    });
    return t;
  }

  process(id: number): ProcessRow | undefined {
    const r = this.prep(`SELECT ${PROCESS_COLS} FROM ${PROCESS_FROM} WHERE p.id = ?`).get(id) as
      RawProcess | undefined;
    return r ? toProcess(r) : undefined;
  }

  /** Every recorded identity of a PID, newest first (a PID is reused; each start is its own process). */
  processesByPid(pid: number): ProcessRow[] {
    return (
      this.prep(
        `SELECT ${PROCESS_COLS} FROM ${PROCESS_FROM} WHERE p.pid = ? ORDER BY p.first_sample DESC, p.id DESC`,
      ).all(pid) as RawProcess[]
    ).map(toProcess);
  }

  processesInGroups(groups: readonly number[]): ProcessRow[] {
    if (groups.length === 0) return [];
    return (
      this.prep(
        `SELECT ${PROCESS_COLS} FROM ${PROCESS_FROM} WHERE p.grp IN (SELECT value FROM json_each(?)) ORDER BY p.id`,
      ).all(JSON.stringify(groups)) as RawProcess[]
    ).map(toProcess);
  }

  /** A process and all its descendants (by the parent recorded when each was first seen). */
  tree(rootId: number): ProcessRow[] {
    return (
      this.prep(
        `WITH RECURSIVE t(id) AS (SELECT ? UNION SELECT c.id FROM processes c JOIN t ON c.parent = t.id)
         SELECT ${PROCESS_COLS} FROM ${PROCESS_FROM} WHERE p.id IN (SELECT id FROM t) ORDER BY p.id`,
      ).all(rootId) as RawProcess[]
    ).map(toProcess);
  }

  /** Groups whose label, key or comm matches `name`: exact label or key first, then substrings. */
  findGroups(name: string): { id: number; key: string; label: string; processes: number }[] {
    const all = this.prep(
      `SELECT g.id, g.key, g.label, count(p.id) AS processes, group_concat(DISTINCT sc.s) AS comms
       FROM groups g LEFT JOIN processes p ON p.grp = g.id LEFT JOIN strings sc ON sc.id = p.comm GROUP BY g.id ORDER BY g.id`,
    ).all() as { id: number; key: string; label: string; processes: number; comms: string | null }[];
    const strip = ({
      id,
      key,
      label,
      processes,
    }: (typeof all)[number]): { id: number; key: string; label: string; processes: number } => ({
      id,
      key,
      label,
      processes,
    });
    const exact = all.filter((g) => g.label === name || g.key === name);
    if (exact.length > 0) return exact.map(strip);
    const base = all.filter((g) => {
      const exe = g.key.split('\u0000')[0] ?? '';
      return exe === name || exe.endsWith(`/${name}`) || (g.comms ?? '').split(',').includes(name);
    });
    if (base.length > 0) return base.map(strip);
    return all.filter((g) => g.label.includes(name)).map(strip);
  }

  /** The timeline range [i0, i1] during which a process was alive (undefined: not in the timeline). */
  aliveRange(p: ProcessRow, t: Timeline): [number, number] | undefined {
    let i0 = -1;
    let i1 = -1;
    const endMs = p.endMs ?? Infinity;
    const firstBucketMs = Math.floor(p.firstMs / BUCKET_MS) * BUCKET_MS;
    for (let i = 0; i < t.firstRaw; i++) {
      const ms = t.tMs[i] ?? 0;
      if (ms >= firstBucketMs && ms <= endMs) {
        if (i0 < 0) i0 = i;
        i1 = i;
      }
    }
    const endSample = p.endSample ?? Infinity;
    // Raw points: binary search the first sample ≥ first_sample, then walk while alive and same boot.
    let lo = t.firstRaw;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((t.sample[mid] ?? 0) < p.firstSample) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < t.length; i++) {
      const s = t.sample[i] ?? 0;
      if (s > endSample || t.boot[i] !== p.boot) break;
      if (i0 < 0) i0 = i;
      i1 = i;
    }
    return i0 < 0 ? undefined : [i0, i1];
  }

  /**
   * Dense values of some columns of one process (or of the host, `id` undefined) over the timeline
   * range [i0, i1]. Rows before i0 are applied first, so the carried values are right at i0.
   */
  decode(
    spec: SeriesSpec,
    id: number | undefined,
    columns: readonly string[],
    t: Timeline,
    range: [number, number],
  ): DecodedSeries {
    const idx = columnIndices(spec, columns);
    const kinds = idx.map((i) => spec.columns[i]?.kind);
    const [i0, i1] = range;
    const n = Math.max(0, i1 - i0 + 1);
    const values = idx.map(() => new Float64Array(n).fill(NaN));
    const min = idx.map(() => new Float64Array(n).fill(NaN));
    const max = idx.map(() => new Float64Array(n).fill(NaN));
    const nc = idx.length;
    const state = new Float64Array(nc).fill(NaN);

    // Buckets: [bucket, then min, max, last per requested column] (a counter has only a last).
    const bsel = idx.flatMap((i) => {
      const c = spec.columns[i];
      if (!c) return [];
      return c.kind === 'counter'
        ? [`NULL`, `NULL`, `${c.name}_last`]
        : [`${c.name}_min`, `${c.name}_max`, `${c.name}_last`];
    });
    const where = spec.perProcess ? 'WHERE proc = ?' : '';
    const args = spec.perProcess ? [id] : [];
    const buckets = this.prep(
      `SELECT bucket, ${bsel.join(', ')} FROM ${spec.table}_10m ${where} ORDER BY bucket`,
    )
      .raw(true)
      .all(...args) as (number | null)[][];
    let bi = 0;
    let bmin: number[] = [];
    let bmax: number[] = [];
    let bAt = -1;
    const applyBucket = (r: (number | null)[]): void => {
      bmin = [];
      bmax = [];
      for (let c = 0; c < nc; c++) {
        const last = r[1 + c * 3 + 2];
        if (last !== null && last !== undefined) state[c] = last;
        bmin[c] = r[1 + c * 3] ?? NaN;
        bmax[c] = r[1 + c * 3 + 1] ?? NaN;
      }
      bAt = r[0] ?? -1;
    };
    // Bucket points (they all precede the raw points).
    const lastBucketPoint = Math.min(i1, t.firstRaw - 1);
    for (let i = i0; i <= lastBucketPoint; i++) {
      const j = i - i0;
      const b = t.bucket[i] ?? -1;
      while (bi < buckets.length && (buckets[bi]?.[0] ?? Infinity) <= b) applyBucket(buckets[bi++] ?? []);
      const had = bAt === b;
      for (let c = 0; c < nc; c++) {
        const v = state[c]!;
        values[c]![j] = v;
        min[c]![j] = had && kinds[c] === 'gauge' ? (bmin[c] ?? v) : v;
        max[c]![j] = had && kinds[c] === 'gauge' ? (bmax[c] ?? v) : v;
      }
    }
    const firstRawPoint = Math.max(i0, t.firstRaw);
    if (firstRawPoint <= i1) {
      // All buckets precede every raw sample.
      while (bi < buckets.length) applyBucket(buckets[bi++] ?? []);
      this.rowDecoder(spec, columns).decodeRaw(
        id,
        t,
        this.sampleIndex(t),
        [i0, i1],
        firstRawPoint,
        state,
        values,
      );
    }
    return { from: i0, values, min, max };
  }

  /** Top remote addresses per TCP state at the newest socket pass at or before `atMs`. */
  remotesAt(
    atMs = Infinity,
  ): { tMs: number; byState: Record<number, { address: string; count: number }[]> } | undefined {
    const row = this.prep(
      `SELECT r.sample, s.t_ms FROM host_remotes r JOIN samples s ON s.id = r.sample WHERE s.t_ms <= ? ORDER BY r.sample DESC LIMIT 1`,
    ).get(Number.isFinite(atMs) ? atMs : Number.MAX_SAFE_INTEGER) as
      { sample: number; t_ms: number } | undefined;
    if (!row) return undefined;
    const rows = this.prep(
      `SELECT r.state, st.s AS address, r.count FROM host_remotes r JOIN strings st ON st.id = r.addr WHERE r.sample = ? ORDER BY r.state, r.count DESC`,
    ).all(row.sample) as { state: number; address: string; count: number }[];
    const byState: Record<number, { address: string; count: number }[]> = {};
    for (const r of rows) (byState[r.state] ??= []).push({ address: r.address, count: r.count });
    return { tMs: row.t_ms, byState };
  }

  /** Counts for a quick summary of the file. */
  stats(): {
    samples: number;
    processes: number;
    runs: number;
    firstMs: number | null;
    lastMs: number | null;
    buckets: number;
  } {
    const s = this.prep(`SELECT count(*) AS n, min(t_ms) AS a, max(t_ms) AS b FROM samples`).get() as {
      n: number;
      a: number | null;
      b: number | null;
    };
    const p = this.prep(`SELECT count(*) AS n FROM processes`).get() as { n: number };
    const r = this.prep(`SELECT count(*) AS n FROM runs`).get() as { n: number };
    const b = this.prep(`SELECT count(*) AS n, min(bucket) AS a FROM host_10m`).get() as {
      n: number;
      a: number | null;
    };
    return {
      samples: s.n,
      processes: p.n,
      runs: r.n,
      firstMs: b.a !== null ? b.a * BUCKET_MS : s.a,
      lastMs: s.b,
      buckets: b.n,
    };
  }
}

export const SERIES = { proc: PROC_SERIES, sock: SOCK_SERIES, host: HOST_SERIES } as const;

function columnIndices(spec: SeriesSpec, columns: readonly string[]): number[] {
  return columns.map((c) => {
    const i = spec.columns.findIndex((x) => x.name === c);
    if (i < 0) throw new Error(`no column ${c} in ${spec.table}`);
    return i;
  });
}

// ---- dense decoding of change-only rows -------------------------------------------------------------

/** Maps a sample id to the first raw timeline point at or after it, in O(1) (thinned timelines too). */
export class SampleIndex {
  private readonly base: number;
  private readonly next: Int32Array;
  private readonly firstRaw: number;
  private readonly length: number;

  constructor(t: Timeline) {
    this.firstRaw = t.firstRaw;
    this.length = t.length;
    const first = t.firstRaw < t.length ? t.sample[t.firstRaw]! : 0;
    const last = t.length > t.firstRaw ? t.sample[t.length - 1]! : -1;
    this.base = first;
    this.next = new Int32Array(Math.max(0, last - first + 1));
    let i = t.length - 1;
    for (let k = this.next.length - 1; k >= 0; k--) {
      while (i - 1 >= t.firstRaw && t.sample[i - 1]! >= first + k) i--;
      this.next[k] = i;
    }
  }

  /** Timeline index of the first raw point with sample id ≥ s (the timeline's length when none). */
  atOrAfter(s: number): number {
    if (s < this.base) return this.firstRaw;
    const k = s - this.base;
    return k < this.next.length ? this.next[k]! : this.length;
  }
}

/**
 * Receives the rows of one process in sample order and writes the carried values into dense columns.
 * Rows arrive from SQLite through an aggregate function (below): materialising millions of rows as JS
 * arrays costs several times more than one call per row with the values as arguments (measured on the
 * 7.2 M process-sample bench record: 7 s for `.raw().iterate()`, 4 s for a concatenated string parsed
 * as JSON, under 2 s for the aggregate).
 */
class DenseSink {
  nc = 0;
  counter: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  state: Float64Array<ArrayBufferLike> = new Float64Array(0);
  out: readonly (Float64Array | undefined)[] = [];
  scale: ArrayLike<number> | undefined;
  sum: Float64Array | undefined;
  sumState = NaN;
  si: SampleIndex | undefined;
  i0 = 0;
  cursor = 0;
  end = 0;
  firstSample = Infinity;
  prev = -Infinity;
  any = false;
  unordered = false;
  done = false;

  row(s: number, k: number | null, v: readonly (number | null | undefined)[], o: number): void {
    this.any = true;
    if (s < this.prev) this.unordered = true;
    this.prev = s;
    if (this.done || this.unordered) return;
    if (s >= this.firstSample) {
      const at = Math.min(this.si!.atOrAfter(s), this.end);
      if (at > this.cursor) this.fill(at);
      if (at >= this.end) {
        this.done = true;
        return;
      }
    }
    const key = k === 1;
    const state = this.state;
    for (let c = 0; c < this.nc; c++) {
      const x = v[o + c];
      if (this.counter[c] === 1) {
        if (key) state[c] = x ?? NaN;
        else if (x !== null && x !== undefined) state[c] = state[c]! + x;
      } else if (x !== null && x !== undefined) state[c] = x;
      else if (key) state[c] = NaN;
    }
    if (this.sum) {
      let sum = 0;
      let known = false;
      for (let c = 0; c < this.nc; c++) {
        const x = state[c]!;
        if (x === x) {
          sum += x;
          known = true;
        }
      }
      this.sumState = known ? sum : NaN;
    }
  }

  /** Points [cursor, to) get the current state. */
  fill(to: number): void {
    const a = this.cursor - this.i0;
    const b = to - this.i0;
    // Most runs are a point or two (a busy process writes a row per sample): a loop beats fill()'s call.
    const short = b - a <= 8;
    for (let c = 0; c < this.nc; c++) {
      const o = this.out[c];
      if (!o) continue;
      const v = this.scale ? this.state[c]! * this.scale[c]! : this.state[c]!;
      if (short) for (let j = a; j < b; j++) o[j] = v;
      else o.fill(v, a, b);
    }
    const sum = this.sum;
    if (sum) {
      if (short) for (let j = a; j < b; j++) sum[j] = this.sumState;
      else sum.fill(this.sumState, a, b);
    }
    this.cursor = to;
  }
}

/** The sink the aggregate function writes into, set for the duration of one statement. */
let activeSink: DenseSink | undefined;
const ROWS_FN = 'procsleuth_dense_rows';
const withRowsFn = new WeakSet<Database>();

function registerRowsFn(db: Database): void {
  if (withRowsFn.has(db)) return;
  db.aggregate<number>(ROWS_FN, {
    start: 0,
    varargs: true,
    step: ((n: number, s: number, k: number | null, ...v: (number | null)[]) => {
      if (!activeSink) throw new Error(`${ROWS_FN} called outside RowDecoder`);
      activeSink.row(s, k, v, 0);
      return n + 1;
    }) as (total: number, next: number) => number,
  });
  withRowsFn.add(db);
}

export interface RowDecoderOptions {
  /**
   * 'preload': the recent tier (≤ 10 minutes of rows, keyed by sample) is read once for every process,
   * for scans over many processes; 'query': read per call (one process or the host).
   */
  recent: 'preload' | 'query';
  /**
   * Leave out in SQL the rows that change none of the columns (not a keyframe, all NULL): they move
   * nothing, and a busy process writes many (its CPU ticks change, its memory does not). The only
   * difference it makes is to decodeRaw's answer for a process whose every row is such a row.
   */
  skipUnchanged?: boolean;
}

export interface DenseExtra {
  /** Multiply column c by scale[c] when writing it (KiB → bytes). */
  scale?: ArrayLike<number> | undefined;
  /** Also write, per point, the sum of the columns known there (NaN where none is). */
  sum?: Float64Array | undefined;
}

/**
 * Decodes the raw and recent rows of some columns of one table into dense columns over a timeline
 * range, carrying each last known value forward (see index.ts for the encoding). Buckets are left to
 * the caller, which knows which bucket value it wants (the floor for leaks, the last value for charts).
 */
export class RowDecoder {
  readonly spec: SeriesSpec;
  readonly columns: readonly string[];
  private readonly db: Database;
  private readonly sink = new DenseSink();
  private readonly counter: Uint8Array;
  private readonly select: string;
  private readonly changed: string | undefined;
  private readonly where: string;
  private readonly rawStmt: Statement;
  private readonly recentStmt: Statement | undefined;
  private readonly recentMode: RowDecoderOptions['recent'];
  private recentRows: Map<number, (number | null)[][]> | undefined;

  constructor(reader: RecordReader, spec: SeriesSpec, columns: readonly string[], o: RowDecoderOptions) {
    const idx = columnIndices(spec, columns);
    this.spec = spec;
    this.columns = columns;
    this.db = reader.store.db;
    this.counter = Uint8Array.from(idx, (i) => (spec.columns[i]?.kind === 'counter' ? 1 : 0));
    this.recentMode = o.recent;
    registerRowsFn(this.db);
    this.select = ['sample', 'k', ...columns].join(', ');
    this.changed = o.skipUnchanged
      ? `(k = 1 OR ${columns.map((c) => `${c} IS NOT NULL`).join(' OR ')})`
      : undefined;
    const conds = [...(spec.perProcess ? ['proc = ?'] : []), ...(this.changed ? [this.changed] : [])];
    this.where = conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : '';
    // Rows come in primary-key order: (proc, sample) for raw, sample for the host and for recent.
    this.rawStmt = this.db
      .prepare(`SELECT ${ROWS_FN}(${this.select}) FROM ${spec.table}_raw${this.where}`)
      .pluck();
    this.recentStmt =
      spec.perProcess && o.recent === 'query'
        ? this.db.prepare(`SELECT ${ROWS_FN}(${this.select}) FROM ${spec.table}_recent${this.where}`).pluck()
        : undefined;
  }

  private recentOf(id: number): (number | null)[][] | undefined {
    if (!this.recentRows) {
      this.recentRows = new Map();
      const rows = this.db
        .prepare(
          `SELECT proc, ${this.select} FROM ${this.spec.table}_recent${this.changed ? ` WHERE ${this.changed}` : ''} ORDER BY proc, sample`,
        )
        .raw(true)
        .all() as (number | null)[][];
      for (const r of rows) {
        const p = r[0]!;
        let list = this.recentRows.get(p);
        if (!list) this.recentRows.set(p, (list = []));
        list.push(r);
      }
    }
    return this.recentRows.get(id);
  }

  /**
   * Applies the rows of process `id` (the host: undefined) to `state` and writes the carried values at
   * raw points [from, i1] into out[c][i − i0] (a column whose out is undefined is tracked, not written).
   * Rows before `from` only move the state. Returns whether the process has any row at all.
   */
  decodeRaw(
    id: number | undefined,
    t: Timeline,
    si: SampleIndex,
    range: [number, number],
    from: number,
    state: Float64Array,
    out: readonly (Float64Array | undefined)[],
    extra: DenseExtra = {},
  ): boolean {
    const [i0, i1] = range;
    const start = state.slice();
    const sink = this.sink;
    const reset = (): void => {
      sink.nc = this.columns.length;
      sink.counter = this.counter;
      sink.state = state;
      sink.out = out;
      sink.scale = extra.scale;
      sink.sum = extra.sum;
      sink.si = si;
      sink.i0 = i0;
      sink.cursor = from;
      sink.end = i1 + 1;
      sink.firstSample = from <= i1 && from < t.length ? t.sample[from]! : Infinity;
      sink.prev = -Infinity;
      sink.any = false;
      sink.unordered = false;
      sink.done = false;
      let sum = 0;
      let known = false;
      for (let c = 0; c < state.length; c++) {
        const x = state[c]!;
        if (x === x) {
          sum += x;
          known = true;
        }
      }
      sink.sumState = known ? sum : NaN;
    };
    reset();
    const args = this.spec.perProcess ? [id] : [];
    const outer = activeSink;
    activeSink = sink;
    try {
      this.rawStmt.get(...args);
      if (this.recentStmt) this.recentStmt.get(...args);
    } finally {
      activeSink = outer;
    }
    if (this.recentMode === 'preload' && id !== undefined)
      for (const r of this.recentOf(id) ?? []) sink.row(r[1]!, r[2] ?? null, r, 3);
    if (sink.unordered) {
      // Never seen: SQLite hands rows over in key order. Should it not, sort them here.
      state.set(start);
      reset();
      const rows = this.allRows(id).sort((a, b) => a[0]! - b[0]!);
      for (const r of rows) sink.row(r[0]!, r[1] ?? null, r, 2);
    }
    if (sink.cursor < sink.end) sink.fill(sink.end);
    return sink.any;
  }

  private allRows(id: number | undefined): (number | null)[][] {
    const args = this.spec.perProcess ? [id] : [];
    const q = (table: string): (number | null)[][] =>
      this.db
        .prepare(`SELECT ${this.select} FROM ${table}${this.where}`)
        .raw(true)
        .all(...args) as (number | null)[][];
    return [...q(`${this.spec.table}_raw`), ...(this.spec.perProcess ? q(`${this.spec.table}_recent`) : [])];
  }
}
