/**
 * `spikes`: CPU series in, level shifts out — onset, level before and after, whether the new level held
 * — and the processes whose onsets coincide gathered into one event ("12 workers of X went from 1 % to
 * 92 % CPU at 05:01 and stayed"). Pure: record/series.ts derives the rates from the stored tick counters.
 *
 * Change points come from `peltLong` (PELT with the MBIC penalty; above 1,000 samples on block means,
 * refined to the sample, so five days at one minute stay linear). Two guards keep a quiet process from reporting its noise:
 * σ is never taken below SIGMA_FLOOR_PERCENT (an idle process's rate differences are mostly 0, and a
 * σ of 0 would make every tick a change), and a shift must rise by MIN_RISE_PERCENT points of one core.
 */
import { peltLong, robustSigma } from './change-point.js';
import { median } from './robust.js';
import type { EntityRef } from './leaks.js';

/** σ floor, in % of one core: one USER_HZ tick per second is 1 %. */
export const SIGMA_FLOOR_PERCENT = 2;
/** Smallest rise reported, in percentage points of one core. */
export const MIN_RISE_PERCENT = 10;
/** The level after must be at least this multiple of the level before (a busy process getting busier by 10 % is not a spike). */
export const MIN_RISE_RATIO = 1.5;
/** Samples a level must last to count (one busy sample is not a spike). */
export const MIN_SEGMENT_SAMPLES = 3;
/** In σ units. */
export const MIN_SHIFT_SIGMA = 3;
/** A persistent spike keeps this share of its rise over the last fifth of the series after its onset. */
export const PERSIST_SHARE = 0.25;
/** Onsets within this many samples of each other coincide. */
export const COINCIDE_SAMPLES = 2;
/** At most this many spikes per entity (the largest). */
export const MAX_SPIKES_PER_ENTITY = 3;

export interface CpuSeriesInput {
  entity: EntityRef;
  /** Time of each point; the rate at point i covers (t[i−1], t[i]]. */
  tMs: Float64Array;
  /** CPU, % of one core; NaN where no rate is known (first sample of a run, a counter that went back). */
  percent: Float64Array;
}

export interface Spike {
  entity: EntityRef;
  metric: 'cpu';
  /** First sample at the new level. */
  onset: string;
  onsetMs: number;
  /** Index of the onset among the series' points (NaN points included). */
  onsetIndex: number;
  /** Mean CPU (% of one core) before and after. */
  before: number;
  after: number;
  persistent: boolean;
  sizeSigma: number;
  /** Median time between samples around the onset: how precisely the onset is known. */
  resolutionMs: number;
}

export interface SpikeEvent {
  onset: string;
  onsetMs: number;
  /** Processes whose onsets coincide. */
  processes: number;
  /** The group all of them belong to, when they share one. */
  group: string | null;
  /** Median per process, % of one core. */
  before: number;
  after: number;
  /** Most of them held the new level. */
  persistent: boolean;
  members: { pid: number | undefined; startTimeTicks: number | undefined; comm: string | undefined }[];
  summary: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const r1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * Upward CPU level shifts of one entity, largest first (at most MAX_SPIKES_PER_ENTITY). A shift opens an
 * episode that lasts while later segments stay above the midpoint between the level before and the new
 * level; rises inside an episode are the same spike (contention makes a busy process's level wander, and
 * PELT cuts a wandering plateau into pieces). The spike persisted when the whole stretch from its onset
 * to the end is still a rise of MIN_RISE_PERCENT and the end keeps PERSIST_SHARE of it.
 */
export function findSpikes(input: CpuSeriesInput): Spike[] {
  const n = Math.min(input.tMs.length, input.percent.length);
  const p = input.percent;
  const tMs = input.tMs;
  let m = 0;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = p[i]!;
    if (Number.isFinite(x) && Number.isFinite(tMs[i]!)) {
      m++;
      if (x > hi) hi = x;
    }
  }
  // cheap pre-filter: never reached the smallest level a spike could end at
  if (m < 2 * MIN_SEGMENT_SAMPLES || !(hi >= MIN_RISE_PERCENT)) return [];
  // The known points, and where each sits in the input (plain loops: Float64Array.from with a mapping
  // function cost a fifth of a whole scan).
  const idx = new Int32Array(m);
  const v = new Float64Array(m);
  for (let i = 0, k = 0; i < n; i++) {
    const x = p[i]!;
    if (Number.isFinite(x) && Number.isFinite(tMs[i]!)) {
      idx[k] = i;
      v[k++] = x;
    }
  }
  const prefix = new Float64Array(m + 1);
  for (let i = 0; i < m; i++) prefix[i + 1] = prefix[i]! + v[i]!;
  const mean = (a: number, b: number): number => (prefix[b]! - prefix[a]!) / Math.max(1, b - a);
  const sigma = Math.max(robustSigma(v), SIGMA_FLOOR_PERCENT);
  const segs = peltLong(v, { sigma, minSegmentLength: MIN_SEGMENT_SAMPLES }).segments;
  const out: Spike[] = [];
  let k = 1;
  while (k < segs.length) {
    const prev = segs[k - 1]!;
    const cur = segs[k]!;
    const rise = cur.mean - prev.mean;
    if (
      rise < MIN_RISE_PERCENT ||
      cur.mean < MIN_RISE_RATIO * Math.max(prev.mean, 0) ||
      rise / sigma < MIN_SHIFT_SIGMA
    ) {
      k++;
      continue;
    }
    const threshold = prev.mean + rise / 2;
    let j = k;
    while (j + 1 < segs.length && segs[j + 1]!.mean >= threshold) j++;
    const onset = cur.start;
    // Persisted: still up at the end. The last fifth of the stretch after the onset must keep
    // PERSIST_SHARE of the rise; contention may shave a busy level, a spike that ended falls back.
    const post = mean(onset, m);
    const tail = Math.max(MIN_SEGMENT_SAMPLES, Math.floor((m - onset) / 5));
    const persistent =
      post - prev.mean >= MIN_RISE_PERCENT &&
      mean(m - tail, m) >= prev.mean + PERSIST_SHARE * (post - prev.mean);
    const after = persistent ? post : mean(onset, segs[j]!.end);
    const at = idx[onset]!;
    const lo = idx[Math.max(0, onset - 3)]!;
    const hiI = idx[Math.min(m - 1, onset + 3)]!;
    const resolutionMs = (input.tMs[hiI]! - input.tMs[lo]!) / Math.max(1, Math.min(6, m - 1));
    out.push({
      entity: input.entity,
      metric: 'cpu',
      onset: iso(input.tMs[at]!),
      onsetMs: input.tMs[at]!,
      onsetIndex: at,
      before: r1(prev.mean),
      after: r1(after),
      persistent,
      sizeSigma: r1((after - prev.mean) / sigma),
      resolutionMs: Math.round(resolutionMs),
    });
    // a persistent spike runs to the end: nothing after it is a new onset from the same baseline
    k = persistent ? segs.length : j + 1;
  }
  out.sort((a, b) => b.after - b.before - (a.after - a.before));
  return out.slice(0, MAX_SPIKES_PER_ENTITY).sort((a, b) => a.onsetMs - b.onsetMs);
}

function pct(x: number): string {
  return `${x >= 10 ? Math.round(x) : r1(x)} %`;
}

function hhmm(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/**
 * Process spikes whose onsets lie within COINCIDE_SAMPLES samples of each other become one event
 * (single-process events are kept too: a lone spike is still an event). Groups and trees are not
 * gathered: their spikes are the sum of their members'.
 */
export function coincidentEvents(spikes: readonly Spike[]): SpikeEvent[] {
  const proc = spikes.filter((s) => s.entity.kind === 'process').sort((a, b) => a.onsetMs - b.onsetMs);
  const clusters: Spike[][] = [];
  for (const s of proc) {
    const last = clusters[clusters.length - 1];
    const first = last?.[0];
    const tol = COINCIDE_SAMPLES * Math.max(s.resolutionMs, first?.resolutionMs ?? 0);
    if (last && first && s.onsetMs - first.onsetMs <= tol) last.push(s);
    else clusters.push([s]);
  }
  const events: SpikeEvent[] = [];
  for (const c of clusters) {
    // Within one moment, split by group so "12 workers of X" is not mixed with an unrelated process.
    const byGroup = new Map<string, Spike[]>();
    for (const s of c) {
      const g = s.entity.group ?? s.entity.label;
      byGroup.set(g, [...(byGroup.get(g) ?? []), s]);
    }
    for (const [g, list] of byGroup) {
      const onsetMs = median(list.map((s) => s.onsetMs));
      const before = r1(median(list.map((s) => s.before)));
      const after = r1(median(list.map((s) => s.after)));
      // contention shaves some workers' levels: the event held when most of them did
      const persistent = list.filter((s) => s.persistent).length * 2 > list.length;
      const shared = list.every((s) => s.entity.group !== undefined) ? g : null;
      const who =
        list.length === 1
          ? `${list[0]!.entity.pid ?? ''} ${list[0]!.entity.comm ?? list[0]!.entity.label}`.trim()
          : `${list.length} ${shared ? `workers of ${shared}` : 'processes'}`;
      events.push({
        onset: iso(onsetMs),
        onsetMs,
        processes: list.length,
        group: shared,
        before,
        after,
        persistent,
        members: list.map((s) => ({
          pid: s.entity.pid,
          startTimeTicks: s.entity.startTimeTicks,
          comm: s.entity.comm,
        })),
        summary: `${who} went from ${pct(before)} to ${pct(after)} CPU at ${hhmm(onsetMs)}${persistent ? ' and stayed' : ' and came back down'}`,
      });
    }
  }
  events.sort((a, b) => b.processes - a.processes || a.onsetMs - b.onsetMs);
  return events;
}

export interface SpikesDocument {
  schema: 'procsleuth.spikes/1';
  generatedAt: string;
  source: { kind: 'record'; db: string };
  since: string | null;
  from: string | null;
  to: string | null;
  samples: number;
  scanned: { processes: number; groups: number; series: number };
  notes: string[];
  /** Coinciding process onsets, largest first. */
  events: SpikeEvent[];
  spikes: Spike[];
}
