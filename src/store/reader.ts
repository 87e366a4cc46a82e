/**
 * The read side of the record: the timeline (every sample, and every 10-minute bucket older than the
 * retention), process identities, and the decoding of change-only rows into dense series over that
 * timeline (carrying each last known value forward, see index.ts). Rates and sums across processes are
 * left to the caller (record/history.ts), which knows the units.
 */
import type { Statement } from 'better-sqlite3';
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

  constructor(store: Store) {
    this.store = store;
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
    const idx = columns.map((c) => {
      const i = spec.columns.findIndex((x) => x.name === c);
      if (i < 0) throw new Error(`no column ${c} in ${spec.table}`);
      return i;
    });
    const kinds = idx.map((i) => spec.columns[i]?.kind);
    const [i0, i1] = range;
    const n = Math.max(0, i1 - i0 + 1);
    const values = idx.map(() => new Float64Array(n).fill(NaN));
    const min = idx.map(() => new Float64Array(n).fill(NaN));
    const max = idx.map(() => new Float64Array(n).fill(NaN));
    const state = idx.map(() => NaN);
    const where = spec.perProcess ? 'WHERE proc = ?' : '';
    const args = spec.perProcess ? [id] : [];

    // Buckets: [bucket, then min, max, last per requested column] (a counter has only a last).
    const bsel = idx.flatMap((i) => {
      const c = spec.columns[i];
      if (!c) return [];
      return c.kind === 'counter'
        ? [`NULL`, `NULL`, `${c.name}_last`]
        : [`${c.name}_min`, `${c.name}_max`, `${c.name}_last`];
    });
    const buckets = this.prep(
      `SELECT bucket, ${bsel.join(', ')} FROM ${spec.table}_10m ${where} ORDER BY bucket`,
    )
      .raw(true)
      .all(...args) as (number | null)[][];
    const sel = idx.map((i) => spec.columns[i]?.name ?? 'NULL').join(', ');
    const rawSql = spec.perProcess
      ? `SELECT sample, k, ${sel} FROM ${spec.table}_raw WHERE proc = ? UNION ALL SELECT sample, k, ${sel} FROM ${spec.table}_recent WHERE proc = ? ORDER BY sample`
      : `SELECT sample, k, ${sel} FROM ${spec.table}_raw ORDER BY sample`;
    const raw = this.prep(rawSql)
      .raw(true)
      .all(...(spec.perProcess ? [id, id] : [])) as (number | null)[][];

    let bi = 0;
    let ri = 0;
    let bmin: number[] = [];
    let bmax: number[] = [];
    let bAt = -1;
    const applyBucket = (r: (number | null)[]): void => {
      bmin = [];
      bmax = [];
      for (let c = 0; c < idx.length; c++) {
        const last = r[1 + c * 3 + 2];
        if (last !== null && last !== undefined) state[c] = last;
        bmin[c] = r[1 + c * 3] ?? NaN;
        bmax[c] = r[1 + c * 3 + 1] ?? NaN;
      }
      bAt = r[0] ?? -1;
    };
    const applyRaw = (r: (number | null)[]): void => {
      const key = r[1] === 1;
      for (let c = 0; c < idx.length; c++) {
        const v = r[2 + c];
        if (kinds[c] === 'counter') {
          if (key) state[c] = v ?? NaN;
          else if (v !== null && v !== undefined) state[c] = (state[c] ?? NaN) + v;
        } else if (v !== null && v !== undefined) state[c] = v;
        else if (key) state[c] = NaN;
      }
    };
    for (let j = 0; j < n; j++) {
      const i = i0 + j;
      const b = t.bucket[i] ?? -1;
      if (b >= 0) {
        while (bi < buckets.length && (buckets[bi]?.[0] ?? Infinity) <= b) applyBucket(buckets[bi++] ?? []);
        for (let c = 0; c < idx.length; c++) {
          const v = state[c] ?? NaN;
          values[c]![j] = v;
          const had = bAt === b;
          min[c]![j] = had && kinds[c] === 'gauge' ? (bmin[c] ?? v) : v;
          max[c]![j] = had && kinds[c] === 'gauge' ? (bmax[c] ?? v) : v;
        }
      } else {
        // All buckets precede every raw sample.
        while (bi < buckets.length) applyBucket(buckets[bi++] ?? []);
        const s = t.sample[i] ?? 0;
        while (ri < raw.length && (raw[ri]?.[0] ?? Infinity) <= s) applyRaw(raw[ri++] ?? []);
        for (let c = 0; c < idx.length; c++) values[c]![j] = state[c] ?? NaN;
      }
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
