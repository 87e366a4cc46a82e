/**
 * `leaks`: entity series in, ranked suspects out. Pure: the record layer (record/series.ts) reads the
 * series and the limits; this module decides.
 *
 * Three views, because each hides leaks the others show:
 * - one process run, `(boot, pid, startTimeTicks)`, never across a restart: `leakVerdict` on the series
 *   (floor, Hamed–Rao Mann–Kendall, Theil–Sen, plateau / step / daily vetoes — see leak-verdict.ts);
 * - a group (same executable and normalised arguments) or a tree (a process and its descendants): the
 *   sum over the members alive at each sample, judged the same way — twelve workers leaking a little
 *   each add up to one clear trend;
 * - a group's runs compared (`judgeRuns`): a supervisor that restarts a leaking process every few
 *   minutes turns the sum into a sawtooth whose floor never rises, and each run may be too short to
 *   prove anything alone. But if run after run grows, and keeps growing in the second half of each run
 *   (a warm-up levels off, a leak does not), the group leaks. A sign test across runs decides.
 * - CLOSE_WAIT has a direct signature (`closeWaitSignature`): sockets the peer closed and the owner never
 *   did, accumulating in steps that are never undone, the oldest held for a third of the series or more.
 *
 * Cost: `quickGrowth` is O(n) and drops series that never grow (on a server most series are flat or
 * constant) before `leakVerdict` (≈ 1 ms on 7,200 points) runs.
 */
import { leakVerdict, MIN_RELATIVE_GROWTH, MIN_SAMPLES, P_LEAK, type LeakVerdict } from './leak-verdict.js';
import { median, selectInPlace } from './robust.js';

// ---- metrics ----------------------------------------------------------------------------------------

export const LEAK_METRICS = ['anon', 'rss', 'pss', 'fds', 'sockets', 'close_wait', 'threads'] as const;
export type LeakMetric = (typeof LEAK_METRICS)[number];
export type Unit = 'bytes' | 'count';
/** Metrics that are views of one resource: a suspect is reported once per entity and resource. */
export type Resource = 'memory' | 'descriptors' | 'threads';

export const METRIC_INFO: Record<LeakMetric, { unit: Unit; resource: Resource; specificity: number }> = {
  // anon is what a heap leak grows; RSS also counts file pages, PSS is read less often
  anon: { unit: 'bytes', resource: 'memory', specificity: 3 },
  pss: { unit: 'bytes', resource: 'memory', specificity: 2 },
  rss: { unit: 'bytes', resource: 'memory', specificity: 1 },
  close_wait: { unit: 'count', resource: 'descriptors', specificity: 3 },
  sockets: { unit: 'count', resource: 'descriptors', specificity: 2 },
  fds: { unit: 'count', resource: 'descriptors', specificity: 1 },
  threads: { unit: 'count', resource: 'threads', specificity: 1 },
};

export function metricInfo(metric: string): { unit: Unit; resource: string; specificity: number } {
  return (
    (METRIC_INFO as Record<string, (typeof METRIC_INFO)[LeakMetric] | undefined>)[metric] ?? {
      unit: 'count',
      resource: metric,
      specificity: 0,
    }
  );
}

// ---- thresholds -------------------------------------------------------------------------------------

/** Block minima the pre-filter looks at. */
export const QUICK_BLOCKS = 12;
/** A count (fds, sockets, threads) must grow by at least this much for 'leak': 3 fds in 5 days are not a report. */
export const MIN_COUNT_GROWTH = 3;
/** Bytes must grow by at least this much for 'leak'. */
export const MIN_BYTES_GROWTH = 1 << 20;
/** Runs compared for a group: at least this many, each of at least RUN_MIN_SAMPLES samples. */
export const MIN_RUNS = 5;
export const RUN_MIN_SAMPLES = 6;
/** Floor points per run for the run slopes (O(points²) each). */
export const RUN_FLOOR_POINTS = 48;
/** One-sided sign-test p across runs for 'leak' (all of 7 runs growing gives 0.0078). */
export const P_RUNS_LEAK = 0.01;
export const P_RUNS_WATCH = 0.05;
/** Plateau veto across runs: second-half slopes must keep this share of the first-half slopes. */
export const RUN_SLOWDOWN_RATIO = 0.5;
/** CLOSE_WAIT signature: at least this many sockets accumulated, in at least this many steps... */
export const CLOSE_WAIT_MIN_GROWTH = 3;
export const CLOSE_WAIT_MIN_STEPS = 3;
/** ...with at most this share of the increases ever undone... */
export const CLOSE_WAIT_MAX_UNDONE = 0.1;
/** ...and the oldest held for at least this share of the series. */
export const CLOSE_WAIT_MIN_AGE_SHARE = 1 / 3;
/**
 * 'watch' becomes 'leak' when the only gate that held it back was the count of effectively independent
 * samples and the growth is this many times the floor's scatter about its trend line. The gate exists
 * for wander (φ near 1: a random walk's drift looks like growth) but a random walk detrended by its own
 * Sen line keeps a scatter of the same order as its apparent growth (ratios of 2–4), while a leak
 * sampled irregularly — a loaded recorder skipping slots makes the differences, and so φ, look
 * correlated — grows by hundreds of times its scatter.
 */
export const TREND_DOMINANCE = 20;
/** Recent windows (shares of the series) also judged when the whole series is not a leak. */
export const TAIL_WINDOWS = [0.5, 0.25] as const;
/** A ratchet rises in at least this many steps in each third of the series. */
export const RATCHET_MIN_STEPS = 3;
/** A tree or group suspect adds nothing when its member processes' leaks have this share of its slope. */
export const EXPLAINED_SHARE = 0.8;

const HOUR_MS = 3_600_000;

// ---- types ------------------------------------------------------------------------------------------

export interface EntityRef {
  kind: 'process' | 'group' | 'tree' | 'series';
  /** Stable identity within one document (`p:<boot>:<pid>:<start>`, `g:<group>`, `t:<id>`, `s:<name>`). */
  key: string;
  /** What a human reads: `1234 nginx (nginx: worker process)`, a group label, a CSV series name. */
  label: string;
  pid?: number;
  startTimeTicks?: number;
  bootId?: string;
  comm?: string;
  cmdline?: string;
  /** The group label of a process or group. */
  group?: string;
  /** Processes (runs) in a group or tree. */
  processes?: number;
}

export interface Limit {
  /** The level, in the metric's unit, at which the resource runs out for this entity. */
  value: number;
  /** `MemAvailable+SwapFree`, `memory.max`, `RLIMIT_NOFILE`, `threads-max`, … */
  name: string;
  /** Where the number came from, e.g. "read from /proc/1234/limits now (the record does not store it)". */
  source: string;
}

export interface SeriesInput {
  entity: EntityRef;
  metric: string;
  /** Sample times (ms) and values; NaN = not alive or unknown. */
  tMs: Float64Array;
  values: Float64Array;
  /** Asked only for series that are suspects (reading a limit may cost I/O). */
  limit?: (() => Limit | undefined) | undefined;
}

/** What `judgeRuns` needs of one run: computed while streaming, so a group never holds every member's series. */
export interface RunStats {
  samples: number;
  startMs: number;
  durationMs: number;
  startLevel: number;
  /** Theil–Sen slopes (per ms) of the run's floor: whole, first half, second half. */
  slope: number;
  firstHalfSlope: number;
  secondHalfSlope: number;
}

export type SuspectShape = 'steady' | 'stepwise' | 'sawtooth' | 'per-run';

export interface SuspectEvidence {
  samples: number;
  from: string;
  to: string;
  first: number;
  last: number;
  min: number;
  max: number;
  /** Growth of the floor over the series (slope × span), in the metric's unit. */
  growth: number;
  relativeGrowth: number;
  /** One-sided p of growth after the autocorrelation correction (sign test across runs for 'per-run'). */
  pGrowth: number;
  nOverNStar?: number;
  noisePhi?: number;
  windowSamples?: number;
  reasons: string[];
  /** The floor the verdict rests on: [time ms, value] (at most ~120 points). */
  floor: [number, number][];
  runs?: { count: number; growing: number; medianGrowth: number; medianDurationMs: number };
  closeWait?: { count: number; steps: number; undone: number; oldestAgeMs: number };
}

export interface Suspect {
  entity: EntityRef;
  metric: string;
  unit: Unit;
  verdict: 'leak' | 'watch';
  confidence: number;
  slopePerHour: number;
  slopePerHourInterval: [number, number];
  shape: SuspectShape;
  /** ISO time the limit is reached at the estimated slope; null without a limit or for 'per-run'. */
  exhaustsAt: string | null;
  /** Earliest and latest (null: never, the interval reaches 0). */
  exhaustsRange: [string, string | null] | null;
  limit: Limit | null;
  /** Other metrics of the same resource that also grew (reported once, under the most specific). */
  alsoGrowing: string[];
  evidence: SuspectEvidence;
}

export interface JudgeStats {
  series: number;
  /** Series that passed the cheap pre-filter and got the full verdict. */
  judged: number;
}

// ---- helpers ----------------------------------------------------------------------------------------

const iso = (ms: number): string => new Date(ms).toISOString();

function finite(tMs: Float64Array, values: Float64Array): { t: Float64Array; v: Float64Array } {
  const n = Math.min(tMs.length, values.length);
  let k = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(values[i]!) && Number.isFinite(tMs[i]!)) k++;
  if (k === n) return { t: tMs.subarray(0, n), v: values.subarray(0, n) };
  const t = new Float64Array(k);
  const v = new Float64Array(k);
  k = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(values[i]!) && Number.isFinite(tMs[i]!)) {
      t[k] = tMs[i]!;
      v[k++] = values[i]!;
    }
  }
  return { t, v };
}

/**
 * The pre-filter: could this series be growing at all? Mann–Kendall S over QUICK_BLOCKS block minima
 * must be positive and the last block's floor above the first's. A constant series, a falling one and
 * about half of flat noise stop here; nothing that leakVerdict could call a leak does (its floor rises,
 * so the coarse floor rises too).
 */
export function quickGrowth(v: Float64Array): boolean {
  const n = v.length;
  if (n < MIN_SAMPLES) return false;
  // One pass: the blocks cover every sample once, so the range comes with the block minima.
  let lo = Infinity;
  let hi = -Infinity;
  const b = QUICK_BLOCKS;
  const mins = new Float64Array(b);
  for (let k = 0; k < b; k++) {
    const a = Math.floor((k * n) / b);
    const z = Math.floor(((k + 1) * n) / b);
    let m = Infinity;
    for (let i = a; i < z; i++) {
      const x = v[i]!;
      if (x < m) m = x;
      if (x > hi) hi = x;
    }
    mins[k] = m;
    if (m < lo) lo = m;
  }
  if (!(hi > lo)) return false;
  if (!(mins[b - 1]! > mins[0]!)) return false;
  let s = 0;
  for (let i = 0; i < b - 1; i++) for (let j = i + 1; j < b; j++) s += Math.sign(mins[j]! - mins[i]!);
  return s > 0;
}

function floorPoints(ev: LeakVerdict['evidence']): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < ev.floorValues.length; i++) out.push([ev.floorTimesMs[i]!, round(ev.floorValues[i]!)]);
  return out;
}

function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  return a >= 1000 ? Math.round(x) : Number(x.toPrecision(6));
}

function bigEnough(unit: Unit, growth: number): boolean {
  return unit === 'bytes' ? growth >= MIN_BYTES_GROWTH : growth >= MIN_COUNT_GROWTH;
}

function summary(
  t: Float64Array,
  v: Float64Array,
): Pick<SuspectEvidence, 'samples' | 'from' | 'to' | 'first' | 'last' | 'min' | 'max'> {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (v[i]! < lo) lo = v[i]!;
    if (v[i]! > hi) hi = v[i]!;
  }
  return {
    samples: v.length,
    from: iso(t[0]!),
    to: iso(t[t.length - 1]!),
    first: v[0]!,
    last: v[v.length - 1]!,
    min: lo,
    max: hi,
  };
}

// ---- CLOSE_WAIT -------------------------------------------------------------------------------------

export interface CloseWaitSignature {
  matches: boolean;
  count: number;
  steps: number;
  increases: number;
  undone: number;
  /** Lower bound on the age of the oldest socket: since the count last stood at or below its start. */
  oldestAgeMs: number;
}

/**
 * CLOSE_WAIT sockets owned by one process, growing, and each old: the peer hung up and the application
 * never called close(). A healthy server's CLOSE_WAIT count is near zero and churns (each close undoes
 * an arrival); a leaking one only ever climbs. The age is a lower bound: the count never fell back to
 * where it started since `t`, so at least the excess has been held since then.
 */
export function closeWaitSignature(t: Float64Array, v: Float64Array): CloseWaitSignature {
  const n = v.length;
  let increases = 0;
  let undone = 0;
  let steps = 0;
  for (let i = 1; i < n; i++) {
    const d = v[i]! - v[i - 1]!;
    if (d > 0) {
      increases += d;
      steps++;
    } else if (d < 0) undone -= d;
  }
  const start = n > 0 ? v[0]! : 0;
  const count = n > 0 ? v[n - 1]! : 0;
  let since = n > 0 ? t[n - 1]! : 0;
  for (let i = n - 1; i >= 0; i--) {
    if (v[i]! <= start) break;
    since = t[i]!;
  }
  const span = n > 1 ? t[n - 1]! - t[0]! : 0;
  const oldestAgeMs = n > 0 ? t[n - 1]! - since : 0;
  const matches =
    count - start >= CLOSE_WAIT_MIN_GROWTH &&
    steps >= CLOSE_WAIT_MIN_STEPS &&
    undone <= CLOSE_WAIT_MAX_UNDONE * increases &&
    span > 0 &&
    oldestAgeMs >= CLOSE_WAIT_MIN_AGE_SHARE * span;
  return { matches, count, steps, increases, undone, oldestAgeMs };
}

/**
 * A count that only ratchets up: it rose in at least RATCHET_MIN_STEPS steps in each third of the
 * series and at most CLOSE_WAIT_MAX_UNDONE of the rises were ever undone. fds, sockets and threads of a
 * healthy process come and go; a warm-up stops rising, a step rises once. A clean staircase is where
 * the autocorrelation correction is most conservative (the detrended staircase is a sawtooth of
 * strongly correlated ranks), so the ratchet settles what the trend test leaves at 'watch'.
 */
export function ratchet(v: Float64Array): {
  matches: boolean;
  steps: number;
  undone: number;
  increases: number;
} {
  const n = v.length;
  const steps = [0, 0, 0];
  let increases = 0;
  let undone = 0;
  for (let i = 1; i < n; i++) {
    const d = v[i]! - v[i - 1]!;
    if (d > 0) {
      increases += d;
      steps[Math.min(2, Math.floor((3 * i) / n))]!++;
    } else if (d < 0) undone -= d;
  }
  const total = steps[0]! + steps[1]! + steps[2]!;
  const matches =
    n > 0 &&
    v[n - 1]! - v[0]! >= MIN_COUNT_GROWTH &&
    steps.every((s) => s >= RATCHET_MIN_STEPS) &&
    undone <= CLOSE_WAIT_MAX_UNDONE * increases;
  return { matches, steps: total, undone, increases };
}

// ---- one series -------------------------------------------------------------------------------------

function withLimit(s: Suspect, input: SeriesInput, verdict: LeakVerdict | undefined, tEnd: number): void {
  const limit = input.limit?.();
  if (!limit) return;
  s.limit = limit;
  if (verdict?.exhaustsAtMs !== undefined) {
    s.exhaustsAt = iso(verdict.exhaustsAtMs);
    const r = verdict.exhaustsRangeMs;
    s.exhaustsRange = r ? [iso(r[0]), Number.isFinite(r[1]) ? iso(r[1]) : null] : null;
    return;
  }
  // the verdict had no limit yet: project from the slope
  const perMs = s.slopePerHour / HOUR_MS;
  if (!(perMs > 0)) return;
  const room = limit.value - s.evidence.last;
  const at = room <= 0 ? tEnd : tEnd + room / perMs;
  s.exhaustsAt = iso(at);
  const [lo, hi] = s.slopePerHourInterval.map((x) => x / HOUR_MS) as [number, number];
  s.exhaustsRange = [
    iso(room <= 0 ? tEnd : hi > 0 ? tEnd + room / hi : at),
    room <= 0 ? iso(tEnd) : lo > 0 ? iso(tEnd + room / lo) : null,
  ];
}

/**
 * The verdict on one series: undefined when it is not a suspect (no growth, vetoed, or too little of
 * it). `stats` counts what the pre-filter let through.
 */
export function judgeSeries(input: SeriesInput, stats?: JudgeStats): Suspect | undefined {
  if (stats) stats.series++;
  const { t, v } = finite(input.tMs, input.values);
  const unit = metricInfo(input.metric).unit;
  const closeWait =
    input.metric === 'close_wait' && input.entity.kind === 'process' ? closeWaitSignature(t, v) : undefined;
  if (!quickGrowth(v) && !closeWait?.matches && !quickGrowth(v.subarray(v.length >> 1))) return undefined;
  if (stats) stats.judged++;
  // The limit is asked for only now, and only to project: a verdict is the same with or without it.
  let verdict = leakVerdict(t, v);
  let window = 0;
  if (verdict.verdict !== 'leak') {
    // A leak that began late is diluted by the flat days before it: judge the recent half and quarter
    // too, each at a Bonferroni-tightened level so three looks cry wolf no more often than one.
    for (const share of TAIL_WINDOWS) {
      const from = Math.floor(v.length * (1 - share));
      if (v.length - from < MIN_SAMPLES) break;
      if (!quickGrowth(v.subarray(from))) continue;
      const tail = leakVerdict(t.subarray(from), v.subarray(from));
      if (tail.verdict === 'leak' && tail.evidence.pGrowth < P_LEAK / (TAIL_WINDOWS.length + 1)) {
        verdict = tail;
        window = from;
        break;
      }
    }
  }
  let kind: 'leak' | 'watch' | 'none' = verdict.verdict;
  const reasons = [...verdict.reasons];
  if (window > 0)
    reasons.unshift(`growth began late: judged on the last ${v.length - window} of ${v.length} samples`);
  const growth = verdict.evidence.growth;
  if (kind === 'leak' && !bigEnough(unit, growth)) {
    kind = 'watch';
    reasons.push(
      `growth of ${round(growth)} ${unit} is below the ${unit === 'bytes' ? '1 MiB' : `${MIN_COUNT_GROWTH}`} worth a leak report`,
    );
  }
  let shape: SuspectShape =
    verdict.shape === 'stepwise' ? 'stepwise' : verdict.shape === 'sawtooth' ? 'sawtooth' : 'steady';
  let confidence = verdict.confidence;
  if (closeWait?.matches && kind !== 'leak') {
    kind = 'leak';
    shape = verdict.shape === 'steady' ? 'steady' : 'stepwise';
    confidence = Math.max(confidence, 1 - 0.5 ** closeWait.steps);
    reasons.push(
      `CLOSE_WAIT signature: ${closeWait.count} sockets the peers closed and this process never did, added in ${closeWait.steps} steps, ${round(closeWait.undone)} of ${round(closeWait.increases)} ever closed, the oldest held ≥ ${round(closeWait.oldestAgeMs / 1000)} s`,
    );
  }
  const ev = verdict.evidence;
  if (
    kind === 'watch' &&
    ev.pGrowth < P_LEAK &&
    verdict.slopeInterval[0] > 0 &&
    ev.relativeGrowth >= MIN_RELATIVE_GROWTH &&
    bigEnough(unit, growth) &&
    growth >= TREND_DOMINANCE * ev.noise &&
    verdict.shape !== 'plateau' &&
    verdict.shape !== 'step'
  ) {
    kind = 'leak';
    reasons.push(
      `growth is ${round(ev.noise > 0 ? growth / ev.noise : Infinity)}× the floor's scatter about its trend: no wander of the noise does that`,
    );
  }
  if (
    kind === 'watch' &&
    unit === 'count' &&
    verdict.slopePerHour > 0 &&
    input.entity.kind !== 'group' &&
    input.entity.kind !== 'tree'
  ) {
    const r = ratchet(v);
    if (r.matches) {
      kind = 'leak';
      confidence = Math.max(confidence, 1 - 0.5 ** r.steps);
      reasons.push(
        `only ever rises: ${round(r.increases)} added in ${r.steps} steps spread over the whole series, ${round(r.undone)} ever released`,
      );
    }
  }
  if (kind === 'none') return undefined;
  let slopePerHour = verdict.slopePerHour;
  let interval = verdict.slopeInterval;
  if (closeWait?.matches && !(slopePerHour > 0)) {
    // a staircase of few steps can have a zero Sen slope: the rate is the net accumulation over the span
    const span = t[t.length - 1]! - t[0]!;
    slopePerHour = span > 0 ? ((closeWait.count - v[0]!) / span) * HOUR_MS : 0;
    interval = [0, slopePerHour];
  }
  const s: Suspect = {
    entity: input.entity,
    metric: input.metric,
    unit,
    verdict: kind,
    confidence: round(confidence),
    slopePerHour: round(slopePerHour),
    slopePerHourInterval: [round(interval[0]), round(interval[1])],
    shape,
    exhaustsAt: null,
    exhaustsRange: null,
    limit: null,
    alsoGrowing: [],
    evidence: {
      ...summary(t.subarray(window), v.subarray(window)),
      growth: round(growth),
      relativeGrowth: round(verdict.evidence.relativeGrowth),
      pGrowth: verdict.evidence.pGrowth,
      nOverNStar: round(verdict.evidence.nOverNStar),
      noisePhi: round(verdict.evidence.noisePhi),
      windowSamples: verdict.evidence.windowSamples,
      reasons,
      floor: floorPoints(verdict.evidence),
      ...(closeWait?.matches
        ? {
            closeWait: {
              count: closeWait.count,
              steps: closeWait.steps,
              undone: closeWait.undone,
              oldestAgeMs: closeWait.oldestAgeMs,
            },
          }
        : {}),
    },
  };
  const limit = input.limit?.();
  if (limit) {
    // Re-run only the projection with the limit (cheap next to the I/O that found it).
    const withL = leakVerdict(t.subarray(window), v.subarray(window), { limit: limit.value });
    withLimit(s, { ...input, limit: () => limit }, withL, t[t.length - 1]!);
  }
  return s;
}

// ---- runs of a group --------------------------------------------------------------------------------

/** Scratch for senOf's pairwise slopes: runStats runs once per process series, thousands of times. */
let slopeScratch = new Float64Array(0);

/**
 * senMedian(pairwiseSlopes(v, t)) without allocating: the same slopes and the same order statistics
 * (whichever way they are selected), so the same value.
 */
function senOf(t: Float64Array, v: Float64Array): number {
  const n = v.length;
  if (n < 2) return NaN;
  const pairs = (n * (n - 1)) / 2;
  if (slopeScratch.length < pairs) slopeScratch = new Float64Array(pairs);
  let k = 0;
  for (let i = 0; i < n - 1; i++) {
    const yi = v[i]!;
    const ti = t[i]!;
    for (let j = i + 1; j < n; j++) {
      const dt = t[j]! - ti;
      if (dt !== 0) slopeScratch[k++] = (v[j]! - yi) / dt;
    }
  }
  if (k === 0) return NaN;
  const a = slopeScratch.subarray(0, k);
  const mid = k >> 1;
  const upper = selectInPlace(a, mid);
  if (k % 2 === 1) return (upper + upper) / 2;
  // after the selection everything left of mid is ≤ a[mid]: the (mid − 1)-th is their maximum
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + upper) / 2;
}

/** Floor (block minima, at most RUN_FLOOR_POINTS) and the slopes `judgeRuns` compares. */
export function runStats(tMs: Float64Array, values: Float64Array): RunStats | undefined {
  const { t, v } = finite(tMs, values);
  const n = v.length;
  if (n < 2) return undefined;
  const w = Math.max(1, Math.ceil(n / RUN_FLOOR_POINTS));
  const m = Math.floor(n / w);
  const ft = new Float64Array(m);
  const fv = new Float64Array(m);
  for (let b = 0; b < m; b++) {
    let lo = Infinity;
    let at = b * w;
    for (let i = b * w; i < (b + 1) * w; i++) {
      if (v[i]! < lo) {
        lo = v[i]!;
        at = i;
      }
    }
    ft[b] = t[at]!;
    fv[b] = lo;
  }
  const half = m >> 1;
  return {
    samples: n,
    startMs: t[0]!,
    durationMs: t[n - 1]! - t[0]!,
    startLevel: v[0]!,
    slope: senOf(ft, fv),
    firstHalfSlope: senOf(ft.subarray(0, half + 1), fv.subarray(0, half + 1)),
    secondHalfSlope: senOf(ft.subarray(half), fv.subarray(half)),
  };
}

/** P(Binomial(m, ½) ≥ k). */
export function signTestP(k: number, m: number): number {
  if (m <= 0) return 1;
  let p = 0;
  let c = 1; // C(m, 0)
  for (let i = 0; i <= m; i++) {
    if (i >= k) p += c;
    c = (c * (m - i)) / (i + 1);
  }
  return Math.min(1, p / 2 ** m);
}

/**
 * Does every run of a group grow the same way? Runs shorter than RUN_MIN_SAMPLES are ignored. 'leak'
 * needs: a sign test across runs (whole-run floor slopes) at P_RUNS_LEAK, the second halves still
 * growing (sign test at P_RUNS_WATCH and a median second-half slope of at least RUN_SLOWDOWN_RATIO of
 * the first halves' — a warm-up to a plateau or a step after start fails here), and growth per run big
 * enough to report.
 */
export function judgeRuns(entity: EntityRef, metric: string, runs: readonly RunStats[]): Suspect | undefined {
  const ok = runs.filter((r) => r.samples >= RUN_MIN_SAMPLES && Number.isFinite(r.slope));
  if (ok.length < MIN_RUNS) return undefined;
  const unit = metricInfo(metric).unit;
  const slopes = ok.map((r) => r.slope).filter((s) => s !== 0);
  const growing = slopes.filter((s) => s > 0).length;
  const p = signTestP(growing, slopes.length);
  if (!(p < P_RUNS_WATCH)) return undefined;
  const second = ok.map((r) => r.secondHalfSlope).filter((s) => Number.isFinite(s) && s !== 0);
  const pSecond = signTestP(second.filter((s) => s > 0).length, second.length);
  const medFirst = median(ok.map((r) => r.firstHalfSlope).filter(Number.isFinite));
  const medSecond = median(ok.map((r) => r.secondHalfSlope).filter(Number.isFinite));
  const medSlope = median(ok.map((r) => r.slope));
  const medDuration = median(ok.map((r) => r.durationMs));
  const medStart = median(ok.map((r) => r.startLevel));
  const growth = medSlope * medDuration;
  const reasons = [
    `${growing} of ${slopes.length} runs grew (sign test p = ${round(p)}); median ${round(growth)} ${unit} per run of ${round(medDuration / 1000)} s`,
  ];
  if (!(pSecond < P_RUNS_WATCH) || !(medSecond >= RUN_SLOWDOWN_RATIO * medFirst)) {
    // Levelling off within each run: a warm-up or a step after start, not a leak.
    return undefined;
  }
  let verdict: 'leak' | 'watch' = p < P_RUNS_LEAK ? 'leak' : 'watch';
  const relative = growth / Math.max(Math.abs(medStart), Number.MIN_VALUE);
  if (verdict === 'leak' && (!bigEnough(unit, growth) || relative < 0.01)) {
    verdict = 'watch';
    reasons.push(`growth per run of ${round(growth)} ${unit} (${round(relative * 100)} %) is small`);
  }
  reasons.push(
    `each run keeps growing in its second half (median ${round(medSecond * HOUR_MS)}/h vs ${round(medFirst * HOUR_MS)}/h in the first): not a warm-up`,
  );
  // Distribution-free interval for the median run slope (binomial order statistics, ≈ 95 %).
  const sorted = ok.map((r) => r.slope).sort((a, b) => a - b);
  const m = sorted.length;
  const k = Math.max(0, Math.floor(m / 2 - 0.98 * Math.sqrt(m)));
  const lo = sorted[k]!;
  const hi = sorted[Math.min(m - 1, m - 1 - k)]!;
  const starts = ok.map((r) => r.startMs);
  const ends = ok.map((r) => r.startMs + r.durationMs);
  return {
    entity,
    metric,
    unit,
    verdict,
    confidence: round(1 - p),
    slopePerHour: round(medSlope * HOUR_MS),
    slopePerHourInterval: [round(lo * HOUR_MS), round(hi * HOUR_MS)],
    shape: 'per-run',
    exhaustsAt: null,
    exhaustsRange: null,
    limit: null,
    alsoGrowing: [],
    evidence: {
      samples: ok.reduce((a, r) => a + r.samples, 0),
      from: iso(Math.min(...starts)),
      to: iso(Math.max(...ends)),
      first: medStart,
      last: round(medStart + growth),
      min: medStart,
      max: round(medStart + growth),
      growth: round(growth),
      relativeGrowth: round(relative),
      pGrowth: p,
      reasons,
      floor: [],
      runs: {
        count: ok.length,
        growing,
        medianGrowth: round(growth),
        medianDurationMs: Math.round(medDuration),
      },
    },
  };
}

// ---- ranking ----------------------------------------------------------------------------------------

const VERDICT_RANK = { leak: 2, watch: 1 } as const;

/**
 * One suspect per entity and resource (the most certain, then the most specific metric; the others are
 * listed in `alsoGrowing`); trees and groups whose growth one member process explains are dropped; the
 * rest ranked: leaks first, then the soonest exhaustion, then confidence.
 */
export function rankSuspects(all: readonly Suspect[]): Suspect[] {
  const best = new Map<string, Suspect>();
  const also = new Map<string, Set<string>>();
  for (const s of all) {
    const key = `${s.entity.key}\u0000${metricInfo(s.metric).resource}`;
    const cur = best.get(key);
    const set = also.get(key) ?? new Set<string>();
    also.set(key, set);
    set.add(s.metric);
    if (
      !cur ||
      VERDICT_RANK[s.verdict] > VERDICT_RANK[cur.verdict] ||
      (VERDICT_RANK[s.verdict] === VERDICT_RANK[cur.verdict] &&
        metricInfo(s.metric).specificity > metricInfo(cur.metric).specificity)
    )
      best.set(key, s);
  }
  const out: Suspect[] = [];
  for (const [key, s] of best) {
    s.alsoGrowing = [...(also.get(key) ?? [])].filter((m) => m !== s.metric);
    out.push(s);
  }
  const exh = (s: Suspect): number => (s.exhaustsAt ? Date.parse(s.exhaustsAt) : Infinity);
  const kindRank = { process: 0, series: 0, group: 1, tree: 2 } as const;
  out.sort(
    (a, b) =>
      VERDICT_RANK[b.verdict] - VERDICT_RANK[a.verdict] ||
      exh(a) - exh(b) ||
      b.confidence - a.confidence ||
      kindRank[a.entity.kind] - kindRank[b.entity.kind] ||
      a.entity.label.localeCompare(b.entity.label),
  );
  return out;
}

/**
 * Drops aggregate suspects (tree, group summed) that their member processes' leaks explain: the slopes
 * of the members' 'leak' suspects of the same resource add up to at least EXPLAINED_SHARE of the
 * aggregate's. `members(key)` lists the entity keys of an aggregate's member processes.
 */
export function dropExplained(
  suspects: readonly Suspect[],
  members: (aggregateKey: string) => readonly string[] | undefined,
): Suspect[] {
  const byKey = new Map<string, Suspect>();
  for (const s of suspects) {
    if (s.entity.kind !== 'process' || s.verdict !== 'leak') continue;
    const k = `${s.entity.key}\u0000${metricInfo(s.metric).resource}`;
    const cur = byKey.get(k);
    if (!cur || s.slopePerHour > cur.slopePerHour) byKey.set(k, s);
  }
  return suspects.filter((s) => {
    if (s.entity.kind !== 'tree' && !(s.entity.kind === 'group' && s.shape !== 'per-run')) return true;
    const res = metricInfo(s.metric).resource;
    let explained = 0;
    for (const m of members(s.entity.key) ?? [])
      explained += byKey.get(`${m}\u0000${res}`)?.slopePerHour ?? 0;
    return !(s.slopePerHour > 0 && explained >= EXPLAINED_SHARE * s.slopePerHour);
  });
}

// ---- the document -----------------------------------------------------------------------------------

export interface LeaksDocument {
  schema: 'procsleuth.leaks/1';
  generatedAt: string;
  source: { kind: 'record'; db: string } | { kind: 'csv'; file: string };
  since: string | null;
  from: string | null;
  to: string | null;
  /** Timeline points read (samples, and 10-minute buckets older than the retention). */
  samples: number;
  scanned: {
    processes: number;
    groups: number;
    trees: number;
    series: number;
    /** Series that passed the pre-filter and got the full verdict. */
    judged: number;
  };
  /** Notes on what could not be known (limits not stored, PSS never read, …). */
  notes: string[];
  suspects: Suspect[];
}
