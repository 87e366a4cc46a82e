/**
 * The dashboard's worker thread (started by background.ts): the heavy reads of the record, off the
 * server's event loop, on a read-only connection of its own (WAL: it sees each sample the recorder
 * commits, and never blocks it).
 * - `views`: the overview documents of the windows the page asks for, and the latest values of every
 *   live process (the process table), computed by the same Api code the server would run itself.
 * - `suspects`: the leak and spike detectors of `procsleuth leaks` and `procsleuth spikes`, given as
 *   module URLs by the caller (the server layer may not import the CLI), so the dashboard shows what the
 *   commands print; plus the host CPU chart with each spike's onset marked.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { RecordReader, Store } from '../store/index.js';
import { RecordView, type ProcessLatest } from '../report/html/data.js';
import { hostCharts, type ChartSpec } from '../report/html/model.js';
import { redactDeep } from '../report/redact.js';
import { Api, parseSince } from './api.js';

export interface WorkerData {
  dbPath: string;
  redact: boolean;
  version: string;
  /** Module URLs exporting `leaksFromRecord` and `spikesFromRecord` (src/cli/leaks.ts, spikes.ts). */
  detectors?: { leaks: string; spikes: string } | undefined;
  procRoot?: string | undefined;
  sysRoot?: string | undefined;
  /** Do not read /proc/PID/limits of live processes for the exhaustion projection. */
  noLiveLimits?: boolean | undefined;
  /** This thread's nice value (the views are wanted now; the detectors can wait). */
  nice?: number | undefined;
}

export type Job =
  | { job: 'views'; windows: { since: string | null; points: number }[] }
  | { job: 'suspects'; since: string | null; now: number };
export type JobRequest = Job & { id: number };
export type Outcome = { ok: true; value: unknown } | { ok: false; error: string };
export type JobReply = Outcome & { id: number };

export interface ViewsResult {
  /** The newest sample these documents include. */
  version: number;
  overviews: unknown[];
  /** Redacted here when the server redacts: every table the server sorts from them is then clean. */
  latest: ProcessLatest[];
  ms: number;
}

export interface SuspectsResult {
  version: number;
  startedMs: number;
  ms: number;
  leaks: unknown;
  spikes: unknown;
  chart: ChartSpec | undefined;
}

type LeaksFn = (r: RecordReader, q: Record<string, unknown>) => unknown;
type SpikesFn = (
  r: RecordReader,
  q: Record<string, unknown>,
) => { events: { onsetMs: number; summary: string }[] };

const data = workerData as WorkerData;
// On Linux the nice value is per thread and setpriority(pid 0) means this thread: the event loop that
// answers requests keeps its priority while the detectors run for seconds in the background.
if (data.nice)
  try {
    setPriority(0, data.nice);
  } catch {
    // not permitted: run at the same priority
  }
const store = Store.open(data.dbPath, { mode: 'read' });
const reader = new RecordReader(store);
const api = new Api({ reader, redact: data.redact, version: data.version });
let detectors: Promise<{ leaks: LeaksFn; spikes: SpikesFn }> | undefined;

function loadDetectors(): Promise<{ leaks: LeaksFn; spikes: SpikesFn }> {
  const d = data.detectors;
  if (!d) return Promise.reject(new Error('no leak and spike detectors were given to the server'));
  detectors ??= Promise.all([import(d.leaks), import(d.spikes)]).then(([l, s]) => {
    const leaks = (l as { leaksFromRecord?: unknown }).leaksFromRecord;
    const spikes = (s as { spikesFromRecord?: unknown }).spikesFromRecord;
    if (typeof leaks !== 'function' || typeof spikes !== 'function')
      throw new Error('the detector modules do not export leaksFromRecord and spikesFromRecord');
    return { leaks: leaks as LeaksFn, spikes: spikes as SpikesFn };
  });
  return detectors;
}

function views(windows: { since: string | null; points: number }[]): ViewsResult {
  const started = performance.now();
  const version = api.version();
  const overviews = windows.map((w) => api.computeOverview(w.since, w.points));
  const latest = data.redact ? redactDeep(api.latest()) : api.latest();
  return { version, overviews, latest, ms: performance.now() - started };
}

async function suspects(since: string | null, now: number): Promise<SuspectsResult> {
  const d = await loadDetectors();
  const started = performance.now();
  const version = api.version();
  const sinceMs = parseSince(since, now);
  const leaks = d.leaks(reader, {
    dbPath: data.dbPath,
    sinceMs,
    procRoot: data.procRoot,
    sysRoot: data.sysRoot,
    noLiveLimits: data.noLiveLimits,
    now,
  });
  const spikes = d.spikes(reader, { dbPath: data.dbPath, sinceMs, now });
  const view = new RecordView(reader);
  const host = view.host(reader.timeline(sinceMs ?? 0));
  const cpu = hostCharts(host, 600, 'spikes')[0];
  const chart = cpu && {
    ...cpu,
    title: 'Host CPU busy, % of all cores, with spike onsets',
    marks: spikes.events.slice(0, 12).map((e, k) => ({ t: e.onsetMs / 1000, label: `spike ${k + 1}` })),
  };
  const out = { leaks, spikes };
  const shown = data.redact ? redactDeep(out) : out;
  return { version, startedMs: now, ms: performance.now() - started, ...shown, chart };
}

parentPort?.on('message', (m: JobRequest) => {
  const reply = (r: Outcome): void => parentPort?.postMessage({ ...r, id: m.id } as JobReply);
  // The server sends one kind of job per worker and waits for each answer before the next.
  void (async () => {
    try {
      const value = m.job === 'views' ? views(m.windows) : await suspects(m.since, m.now);
      reply({ ok: true, value });
    } catch (err) {
      reply({ ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  })();
});
