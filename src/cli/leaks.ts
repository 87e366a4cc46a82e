import { UsageError } from '../util/errors.js';
import { RecordReader, Store } from '../store/index.js';
import { defaultDbPath } from '../record/recorder.js';
import { csvEntity, readSeriesCsv, scanLevelSeries, type CsvSeries } from '../record/series.js';
import {
  dropExplained,
  judgeRuns,
  judgeSeries,
  rankSuspects,
  runStats,
  type EntityRef,
  type JudgeStats,
  type LeaksDocument,
  type RunStats,
  type Suspect,
} from '../detect/leaks.js';
import { renderLeaksText } from '../report/text-leaks.js';
import { durationMs, intOption, parse, printJson, rootsFrom, type Command } from './command.js';
import { sinceMs } from './history.js';
import { fleetLeaks, type FleetQuery } from '../fleet/analyze.js';
import { PrometheusApi } from '../fleet/prometheus-api.js';
import { renderFleetLeaksText } from '../fleet/text.js';

export interface LeaksQuery {
  dbPath: string;
  sinceMs?: number | undefined;
  procRoot?: string | undefined;
  sysRoot?: string | undefined;
  /** Synthetic records: do not read limits of live processes. */
  noLiveLimits?: boolean | undefined;
  now?: number | undefined;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** Every process run, group and tree of the record judged; suspects ranked. */
export function leaksFromRecord(r: RecordReader, q: LeaksQuery): LeaksDocument {
  const suspects: Suspect[] = [];
  const stats: JudgeStats = { series: 0, judged: 0 };
  const runs = new Map<string, { entity: EntityRef; metric: string; runs: RunStats[] }>();
  const summary = scanLevelSeries(
    r,
    { sinceMs: q.sinceMs, procRoot: q.procRoot, sysRoot: q.sysRoot, noLiveLimits: q.noLiveLimits },
    (s) => {
      const found = judgeSeries(s, stats);
      if (found) suspects.push(found);
      if (s.runsOf) {
        const st = runStats(s.tMs, s.values);
        if (!st) return;
        const key = `${s.runsOf.key}\u0000${s.metric}`;
        let e = runs.get(key);
        if (!e) runs.set(key, (e = { entity: s.runsOf, metric: s.metric, runs: [] }));
        e.runs.push(st);
      }
    },
  );
  for (const e of runs.values()) {
    const found = judgeRuns(e.entity, e.metric, e.runs);
    if (found) suspects.push(found);
  }
  const kept = rankSuspects(dropExplained(suspects, (key) => summary.members.get(key)));
  return {
    schema: 'procsleuth.leaks/1',
    generatedAt: new Date(q.now ?? Date.now()).toISOString(),
    source: { kind: 'record', db: q.dbPath },
    since: iso(q.sinceMs),
    from: iso(summary.fromMs),
    to: iso(summary.toMs),
    samples: summary.samples,
    scanned: {
      processes: summary.processes,
      groups: summary.groups,
      trees: summary.trees,
      series: stats.series,
      judged: stats.judged,
    },
    notes: summary.notes,
    suspects: kept,
  };
}

/** The same detector on external series (`--input`). */
export function leaksFromCsv(
  file: string,
  series: CsvSeries[],
  q: { sinceMs?: number; now?: number },
): LeaksDocument {
  const stats: JudgeStats = { series: 0, judged: 0 };
  const suspects: Suspect[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  let points = 0;
  for (const s of series) {
    let from = 0;
    if (q.sinceMs !== undefined) while (from < s.tMs.length && s.tMs[from]! < q.sinceMs) from++;
    const tMs = s.tMs.subarray(from);
    const values = s.values.subarray(from);
    if (tMs.length === 0) continue;
    lo = Math.min(lo, tMs[0]!);
    hi = Math.max(hi, tMs[tMs.length - 1]!);
    points += tMs.length;
    const { entity, metric } = csvEntity(s.name);
    const found = judgeSeries({ entity, metric, tMs, values }, stats);
    if (found) suspects.push(found);
  }
  return {
    schema: 'procsleuth.leaks/1',
    generatedAt: new Date(q.now ?? Date.now()).toISOString(),
    source: { kind: 'csv', file },
    since: iso(q.sinceMs),
    from: Number.isFinite(lo) ? iso(lo) : null,
    to: Number.isFinite(hi) ? iso(hi) : null,
    samples: points,
    scanned: { processes: 0, groups: 0, trees: 0, series: stats.series, judged: stats.judged },
    notes: ['external series: no limits are known, so no exhaustion time is projected'],
    suspects: rankSuspects(suspects),
  };
}

/** Options of the fleet path (`--prometheus`), shared with `spikes`. */
export const fleetOptions = {
  prometheus: { type: 'string' },
  until: { type: 'string' },
  node: { type: 'string' },
  selector: { type: 'string' },
  step: { type: 'string' },
  timeout: { type: 'string' },
  concurrency: { type: 'string' },
} as const;

export const FLEET_USAGE = `  --prometheus URL the fleet: run on what the recorders exported to this Prometheus (or a
                   compatible API: Thanos, Mimir, VictoriaMetrics; with its path prefix), every node
  --since T        with --prometheus: start of the range (default 1h)
  --until T        with --prometheus: end of the range (default now)
  --node RE        with --prometheus: only nodes whose name matches RE (PromQL =~, anchored)
  --selector M     with --prometheus: more label matchers, e.g. 'job="procsleuth",env="prod"'
  --step D         with --prometheus: evaluation step (default the recorders' interval, raised so a
                   series stays under 50,000 points; ranges over 10,000 steps are fetched in chunks)
  --timeout D      with --prometheus: per request (default 30s)
  --concurrency N  with --prometheus: nodes fetched at once (default 4)`;

export interface FleetValues {
  prometheus?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  node?: string | undefined;
  selector?: string | undefined;
  step?: string | undefined;
  timeout?: string | undefined;
  concurrency?: string | undefined;
}

/** The Prometheus client and the range of a fleet command; usage errors name the option. */
export function fleetFrom(
  values: FleetValues,
  now: number,
): { api: PrometheusApi; query: FleetQuery } | undefined {
  if (values.prometheus === undefined) {
    for (const k of ['until', 'node', 'selector', 'step', 'timeout', 'concurrency'] as const)
      if (values[k] !== undefined) throw new UsageError(`--${k} goes with --prometheus`);
    return undefined;
  }
  let u: URL | undefined;
  try {
    u = new URL(values.prometheus);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:'))
    throw new UsageError(`--prometheus wants an http:// or https:// URL, got "${values.prometheus}"`);
  const startMs = sinceMs(values.since ?? '1h', now) ?? now - 3_600_000;
  let endMs = now;
  if (values.until !== undefined) {
    try {
      endMs = sinceMs(values.until, now) ?? now;
    } catch {
      throw new UsageError(`--until wants a duration back from now (10m) or a date, got "${values.until}"`);
    }
  }
  if (!(endMs > startMs)) throw new UsageError('the range is empty: --since must come before --until');
  if (values.node !== undefined) {
    try {
      new RegExp(values.node);
    } catch {
      throw new UsageError(`--node wants a regular expression, got "${values.node}"`);
    }
  }
  const stepMs = values.step === undefined ? undefined : durationMs(values.step, 'step', 0);
  if (stepMs !== undefined && !(stepMs >= 1)) throw new UsageError('--step must be at least 1ms');
  const timeoutMs = durationMs(values.timeout, 'timeout', 30_000);
  if (!(timeoutMs >= 1)) throw new UsageError('--timeout must be at least 1ms');
  return {
    api: new PrometheusApi(values.prometheus, { timeoutMs }),
    query: {
      startMs,
      endMs,
      nodeRegex: values.node,
      selector: values.selector,
      stepMs,
      concurrency: intOption(values.concurrency, 'concurrency', 4, 1),
      now,
    },
  };
}

export const leaksCommand: Command = {
  summary: 'memory, fd, socket and thread leaks in the record: proven early, ranked, with time to exhaustion',
  usage: `usage: procsleuth leaks [--db PATH] [--since T] [--json] [--input FILE.csv] [--all]
       procsleuth leaks --prometheus URL [--since T] [--until T] [--node RE] [--selector M] [--json]

Judges every recorded process run (never across a restart), every group (same executable and
normalised arguments, across restarts: its runs are compared, so a leak hidden by restarts shows) and
every process tree, on anonymous memory, RSS, PSS, fds, sockets, CLOSE_WAIT sockets and threads.
A suspect is a 'leak' (growth proven: the floor rises, corrected for autocorrelation, not a warm-up,
a step or a daily cycle) or a 'watch' (growth likely, not yet proven).

  --db PATH        the record (default: where "procsleuth record" writes)
  --since T        a duration back from now (2h, 3d) or a date (2025-01-31T12:00)
  --input FILE     judge external series instead: CSV rows timestamp,series,value (ISO-8601 or
                   epoch seconds; "procsleuth history --csv" writes this format)
  --all            list every suspect in the text output (default: the first 20)
  --json           one document, schema procsleuth.leaks/1
${FLEET_USAGE}

With --prometheus the entities are the groups each node exported (record --remote-write or a scrape
of --metrics-listen), each named with its node.

Exit code 1 when a leak is found.`,
  async run(args, io) {
    const { values } = parse(args, {
      db: { type: 'string' },
      since: { type: 'string' },
      input: { type: 'string' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      'proc-root': { type: 'string' },
      'sys-root': { type: 'string' },
      ...fleetOptions,
    });
    if (values.input !== undefined && values.db !== undefined)
      throw new UsageError('--input and --db exclude each other');
    if (values.prometheus !== undefined && (values.input !== undefined || values.db !== undefined))
      throw new UsageError('--prometheus excludes --db and --input');
    const now = Date.now();
    const fleet = fleetFrom(values, now);
    if (fleet) {
      const fdoc = await fleetLeaks(fleet.api, fleet.query);
      if (values.json) printJson(io, fdoc);
      else io.out(renderFleetLeaksText(fdoc, { limit: values.all ? Infinity : 20 }));
      return fdoc.suspects.some((s) => s.verdict === 'leak') ? 1 : 0;
    }
    const since = sinceMs(values.since, now);
    let doc: LeaksDocument;
    if (values.input !== undefined) {
      doc = leaksFromCsv(values.input, readSeriesCsv(values.input), { sinceMs: since, now });
    } else {
      const dbPath = values.db ?? defaultDbPath(io.env);
      const roots = rootsFrom(values, io.env);
      const store = Store.open(dbPath, { mode: 'read' });
      try {
        doc = leaksFromRecord(new RecordReader(store), {
          dbPath,
          sinceMs: since,
          procRoot: roots.proc,
          sysRoot: roots.sys,
          now,
        });
      } finally {
        store.close();
      }
    }
    if (values.json) printJson(io, doc);
    else io.out(renderLeaksText(doc, { limit: values.all ? Infinity : 20 }));
    return doc.suspects.some((s) => s.verdict === 'leak') ? 1 : 0;
  },
};
