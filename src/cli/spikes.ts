import { RecordReader, Store } from '../store/index.js';
import { defaultDbPath } from '../record/recorder.js';
import { scanCpuSeries } from '../record/series.js';
import { coincidentEvents, findSpikes, type Spike, type SpikesDocument } from '../detect/spikes.js';
import { renderSpikesText } from '../report/text-leaks.js';
import { parse, printJson, type Command } from './command.js';
import { sinceMs } from './history.js';
import { FLEET_USAGE, fleetFrom, fleetOptions } from './leaks.js';
import { fleetSpikes } from '../fleet/analyze.js';
import { renderFleetSpikesText } from '../fleet/text.js';
import { UsageError } from '../util/errors.js';
import { loaderReady, siblingModule } from '../util/worker-boot.js';
import { Worker } from 'node:worker_threads';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export interface SpikesQuery {
  dbPath: string;
  sinceMs?: number | undefined;
  now?: number | undefined;
}

/** CPU level shifts of every process, group and the host; coinciding process onsets gathered. */
export function spikesFromRecord(r: RecordReader, q: SpikesQuery): SpikesDocument {
  const spikes: Spike[] = [];
  let series = 0;
  const summary = scanCpuSeries(r, { sinceMs: q.sinceMs }, (s) => {
    series++;
    spikes.push(...findSpikes(s));
  });
  spikes.sort((a, b) => a.onsetMs - b.onsetMs || b.after - b.before - (a.after - a.before));
  return {
    schema: 'procsleuth.spikes/1',
    generatedAt: new Date(q.now ?? Date.now()).toISOString(),
    source: { kind: 'record', db: q.dbPath },
    since: iso(q.sinceMs),
    from: iso(summary.fromMs),
    to: iso(summary.toMs),
    samples: summary.samples,
    scanned: { processes: summary.processes, groups: summary.groups, series },
    notes: ['CPU is % of one core; rates are derived from the recorded tick counters'],
    events: coincidentEvents(spikes),
    spikes,
  };
}

/**
 * `spikesFromRecord` on a worker thread (spikes-worker.ts), so that it runs beside other work on the
 * main thread. `result` rejects with the reason when the worker cannot start or fails; `stop` ends the
 * worker when its answer is no longer wanted (the caller failed meanwhile), so it never holds the
 * process alive.
 */
export function spikesInWorker(q: SpikesQuery): { result: Promise<SpikesDocument>; stop: () => void } {
  const self = import.meta.url;
  const boot = `${loaderReady(self)}.then(() => import(${JSON.stringify(siblingModule(self, 'spikes-worker'))}));`;
  const w = new Worker(boot, { eval: true, workerData: q, execArgv: [] });
  const result = new Promise<SpikesDocument>((resolve, reject) => {
    let settled = false;
    w.once('message', (m: { ok: true; doc: SpikesDocument } | { ok: false; error: string }) => {
      settled = true;
      if (m.ok) resolve(m.doc);
      else reject(new Error(`the spikes worker failed: ${m.error}`));
    });
    w.once('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`the spikes worker exited (code ${code}) without a result`));
      settled = true;
    });
  });
  return { result, stop: () => void w.terminate() };
}

export const spikesCommand: Command = {
  summary: 'when CPU jumped: onset, level before and after, and which processes jumped together',
  usage: `usage: procsleuth spikes [--db PATH] [--since T] [--json]
       procsleuth spikes --prometheus URL [--since T] [--until T] [--node RE] [--selector M] [--json]

Change-point detection (PELT) on the CPU of every recorded process, group and the host: the onset of
each upward level shift, the level before and after (% of one core), and whether it persisted.
Processes whose onsets coincide (within two samples) are reported together.

  --db PATH     the record (default: where "procsleuth record" writes)
  --since T     a duration back from now (2h, 3d) or a date (2025-01-31T12:00)
  --json        one document, schema procsleuth.spikes/1
${FLEET_USAGE}

With --prometheus every exported group and host of every node is scanned, and onsets of one group on
several nodes within 2 minutes are reported together ("fleetEvents"): how many nodes, how close, and
whether nodes whose TCP connections did not rise were among them — a shared input, not local load.

Exit code 1 when a spike that persisted is found.`,
  async run(args, io) {
    const { values } = parse(args, {
      db: { type: 'string' },
      since: { type: 'string' },
      json: { type: 'boolean' },
      ...fleetOptions,
    });
    if (values.prometheus !== undefined && values.db !== undefined)
      throw new UsageError('--prometheus excludes --db');
    const now = Date.now();
    const fleet = fleetFrom(values, now);
    if (fleet) {
      const fdoc = await fleetSpikes(fleet.api, fleet.query);
      if (values.json) printJson(io, fdoc);
      else io.out(renderFleetSpikesText(fdoc));
      return fdoc.spikes.some((s) => s.persistent) ? 1 : 0;
    }
    const dbPath = values.db ?? defaultDbPath(io.env);
    const store = Store.open(dbPath, { mode: 'read' });
    let doc: SpikesDocument;
    try {
      doc = spikesFromRecord(new RecordReader(store), { dbPath, sinceMs: sinceMs(values.since, now), now });
    } finally {
      store.close();
    }
    if (values.json) printJson(io, doc);
    else io.out(renderSpikesText(doc));
    return doc.spikes.some((s) => s.persistent) ? 1 : 0;
  },
};
