/**
 * The `leaks` and `spikes` documents drawn: each suspect's recorded series with the fitted trend, the
 * limit and the projected exhaustion; each CPU event's summed CPU with its onset marked. The verdicts
 * are the documents' own (`procsleuth leaks` / `procsleuth spikes`, computed by the caller): the report,
 * the dashboard and the CLI never judge a series twice or differently.
 */
import type { EntityRef, LeaksDocument, Suspect } from '../../detect/leaks.js';
import type { Spike, SpikeEvent, SpikesDocument } from '../../detect/spikes.js';
import type { ProcessRow, RecordReader, Timeline } from '../../store/index.js';
import { decimate, slice, thin, type Columns, type RecordView } from './data.js';
import { chart, type ChartSpec, type Unit } from './chart.js';

/** Points each suspect's series is read at before it is decimated for drawing (every k-th sample). */
export const SERIES_POINTS = 2000;
/** Suspects drawn with their own chart; the rest are listed. */
export const MAX_CHARTED_SUSPECTS = 30;
/** CPU events drawn with their own chart. */
export const MAX_CHARTED_EVENTS = 6;
/** An event's chart spans this share of the window on each side of its onset (at least the minimum, in samples). */
export const EVENT_CONTEXT_SHARE = 1 / 20;
export const EVENT_CONTEXT_MIN = 60;

/** The column of `RecordView.entity` that holds each leak metric. */
export const METRIC_COLUMN: Record<string, string> = {
  anon: 'anonBytes',
  rss: 'rssBytes',
  pss: 'pssBytes',
  fds: 'fds',
  sockets: 'sockets',
  close_wait: 'tcp:CLOSE_WAIT',
  threads: 'threads',
};

export const METRIC_LABEL: Record<string, string> = {
  anon: 'anonymous memory',
  rss: 'RSS',
  pss: 'PSS',
  fds: 'open fds',
  sockets: 'sockets',
  close_wait: 'CLOSE_WAIT sockets',
  threads: 'threads',
};

export interface ReportSuspect extends Suspect {
  /** Undefined past MAX_CHARTED_SUSPECTS, or when the entity is not in this record window. */
  chart: ChartSpec | undefined;
}

export interface ReportLeaks {
  /** False: no leaks document was given (the caller did not run the detector). */
  available: boolean;
  method: string;
  scanned: LeaksDocument['scanned'] | undefined;
  notes: string[];
  suspects: ReportSuspect[];
}

export interface ReportEvent extends SpikeEvent {
  chart: ChartSpec | undefined;
}

export interface ReportSpikes {
  available: boolean;
  scanned: SpikesDocument['scanned'] | undefined;
  notes: string[];
  /** Processes whose CPU rose together, the most processes first. */
  events: ReportEvent[];
  /** Rises of whole groups and of the host. */
  aggregates: Spike[];
  /** Host CPU with every event's and host spike's onset marked. */
  chart: ChartSpec | undefined;
}

const LEAK_METHOD =
  'src/detect/leaks.ts, as `procsleuth leaks` runs it over every process, group and process tree of the record: a cheap growth pre-filter, then Mann–Kendall with the Hamed–Rao autocorrelation correction on the series floor, the Theil–Sen slope and its interval, vetoes for plateaus, single steps and daily cycles, and runs across restarts';

/** Chart times: epoch seconds to 10 ms, as every other chart of the report has them. */
const seconds = (ms: number): number => Math.round(ms / 10) / 100;

/** Whether a process entity of a document is this recorded process (pid, start time, and boot when known). */
export function isProcess(
  e: Pick<EntityRef, 'kind' | 'pid' | 'startTimeTicks' | 'bootId'>,
  p: { pid: number; startTimeTicks: number; bootId: string },
): boolean {
  return (
    e.kind === 'process' &&
    e.pid === p.pid &&
    e.startTimeTicks === p.startTimeTicks &&
    (e.bootId === undefined || e.bootId === p.bootId)
  );
}

/**
 * The record's processes behind an entity of a leaks or spikes document. A tree's members are those the
 * scan summed over window `t` (record/series.ts): the root and each descendant linked to it through
 * processes alive in the window (a grandchild whose parent exited before it is not in the sum).
 */
export function membersOf(reader: RecordReader, e: EntityRef, t?: Timeline): ProcessRow[] {
  if (e.kind === 'process') {
    const row = e.pid === undefined ? undefined : reader.processesByPid(e.pid).find((p) => isProcess(e, p));
    return row ? [row] : [];
  }
  if (e.kind === 'group') {
    const id = /^g:(\d+)$/.exec(e.key)?.[1];
    return id === undefined ? [] : reader.processesInGroups([Number(id)]);
  }
  if (e.kind === 'tree') {
    const id = /^t:(\d+)$/.exec(e.key)?.[1];
    if (id === undefined) return [];
    const rows = reader.tree(Number(id));
    if (!t) return rows;
    const alive = new Map(rows.filter((p) => reader.aliveRange(p, t) !== undefined).map((p) => [p.id, p]));
    const root = Number(id);
    return [...alive.values()].filter((p) => {
      let cur: ProcessRow | undefined = p;
      for (let hops = 0; cur && hops <= alive.size; hops++) {
        if (cur.id === root) return true;
        cur = cur.parent === null ? undefined : alive.get(cur.parent);
      }
      return false;
    });
  }
  return [];
}

/** The series of one suspect's metric, its fitted trend through the floor, the limit and the exhaustion. */
export function suspectChart(e: Columns, s: Suspect, maxPoints: number, id: string): ChartSpec | undefined {
  const values = e.cols[METRIC_COLUMN[s.metric] ?? ''];
  if (!values) return undefined;
  const tMs = e.tMs;
  let firstI = 0;
  while (firstI < tMs.length && Number.isNaN(values[firstI] ?? NaN)) firstI++;
  let lastI = tMs.length - 1;
  while (lastI > firstI && Number.isNaN(values[lastI] ?? NaN)) lastI--;
  if (firstI >= tMs.length) return undefined;
  const lastMs = tMs[lastI] ?? 0;
  const span = lastMs - (tMs[firstI] ?? 0);
  const exhaustsMs = s.exhaustsAt === null ? undefined : Date.parse(s.exhaustsAt);
  // The time axis reaches the projected exhaustion when it falls within one more span of the data.
  const extendTo =
    exhaustsMs !== undefined && exhaustsMs > lastMs && exhaustsMs - lastMs < span ? exhaustsMs : undefined;
  const d = decimate(
    tMs.subarray(firstI, lastI + 1),
    { v: values.subarray(firstI, lastI + 1) },
    maxPoints,
    () => 'max',
  );
  const t = Array.from(d.tMs);
  const vals = Array.from(d.cols['v'] ?? [], (x) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null));
  if (extendTo !== undefined) {
    t.push(extendTo);
    vals.push(null);
  }
  // The trend the verdict rests on: the Theil–Sen slope through the floor, its intercept the median
  // residual of the floor; drawn from the floor's first point on. Per-run growth has no single line.
  const floor = s.evidence.floor;
  const slopePerMs = s.slopePerHour / 3_600_000;
  const res = floor.map(([ft, fv]) => fv - slopePerMs * ft).sort((a, b) => a - b);
  const intercept = res[res.length >> 1];
  const trendFrom = floor[0]?.[0] ?? Infinity;
  const trendOk = s.shape !== 'per-run' && intercept !== undefined && floor.length > 1;
  const label = METRIC_LABEL[s.metric] ?? s.metric;
  const series: ChartSpec['series'] = [{ label, values: vals, fill: true }];
  if (trendOk)
    series.push({
      label: 'fitted trend',
      values: t.map((ms) => (ms >= trendFrom ? Math.round((intercept + slopePerMs * ms) * 100) / 100 : null)),
      color: '#dc2626',
      dash: [6, 4],
      width: 2,
    });
  if (s.limit && extendTo !== undefined)
    series.push({ label: 'limit', values: t.map(() => s.limit!.value), color: '#111827', dash: [2, 3] });
  return {
    id,
    title: `${label}${trendOk ? ' with the fitted trend' : ''}`,
    unit: s.unit satisfies Unit,
    t: t.map(seconds),
    series,
    marks: extendTo !== undefined ? [{ t: seconds(extendTo), label: 'projected exhaustion' }] : [],
    yMin0: s.unit !== 'bytes',
  };
}

/** Series of entities, read once each (a process is often a suspect for two metrics). */
class EntitySeries {
  private readonly cache = new Map<string, Columns | null>();
  private readonly thinned: Timeline;
  /** `t`: the window the documents judged (membership); the series are read at SERIES_POINTS of it. */
  constructor(
    private readonly reader: RecordReader,
    private readonly view: RecordView,
    private readonly t: Timeline,
  ) {
    this.thinned = thin(t, SERIES_POINTS);
  }

  of(e: EntityRef): Columns | undefined {
    let c = this.cache.get(e.key);
    if (c === undefined) {
      const members = membersOf(this.reader, e, this.t);
      c = members.length ? this.view.entity(this.thinned, members) : null;
      this.cache.set(e.key, c);
    }
    return c ?? undefined;
  }
}

/** The first events' onsets, and the host's own where no event marks the same moment (labels would overlap). */
function onsetMarks(
  events: readonly SpikeEvent[],
  aggregates: readonly Spike[],
): NonNullable<ChartSpec['marks']> {
  const marks: NonNullable<ChartSpec['marks']> = events
    .slice(0, 8)
    .map((ev, k) => ({ t: seconds(ev.onsetMs), label: `event ${k + 1}` }));
  for (const s of aggregates) {
    if (s.entity.key !== 'host') continue;
    const near = events.some((ev) => Math.abs(ev.onsetMs - s.onsetMs) <= 2 * s.resolutionMs);
    if (!near) marks.push({ t: seconds(s.onsetMs), label: 'host', color: '#7c3aed' });
  }
  return marks;
}

/** The leaks document with a chart of each of its first MAX_CHARTED_SUSPECTS suspects. */
export function reportLeaks(
  reader: RecordReader,
  view: RecordView,
  t: Timeline,
  doc: LeaksDocument | undefined,
  maxPoints: number,
): ReportLeaks {
  if (!doc)
    return {
      available: false,
      method: LEAK_METHOD,
      scanned: undefined,
      notes: ['no leak analysis: the leak detector was not run for this report'],
      suspects: [],
    };
  const series = new EntitySeries(reader, view, t);
  const suspects = doc.suspects.map((s, k): ReportSuspect => {
    const e = k < MAX_CHARTED_SUSPECTS ? series.of(s.entity) : undefined;
    return { ...s, chart: e ? suspectChart(e, s, maxPoints, `leak-${k + 1}`) : undefined };
  });
  return { available: true, method: LEAK_METHOD, scanned: doc.scanned, notes: doc.notes, suspects };
}

/** The spikes document: events with the summed CPU of their processes, group and host rises listed. */
export function reportSpikes(
  reader: RecordReader,
  view: RecordView,
  t: Timeline,
  host: Columns,
  doc: SpikesDocument | undefined,
  maxPoints: number,
): ReportSpikes {
  if (!doc)
    return {
      available: false,
      scanned: undefined,
      notes: ['no spike analysis: the spike detector was not run for this report'],
      events: [],
      aggregates: [],
      chart: undefined,
    };
  const events = doc.events.slice(0, 40).map((ev, k): ReportEvent => {
    if (k >= MAX_CHARTED_EVENTS) return { ...ev, chart: undefined };
    const rows = ev.members.flatMap((m) => membersOf(reader, { kind: 'process', key: '', label: '', ...m }));
    // Around the onset at full resolution: a spike of a few samples in days of data stays visible,
    // and the onset can be read to the sample; the host chart above gives the whole window.
    let at = 0;
    while (at + 1 < t.length && t.tMs[at + 1]! <= ev.onsetMs) at++;
    const context = Math.max(EVENT_CONTEXT_MIN, Math.round(t.length * EVENT_CONTEXT_SHARE));
    const e = view.entity(slice(t, at - context, at + context), rows);
    const first = ev.members[0];
    const who =
      ev.processes === 1 && first
        ? `${first.pid ?? ''} ${first.comm ?? ''}`.trim()
        : `the ${ev.processes} ${ev.group ? `workers of ${ev.group.length > 60 ? `${ev.group.slice(0, 59)}…` : ev.group}` : 'processes'}, summed`;
    const c = chart(
      `spike-${k + 1}`,
      `Event ${k + 1}: CPU of ${who} (% of one core)`,
      'percent',
      e,
      [{ col: 'cpuPercent', label: 'CPU', fill: true }],
      maxPoints,
      () => 'max', // the busiest point of each bucket: a short spike stays as high as it was
    );
    return { ...ev, chart: { ...c, marks: [{ t: seconds(ev.onsetMs), label: 'onset' }] } };
  });
  const aggregates = doc.spikes.filter((s) => s.entity.kind !== 'process').slice(0, 40);
  const drawn = events.length || aggregates.length;
  const c = drawn
    ? chart(
        'spikes',
        'Host CPU busy (% of all cores) with the onsets',
        'percent',
        host,
        [{ col: 'cpuPercent', label: 'busy', fill: true }],
        maxPoints,
      )
    : undefined;
  const hostChart = c?.series.length ? { ...c, marks: onsetMarks(events, aggregates) } : undefined;
  return { available: true, scanned: doc.scanned, notes: doc.notes, events, aggregates, chart: hostChart };
}
