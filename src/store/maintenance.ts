/**
 * Retention: raw rows older than the retention are folded into 10-minute buckets (gauges: min, max,
 * last; counters: last), then deleted with their samples; buckets older than the bucket retention are
 * deleted, and so are processes that ended before it.
 *
 * Crash-safe by construction: each batch of processes is one transaction that writes its buckets and
 * deletes the raw rows they replace, so re-running after a crash finds nothing left to fold for the
 * processes already done. The host series, the samples and the cut itself move in the last transaction.
 */
import {
  BUCKET_MS,
  HOST_SERIES,
  PROC_SERIES,
  SOCK_SERIES,
  bucketColumns,
  type SeriesSpec,
} from './schema.js';
import type { Store } from './store.js';

export interface MaintenanceOptions {
  nowMs: number;
  /** Raw samples are kept this long. */
  retentionMs: number;
  /** Buckets are kept this long (default 365 days). */
  bucketRetentionMs?: number;
  /** Processes per transaction (default 200). */
  batch?: number;
}

export interface MaintenanceResult {
  /** Raw data before this time is now in buckets (0: nothing old enough yet). */
  cutMs: number;
  processes: number;
  bucketRows: number;
  rawRowsDeleted: number;
  samplesDeleted: number;
  bucketRowsExpired: number;
  processesExpired: number;
  durationMs: number;
}

const META_CUT = 'downsampled_to_ms';

interface Acc {
  bucket: number;
  samples: number;
  min: number[];
  max: number[];
  last: number[];
}

/** Folds one chain of rows (already ordered) into buckets, starting from the carried state. */
function fold(
  spec: SeriesSpec,
  carry: number[],
  rows: Iterable<{ tMs: number; row: (number | null)[] | undefined }>,
): Acc[] {
  const cols = spec.columns;
  const state = carry.slice();
  const out: Acc[] = [];
  let acc: Acc | undefined;
  const see = (a: Acc): void => {
    for (let c = 0; c < cols.length; c++) {
      const v = state[c] ?? NaN;
      if (Number.isNaN(v)) continue;
      if (!(v >= (a.min[c] ?? Infinity))) a.min[c] = v;
      if (!(v <= (a.max[c] ?? -Infinity))) a.max[c] = v;
      a.last[c] = v;
    }
  };
  for (const { tMs, row } of rows) {
    const b = Math.floor(tMs / BUCKET_MS);
    if (!acc || acc.bucket !== b) {
      acc = {
        bucket: b,
        samples: 0,
        min: cols.map(() => NaN),
        max: cols.map(() => NaN),
        last: cols.map(() => NaN),
      };
      out.push(acc);
      // The value held when the bucket began counts toward its min and max.
      see(acc);
    }
    acc.samples++;
    if (row) {
      const key = row[0] === 1;
      for (let c = 0; c < cols.length; c++) {
        const v = row[1 + c];
        if (cols[c]?.kind === 'counter') {
          if (key) state[c] = v ?? NaN;
          else if (v !== null && v !== undefined) state[c] = (state[c] ?? NaN) + v;
        } else if (v !== null && v !== undefined) state[c] = v;
        else if (key) state[c] = NaN;
      }
    }
    see(acc);
  }
  return out;
}

function bucketValues(spec: SeriesSpec, a: Acc): (number | null)[] {
  const out: (number | null)[] = [];
  spec.columns.forEach((c, i) => {
    const z = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);
    if (c.kind === 'counter') out.push(z(a.last[i]));
    else out.push(z(a.min[i]), z(a.max[i]), z(a.last[i]));
  });
  return out;
}

function lastBucketState(store: Store, spec: SeriesSpec, proc: number | undefined): number[] {
  const lastCols = spec.columns.map((c) => `${c.name}_last`);
  const row = (
    spec.perProcess
      ? store.db
          .prepare(
            `SELECT ${lastCols.join(', ')} FROM ${spec.table}_10m WHERE proc = ? ORDER BY bucket DESC LIMIT 1`,
          )
          .raw(true)
          .get(proc)
      : store.db
          .prepare(`SELECT ${lastCols.join(', ')} FROM ${spec.table}_10m ORDER BY bucket DESC LIMIT 1`)
          .raw(true)
          .get()
  ) as (number | null)[] | undefined;
  return spec.columns.map((_, i) => row?.[i] ?? NaN);
}

function insertBucketSql(spec: SeriesSpec): string {
  const cols = [...(spec.perProcess ? ['proc', 'bucket'] : ['bucket', 'samples']), ...bucketColumns(spec)];
  return `INSERT OR REPLACE INTO ${spec.table}_10m (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
}

export function runMaintenance(store: Store, o: MaintenanceOptions): MaintenanceResult {
  const t0 = performance.now();
  const db = store.db;
  const res: MaintenanceResult = {
    cutMs: 0,
    processes: 0,
    bucketRows: 0,
    rawRowsDeleted: 0,
    samplesDeleted: 0,
    bucketRowsExpired: 0,
    processesExpired: 0,
    durationMs: 0,
  };
  const oldCut = Number(store.getMeta(META_CUT) ?? 0);
  const cutMs = Math.floor((o.nowMs - o.retentionMs) / BUCKET_MS) * BUCKET_MS;
  res.cutMs = Math.max(oldCut, cutMs);
  if (cutMs > oldCut) {
    const next = db.prepare(`SELECT min(id) AS id FROM samples WHERE t_ms >= ?`).get(cutMs) as {
      id: number | null;
    };
    const maxId = (db.prepare(`SELECT max(id) AS id FROM samples`).get() as { id: number | null }).id ?? 0;
    const cutSample = next.id ?? maxId + 1;
    const times = new Map<number, number>();
    for (const [id, ms] of db
      .prepare(`SELECT id, t_ms FROM samples WHERE id < ? ORDER BY id`)
      .raw(true)
      .iterate(cutSample) as Iterable<[number, number]>) {
      times.set(id, ms);
    }

    store.tx('compact the recent tier', () => {
      for (const s of [PROC_SERIES, SOCK_SERIES]) {
        const cols = ['proc', 'sample', 'k', ...s.columns.map((c) => c.name)].join(', ');
        db.prepare(
          `INSERT OR REPLACE INTO ${s.table}_raw (${cols}) SELECT ${cols} FROM ${s.table}_recent WHERE sample < ?`,
        ).run(cutSample);
        db.prepare(`DELETE FROM ${s.table}_recent WHERE sample < ?`).run(cutSample);
      }
    });

    const procs = (
      db
        .prepare(
          `SELECT id FROM processes WHERE first_sample < ? AND (end_ms IS NULL OR end_ms >= ?) ORDER BY id`,
        )
        .raw(true)
        .all(cutSample, oldCut) as [number][]
    ).map((r) => r[0]);
    const batch = o.batch ?? 200;
    for (let i = 0; i < procs.length; i += batch) {
      const ids = procs.slice(i, i + batch);
      store.tx('downsample old samples', () => {
        for (const id of ids) {
          for (const spec of [PROC_SERIES, SOCK_SERIES]) {
            const cols = ['sample', 'k', ...spec.columns.map((c) => c.name)].join(', ');
            const rows = db
              .prepare(`SELECT ${cols} FROM ${spec.table}_raw WHERE proc = ? AND sample < ? ORDER BY sample`)
              .raw(true)
              .all(id, cutSample) as (number | null)[][];
            if (rows.length === 0) continue;
            const accs = fold(
              spec,
              lastBucketState(store, spec, id),
              rows.map((r) => ({ tMs: times.get(r[0] ?? -1) ?? 0, row: r.slice(1) })),
            );
            const ins = db.prepare(insertBucketSql(spec));
            for (const a of accs) ins.run(id, a.bucket, ...bucketValues(spec, a));
            res.bucketRows += accs.length;
            res.rawRowsDeleted += db
              .prepare(`DELETE FROM ${spec.table}_raw WHERE proc = ? AND sample < ?`)
              .run(id, cutSample).changes;
          }
        }
      });
      res.processes += ids.length;
    }

    store.tx('downsample the host series', () => {
      // Every sample's bucket gets a host row: the bucket timeline of readers is the host's.
      const cols = ['sample', 'k', ...HOST_SERIES.columns.map((c) => c.name)].join(', ');
      const hostRows = new Map<number, (number | null)[]>();
      for (const r of db
        .prepare(`SELECT ${cols} FROM host_raw WHERE sample < ?`)
        .raw(true)
        .iterate(cutSample) as Iterable<(number | null)[]>) {
        hostRows.set(r[0] ?? -1, r.slice(1));
      }
      const chain = [...times].map(([id, tMs]) => ({ tMs, row: hostRows.get(id) }));
      const accs = fold(HOST_SERIES, lastBucketState(store, HOST_SERIES, undefined), chain);
      const ins = db.prepare(insertBucketSql(HOST_SERIES));
      for (const a of accs) ins.run(a.bucket, a.samples, ...bucketValues(HOST_SERIES, a));
      res.bucketRows += accs.length;
      res.rawRowsDeleted += db.prepare(`DELETE FROM host_raw WHERE sample < ?`).run(cutSample).changes;
      db.prepare(`DELETE FROM host_remotes WHERE sample < ?`).run(cutSample);
      res.samplesDeleted = db.prepare(`DELETE FROM samples WHERE id < ?`).run(cutSample).changes;
      store.setMeta(META_CUT, String(cutMs));
    });
    res.cutMs = cutMs;

    // Expiry scans the bucket tables: only when the cut moved (at most once per 10 minutes).
    const expire = Math.floor((o.nowMs - (o.bucketRetentionMs ?? 365 * 86_400_000)) / BUCKET_MS);
    store.tx('expire old buckets', () => {
      for (const s of [PROC_SERIES, SOCK_SERIES, HOST_SERIES]) {
        res.bucketRowsExpired += db
          .prepare(`DELETE FROM ${s.table}_10m WHERE bucket < ?`)
          .run(expire).changes;
      }
      res.processesExpired = db
        .prepare(`DELETE FROM processes WHERE end_ms IS NOT NULL AND end_ms < ?`)
        .run(expire * BUCKET_MS).changes;
      if (res.processesExpired > 0) {
        db.prepare(
          `DELETE FROM strings WHERE id NOT IN (SELECT comm FROM processes WHERE comm IS NOT NULL UNION SELECT exe FROM processes WHERE exe IS NOT NULL
             UNION SELECT cmdline FROM processes WHERE cmdline IS NOT NULL UNION SELECT addr FROM host_remotes)`,
        ).run();
      }
    });
  }

  res.durationMs = Math.round(performance.now() - t0);
  return res;
}
