/**
 * Is this series leaking? A verdict that survives the shapes that fool naive detectors.
 *
 * The pipeline, and why each step exists:
 * 1. Floor. Values are reduced to a floor series: for a garbage-collected sawtooth (regular sharp drops)
 *    the minimum of each GC cycle; otherwise the minimum of consecutive blocks of samples. A GC heap's
 *    peaks move with allocation bursts; its troughs move only with what survives — the leak. Block sizes
 *    are counted in samples (≈ n / TARGET_FLOOR_POINTS, but at least two correlation times of the noise,
 *    whose φ is read from the lag-1 correlation of the differences), so a 100 ms test and five days at
 *    one minute run the same code on the same number of floor points.
 * 2. Daily cycle (only when the series spans ≥ 2 days of wall time). Day-over-day differences of the
 *    floor give the slope a daily cycle cannot fake ("same hour yesterday"); a daily profile (24 h and
 *    12 h harmonics) fitted to the detrended floor is removed before the trend test.
 * 3. Trend. Mann–Kendall on the floor with the Hamed–Rao variance correction (the floor is still
 *    autocorrelated; the factor used is the larger of Hamed–Rao's and an AR(1) one from the unscreened
 *    lag-1 rank correlation), Theil–Sen slope with its interval widened by the same factor. 'leak' also
 *    needs enough effectively independent samples, n(1 − φ)/(1 + φ).
 * 4. Vetoes. Growth that is slowing (first vs last third of the floor: a cache warming to a plateau),
 *    growth explained by one or two jumps (PELT on the floor: a reload), growth that is only the daily
 *    cycle. Too little growth — against the noise or against the level — is not worth an alarm.
 * 5. Projection. With a limit, when the peaks (floor line + typical spread above it) reach it, from the
 *    slope and from both ends of its interval.
 *
 * The cost is O(n) over the raw samples plus O(m²) over m ≈ 120 floor points: about a millisecond for
 * 7,200 samples (see bench/detect-speed.ts).
 */
import { pelt, robustSigma } from './change-point.js';
import { mannKendallHamedRao, mannKendallZ } from './mann-kendall.js';
import { normalSf } from './normal.js';
import { acf, averageRanks, mad, median, pairwiseSlopes, quantile, type Series } from './robust.js';
import { senIntercept, senIntervalAfterMedian, senMedian } from './theil-sen.js';
import { blocks, windowedMean } from './windowed.js';

// ---- thresholds -------------------------------------------------------------------------------------

/** Floor points the trend test aims for: ≥ 100 gives MK its power on slow leaks; the O(m²) steps stay ~0.1 ms. */
export const TARGET_FLOOR_POINTS = 120;
/** Fewer raw samples than this carry no trend evidence worth a verdict. */
export const MIN_SAMPLES = 24;
/** Fewer floor points than this (e.g. a sawtooth with 4 GC cycles) cannot reach significance at all. */
export const MIN_FLOOR_POINTS = 5;
/** One-sided corrected p for 'leak'. With the effect-size gates this holds false alarms on flat AR(1) noise well under 1 %. */
export const P_LEAK = 0.01;
/** One-sided corrected p for 'watch': growth likely, not yet proven. */
export const P_WATCH = 0.05;
/**
 * The Hamed–Rao factor is never allowed below 1 in the verdict: on a short floor, negative rank
 * autocorrelation is more often an artefact than a property of the process, and it would make the test
 * more liberal than plain MK. Crying wolf is worse than being a little slow.
 */
export const MIN_VARIANCE_FACTOR = 1;
/**
 * For 'leak', growth over the series must exceed this many σ of the floor's scatter about its trend
 * line (on flat AR(1) noise the false alarms we simulated had spurious growth of 1–1.5 σ)...
 */
export const MIN_GROWTH_NOISE = 2;
/** ...and this share of the starting level: a 2 GB heap that grew 10 MB in five days is not a leak report. */
export const MIN_RELATIVE_GROWTH = 0.01;
/** Below this many σ of growth not even 'watch': a floor that moved less than its own scatter has not grown. */
export const MIN_WATCH_GROWTH_NOISE = 1;
/** Plateau veto: the last third's slope, even at the top of its interval, is below this share of the first third's. */
export const SLOWDOWN_RATIO = 0.5;
/** Step veto: at most this many upward jumps... */
export const MAX_EXPLAINING_JUMPS = 2;
/** ...accounting for this share of the net rise... */
export const JUMP_SHARE = 0.8;
/** ...and the piecewise-constant fit must leave at most this share of the straight line's squared residuals. */
export const STEP_FIT_RATIO = 0.6;
/** ...and the slope left inside the segments is below this share of the overall slope. */
export const STEP_WITHIN_SHARE = 0.4;
/** A staircase needs at least this many upward jumps to be called stepwise (an fd leak in bursts). */
export const STEPWISE_MIN_JUMPS = 3;
/** A GC drop exceeds this many robust σ of the sample-to-sample differences... */
export const DROP_SIGMA = 6;
/** ...and this share of the 1–99 % range of the values. */
export const DROP_RANGE_SHARE = 0.2;
/** A sawtooth has at least this many drops, and fewer than half as many sharp rises (else it is spikes). */
export const MIN_SAWTOOTH_DROPS = 3;
/** Noise memory: blocks span at least this many integrated correlation times of the raw noise. */
export const BLOCK_CORRELATION_TIMES = 2;
/**
 * 'leak' needs at least this many effectively independent raw samples, n(1 − φ)/(1 + φ): 300 samples of
 * φ = 0.95 noise hold fewer than 8, and no test can tell their wander from growth.
 */
export const MIN_EFFECTIVE_SAMPLES = 20;
/** Cap on the estimated φ (φ → 1 would ask for blocks longer than the series). */
export const MAX_PHI = 0.995;
/** Noise memory never shrinks the floor below this many blocks: past it, the Hamed–Rao correction has to do the rest. */
export const MIN_BLOCKS = 12;
/** Thresholds on long series are estimated from at most this many evenly strided samples. */
export const SUBSAMPLE = 2048;
export const DAY_MS = 86_400_000;
/** Daily rules need two days: one to compare, one to compare against. */
export const MIN_DAYS_FOR_DAILY = 2;
/**
 * A daily profile is removed only if its F statistic (4 and m − 5 degrees of freedom) reaches this:
 * F(4, 100) = 5 has p ≈ 0.001, so noise is almost never "deseasonalised".
 */
export const DAILY_MIN_F = 5;
/** Daily veto: day-over-day growth below this share of the fitted slope means the trend is the cycle. */
export const DAILY_SLOPE_RATIO = 0.5;

const HOUR_MS = 3_600_000;

// ---- types ------------------------------------------------------------------------------------------

export type LeakShape =
  'steady' | 'stepwise' | 'sawtooth' | 'flat' | 'falling' | 'plateau' | 'step' | 'daily' | 'insufficient';

export interface LeakOptions {
  /** The limit the value grows towards, in the values' unit (memory.max, RLIMIT_NOFILE, …). */
  limit?: number | 'unlimited';
}

export interface LeakEvidence {
  samples: number;
  spanMs: number;
  /** Samples per floor point (block size, or mean GC cycle length for a sawtooth). */
  windowSamples: number;
  floorTimesMs: Float64Array;
  /** The floor the trend was judged on (after removing a daily profile, if any). */
  floorValues: Float64Array;
  mkS: number;
  mkZ: number;
  /** Hamed–Rao n/n* as computed (the verdict uses at least MIN_VARIANCE_FACTOR). */
  nOverNStar: number;
  /** One-sided p of growth after the correction. */
  pGrowth: number;
  /** Growth over the floor's span, in the values' unit. */
  growth: number;
  relativeGrowth: number;
  /** σ of the floor about its trend line. */
  noise: number;
  firstThirdSlopePerHour: number | undefined;
  lastThirdSlopePerHour: number | undefined;
  /** Upward jumps PELT found in the floor, and how many of them explain JUMP_SHARE of the rise. */
  upJumps: number;
  explainingJumps: number | undefined;
  /** Squared residuals of the piecewise-constant floor over those of the trend line (< 1: steps fit better). */
  stepFitRatio: number | undefined;
  /** Slope left inside the PELT segments, per hour. */
  withinSlopePerHour: number | undefined;
  /** Day-over-day slope (only when the series spans MIN_DAYS_FOR_DAILY). */
  dailySlopePerHour: number | undefined;
  /** Range of the removed hour-of-day profile; undefined when none was removed. */
  dailyAmplitude: number | undefined;
  sawtoothDrops: number;
  /** Lag-1 autocorrelation of the raw noise, estimated from differences. */
  noisePhi: number;
}

export interface LeakVerdict {
  verdict: 'leak' | 'watch' | 'none';
  /** Strength of the evidence for growth, 0..1 (1 − corrected one-sided p, reduced by soft concerns). */
  confidence: number;
  slopePerHour: number;
  slopeInterval: [number, number];
  shape: LeakShape;
  /** When the peaks reach the limit at the estimated slope; set for 'leak'/'watch' with a numeric limit. */
  exhaustsAtMs?: number;
  /** Earliest and latest exhaustion from the slope interval (latest is Infinity when the interval reaches 0). */
  exhaustsRangeMs?: [number, number];
  reasons: string[];
  evidence: LeakEvidence;
}

// ---- helpers ----------------------------------------------------------------------------------------

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(2) : String(Number(x.toPrecision(3)));
}

/** Finite, time-ordered series: the input itself when it already is one (the common case), else a copy. */
function clean(timesMs: Series, values: Series): { t: Float64Array; v: Float64Array } {
  const n = Math.min(timesMs.length, values.length);
  if (timesMs instanceof Float64Array && values instanceof Float64Array) {
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      const ti = timesMs[i]!;
      ok = Number.isFinite(ti) && Number.isFinite(values[i]!) && (i === 0 || ti >= timesMs[i - 1]!);
    }
    if (ok) return { t: timesMs.subarray(0, n), v: values.subarray(0, n) };
  }
  let k = 0;
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const ti = timesMs[i]!;
    const vi = values[i]!;
    if (!Number.isFinite(ti) || !Number.isFinite(vi)) continue;
    if (k > 0 && ti < t[k - 1]!) sorted = false;
    t[k] = ti;
    v[k] = vi;
    k++;
  }
  if (sorted) return { t: t.subarray(0, k), v: v.subarray(0, k) };
  const idx = Array.from({ length: k }, (_, i) => i).sort((a, b) => t[a]! - t[b]! || a - b);
  return { t: Float64Array.from(idx, (i) => t[i]!), v: Float64Array.from(idx, (i) => v[i]!) };
}

interface Floor {
  t: Float64Array;
  v: Float64Array;
  windowSamples: number;
  sawtooth: boolean;
  drops: number;
  /** Typical spread of the raw values above the floor (how far the peaks sit above it). */
  headroom: number;
  phi: number;
}

/** Every k-th value, so thresholds on long series cost O(SUBSAMPLE) selections instead of O(n). */
function strided(a: Float64Array, max: number): Float64Array {
  if (a.length <= max) return a;
  const k = Math.ceil(a.length / max);
  const out = new Float64Array(Math.ceil(a.length / k));
  for (let i = 0, j = 0; i < a.length; i += k) out[j++] = a[i]!;
  return out;
}

interface RawShape {
  /** Indices where a new GC cycle starts (after a sharp drop); empty unless the series is a sawtooth. */
  drops: number[];
  /** Lag-1 autocorrelation of the noise, from the differences (trends, steps and slow cycles cancel). */
  phi: number;
}

function rawShape(v: Float64Array): RawShape {
  const n = v.length;
  const d = new Float64Array(n - 1);
  for (let i = 0; i + 1 < n; i++) d[i] = v[i + 1]! - v[i]!;
  const sd = mad(strided(d, SUBSAMPLE));
  const sv = strided(v, SUBSAMPLE);
  const threshold = Math.max(DROP_SIGMA * sd, DROP_RANGE_SHARE * (quantile(sv, 0.99) - quantile(sv, 0.01)));
  const drops: number[] = [];
  let rises = 0;
  // For AR(1) noise, corr(Δx_t, Δx_{t−1}) = −(1 − φ)/2; jumps and drops are clipped out so they do not
  // masquerade as correlation.
  const clip = 5 * sd;
  let mean = 0;
  let cnt = 0;
  for (let i = 0; i < d.length; i++) {
    if (Math.abs(d[i]!) <= clip) {
      mean += d[i]!;
      cnt++;
    }
  }
  mean /= Math.max(1, cnt);
  let num = 0;
  let den = 0;
  for (let i = 0; i < d.length; i++) {
    const x = d[i]!;
    if (threshold > 0 && x < -threshold) {
      // a drop spread over consecutive samples is one GC
      if (drops.length === 0 || drops[drops.length - 1]! !== i) drops.push(i + 1);
      else drops[drops.length - 1] = i + 1;
    } else if (threshold > 0 && x > threshold) rises++;
    if (Math.abs(x) > clip) continue;
    den += (x - mean) * (x - mean);
    if (i > 0 && Math.abs(d[i - 1]!) <= clip) num += (x - mean) * (d[i - 1]! - mean);
  }
  const phi = den > 0 ? Math.min(MAX_PHI, Math.max(0, 1 + (2 * num) / den)) : 0;
  const sawtooth = drops.length >= MIN_SAWTOOTH_DROPS && rises * 2 < drops.length;
  return { drops: sawtooth ? drops : [], phi };
}

/**
 * Block length that makes block floors of AR(1) noise close to independent: BLOCK_CORRELATION_TIMES
 * integrated correlation times, τ = (1 + φ)/(1 − φ) samples.
 */
function decorrelationSamples(phi: number): number {
  return phi <= 0 ? 1 : Math.ceil((BLOCK_CORRELATION_TIMES * (1 + phi)) / (1 - phi));
}

/**
 * Variance factor for MK under AR(1) dependence with lag-1 correlation r (the Hamed–Rao sum with
 * ρ_k = r^k, every lag kept). Hamed–Rao proper keeps only lags significant at 5 %, and on ~100 floor
 * points a lag-1 correlation of 0.15 is not significant yet still inflates Var(S) by a third.
 */
function ar1VarianceFactor(r: number, n: number): number {
  if (!(r > 0) || n < 3) return 1;
  let sum = 0;
  let rk = 1;
  for (let k = 1; k < n - 2; k++) {
    rk *= r;
    if (rk < 1e-6) break;
    sum += (n - k) * (n - k - 1) * (n - k - 2) * rk;
  }
  return 1 + (2 / (n * (n - 1) * (n - 2))) * sum;
}

function buildFloor(t: Float64Array, v: Float64Array): Floor {
  const n = v.length;
  const { drops, phi } = rawShape(v);
  if (drops.length > 0) {
    // Cycle c runs from drop c to drop c+1; the part before the first drop is a partial ramp, not a trough.
    const starts = drops;
    const cycles = starts.length;
    const group = Math.max(1, Math.ceil(cycles / TARGET_FLOOR_POINTS));
    const m = Math.ceil(cycles / group);
    const ft = new Float64Array(m);
    const fv = new Float64Array(m);
    const spread: number[] = [];
    for (let g = 0; g < m; g++) {
      const a = starts[g * group]!;
      const b = g * group + group < cycles ? starts[g * group + group]! : n;
      let lo = Infinity;
      let hi = -Infinity;
      let arg = a;
      for (let i = a; i < b; i++) {
        if (v[i]! < lo) {
          lo = v[i]!;
          arg = i;
        }
        if (v[i]! > hi) hi = v[i]!;
      }
      ft[g] = t[arg]!;
      fv[g] = lo;
      spread.push(hi - lo);
    }
    return {
      t: ft,
      v: fv,
      windowSamples: Math.round((n - starts[0]!) / cycles),
      sawtooth: true,
      drops: cycles,
      headroom: median(spread),
      phi,
    };
  }
  // Blocks of ≈ n / TARGET samples, but never shorter than the noise's memory: block floors of strongly
  // autocorrelated noise wander together and fake trends the variance correction only partly catches.
  const w = Math.max(
    1,
    Math.min(
      Math.floor(n / MIN_BLOCKS),
      Math.max(Math.floor(n / TARGET_FLOOR_POINTS), decorrelationSamples(phi)),
    ),
  );
  const b = blocks(v, w);
  const spread = new Float64Array(b.min.length);
  for (let i = 0; i < spread.length; i++) spread[i] = b.max[i]! - b.min[i]!;
  return {
    t: windowedMean(t, w),
    v: b.min,
    windowSamples: w,
    sawtooth: false,
    drops: 0,
    headroom: median(spread),
    phi,
  };
}

/** Linear interpolation of (xs, ys) at x; xs ascending. */
function interp(xs: Float64Array, ys: Float64Array, x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  if (x <= xs[0]!) return ys[0]!;
  if (x >= xs[hi]!) return ys[hi]!;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const f = (x - xs[lo]!) / (xs[hi]! - xs[lo]!);
  return ys[lo]! + f * (ys[hi]! - ys[lo]!);
}

interface Daily {
  slopePerMs: number;
  adjusted: Float64Array | undefined;
  amplitude: number | undefined;
}

/** Solves the k×k system A·x = b in place (Gaussian elimination, partial pivoting); undefined if singular. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const k = b.length;
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (!(Math.abs(a[p]![c]!) > 1e-12)) return undefined;
    [a[c], a[p]] = [a[p]!, a[c]!];
    [b[c], b[p]] = [b[p]!, b[c]!];
    for (let r = c + 1; r < k; r++) {
      const f = a[r]![c]! / a[c]![c]!;
      for (let j = c; j < k; j++) a[r]![j]! -= f * a[c]![j]!;
      b[r]! -= f * b[c]!;
    }
  }
  const x = new Array<number>(k).fill(0);
  for (let r = k - 1; r >= 0; r--) {
    let sum = b[r]!;
    for (let j = r + 1; j < k; j++) sum -= a[r]![j]! * x[j]!;
    x[r] = sum / a[r]![r]!;
  }
  return x;
}

/**
 * Day-over-day slope, and the daily profile as two harmonics (24 h and 12 h) fitted by least squares to
 * the floor detrended with that slope. Two harmonics and a mean are five numbers however few points a day
 * has, so the profile cannot soak up the noise the way per-hour bins would on a coarse floor.
 */
function dailyAnalysis(ft: Float64Array, fv: Float64Array): Daily {
  const m = fv.length;
  const t0 = ft[0]!;
  const diffs: number[] = [];
  for (let j = 0; j < m; j++) if (ft[j]! - DAY_MS >= t0) diffs.push(fv[j]! - interp(ft, fv, ft[j]! - DAY_MS));
  const slopePerMs = diffs.length > 0 ? median(diffs) / DAY_MS : 0;
  const none: Daily = { slopePerMs, adjusted: undefined, amplitude: undefined };
  const k = 5;
  if (m < 2 * k) return none;
  const xtx = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const xty = new Array<number>(k).fill(0);
  const rows: number[][] = [];
  const resid = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const w = (2 * Math.PI * (ft[j]! - t0)) / DAY_MS;
    const row = [1, Math.cos(w), Math.sin(w), Math.cos(2 * w), Math.sin(2 * w)];
    rows.push(row);
    resid[j] = fv[j]! - slopePerMs * (ft[j]! - t0);
    for (let a = 0; a < k; a++) {
      xty[a]! += row[a]! * resid[j]!;
      for (let b = 0; b < k; b++) xtx[a]![b]! += row[a]! * row[b]!;
    }
  }
  const beta = solve(xtx, xty);
  if (!beta) return none;
  let mean = 0;
  for (let j = 0; j < m; j++) mean += resid[j]!;
  mean /= m;
  let rss0 = 0;
  let rss1 = 0;
  const profile = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    const row = rows[j]!;
    let p = 0;
    for (let a = 1; a < k; a++) p += beta[a]! * row[a]!;
    profile[j] = p;
    rss0 += (resid[j]! - mean) ** 2;
    rss1 += (resid[j]! - beta[0]! - p) ** 2;
  }
  const f = rss1 > 0 ? (rss0 - rss1) / (k - 1) / (rss1 / (m - k)) : Infinity;
  if (!(f >= DAILY_MIN_F)) return none;
  const adjusted = new Float64Array(m);
  let lo = Infinity;
  let hi = -Infinity;
  for (let j = 0; j < m; j++) {
    adjusted[j] = fv[j]! - profile[j]!;
    lo = Math.min(lo, profile[j]!);
    hi = Math.max(hi, profile[j]!);
  }
  return { slopePerMs, adjusted, amplitude: hi - lo };
}

interface StepAnalysis {
  upJumps: number;
  explainingJumps: number | undefined;
  /** Squared residuals of the piecewise-constant fit over those of the trend line. */
  fitRatio: number;
  /** Pooled Sen slope inside the segments: the growth the jumps do not explain. */
  withinSlope: number;
  largestJumpAt: number | undefined;
}

function stepAnalysis(fv: Float64Array, ft: Float64Array, slope: number, intercept: number): StepAnalysis {
  const m = fv.length;
  // Lag-L differences resist the floor's remaining autocorrelation, which would otherwise shrink σ and
  // split plain noise into many segments.
  const lag = Math.max(1, Math.min(4, Math.floor(m / 10)));
  const cp = pelt(fv, { penalty: 'MBIC', minSegmentLength: 2, sigma: robustSigma(fv, lag) || undefined });
  const segs = cp.segments;
  const jumps: number[] = [];
  let largest = 0;
  let largestAt: number | undefined;
  for (let i = 1; i < segs.length; i++) {
    const j = segs[i]!.mean - segs[i - 1]!.mean;
    if (j > 0) {
      jumps.push(j);
      if (j > largest) {
        largest = j;
        largestAt = segs[i]!.start;
      }
    }
  }
  const netRise = segs.length > 0 ? segs[segs.length - 1]!.mean - segs[0]!.mean : 0;
  let explaining: number | undefined;
  if (netRise > 0 && jumps.length > 0) {
    jumps.sort((a, b) => b - a);
    let sum = 0;
    for (let k = 0; k < jumps.length; k++) {
      sum += jumps[k]!;
      if (sum >= JUMP_SHARE * netRise) {
        explaining = k + 1;
        break;
      }
    }
  }
  let rssStep = 0;
  let rssLine = 0;
  for (const s of segs) {
    for (let i = s.start; i < s.end; i++) {
      const r = fv[i]! - s.mean;
      rssStep += r * r;
    }
  }
  for (let i = 0; i < m; i++) {
    const r = fv[i]! - (intercept + slope * ft[i]!);
    rssLine += r * r;
  }
  // Growth left inside the segments: the median of the within-segment pairwise slopes (segments pooled
  // as the seasonal Sen slope pools seasons). A step leaves none; a ramp cut into pieces keeps its slope.
  const within: number[] = [];
  for (const seg of segs) {
    for (let i = seg.start; i < seg.end - 1; i++) {
      for (let j = i + 1; j < seg.end; j++) {
        const dt = ft[j]! - ft[i]!;
        if (dt !== 0) within.push((fv[j]! - fv[i]!) / dt);
      }
    }
  }
  const withinSlope = within.length > 0 ? median(within) : 0;
  return {
    upJumps: jumps.length,
    explainingJumps: explaining,
    fitRatio: rssLine > 0 ? rssStep / rssLine : 1,
    withinSlope,
    largestJumpAt: largestAt,
  };
}

interface Trend {
  s: number;
  z: number;
  pGrowth: number;
  nOverNStar: number;
  slope: number;
  lower: number;
  upper: number;
  intercept: number;
}

/** Reused by every trend() call (they never overlap): the slopes are only read inside it. */
let slopeScratch = new Float64Array(0);

/**
 * MK with the Hamed–Rao correction and the Sen slope with its interval widened by the same correction,
 * sharing one set of pairwise slopes (the O(m²) part).
 */
function trend(ft: Float64Array, fv: Float64Array): Trend {
  const m = fv.length;
  const total = (m * (m - 1)) / 2;
  if (slopeScratch.length < total) slopeScratch = new Float64Array(total);
  const slopes = pairwiseSlopes(fv, ft, slopeScratch);
  const slope = senMedian(slopes);
  const step = m > 1 ? (ft[m - 1]! - ft[0]!) / (m - 1) : 1;
  const hr = mannKendallHamedRao(fv, { senSlope: slope * step });
  const detrended = new Float64Array(m);
  for (let i = 0; i < m; i++) detrended[i] = fv[i]! - slope * ft[i]!;
  const r1 = acf(averageRanks(detrended), 1)[0] ?? 0;
  const factor = Math.max(
    MIN_VARIANCE_FACTOR,
    Number.isFinite(hr.nOverNStar) ? hr.nOverNStar : 1,
    ar1VarianceFactor(r1, m),
  );
  const varS = hr.varS * factor;
  const z = mannKendallZ(hr.s, varS);
  const ci = senIntervalAfterMedian(slopes, varS);
  return {
    s: hr.s,
    z,
    pGrowth: normalSf(z),
    nOverNStar: hr.nOverNStar,
    slope: ci.slope,
    lower: ci.lower,
    upper: ci.upper,
    intercept: senIntercept(fv, ft, ci.slope),
  };
}

function thirdSlope(
  ft: Float64Array,
  fv: Float64Array,
  from: number,
  to: number,
): { slope: number; upper: number } | undefined {
  if (to - from < 6) return undefined;
  const tr = trend(ft.subarray(from, to), fv.subarray(from, to));
  return { slope: tr.slope, upper: tr.upper };
}

// ---- the verdict ------------------------------------------------------------------------------------

export function leakVerdict(timesMs: Series, values: Series, opts: LeakOptions = {}): LeakVerdict {
  const { t, v } = clean(timesMs, values);
  const n = v.length;
  const spanMs = n > 0 ? t[n - 1]! - t[0]! : 0;
  const reasons: string[] = [];
  const empty = (why: string, extra: Partial<LeakEvidence> = {}): LeakVerdict => ({
    verdict: 'none',
    confidence: 0,
    slopePerHour: 0,
    slopeInterval: [0, 0],
    shape: 'insufficient',
    reasons: [why],
    evidence: {
      samples: n,
      spanMs,
      windowSamples: 0,
      floorTimesMs: new Float64Array(0),
      floorValues: new Float64Array(0),
      mkS: 0,
      mkZ: 0,
      nOverNStar: 1,
      pGrowth: 1,
      growth: 0,
      relativeGrowth: 0,
      noise: 0,
      firstThirdSlopePerHour: undefined,
      lastThirdSlopePerHour: undefined,
      upJumps: 0,
      explainingJumps: undefined,
      stepFitRatio: undefined,
      withinSlopePerHour: undefined,
      dailySlopePerHour: undefined,
      dailyAmplitude: undefined,
      sawtoothDrops: 0,
      noisePhi: 0,
      ...extra,
    },
  });
  if (n < MIN_SAMPLES) return empty(`only ${n} samples; need ${MIN_SAMPLES}`);
  if (!(spanMs > 0)) return empty('all samples share one timestamp');

  const floor = buildFloor(t, v);
  const m = floor.v.length;
  if (m < MIN_FLOOR_POINTS) {
    return empty(`only ${m} ${floor.sawtooth ? 'GC cycles' : 'floor points'}; need ${MIN_FLOOR_POINTS}`, {
      windowSamples: floor.windowSamples,
      sawtoothDrops: floor.drops,
    });
  }
  if (floor.sawtooth) reasons.push(`sawtooth with ${floor.drops} drops: judged on the floor of each cycle`);

  // Daily cycle: wall-time rule, only when the series spans it.
  const floorSpan = floor.t[m - 1]! - floor.t[0]!;
  let daily: Daily | undefined;
  let fv = floor.v;
  if (floorSpan >= MIN_DAYS_FOR_DAILY * DAY_MS) {
    daily = dailyAnalysis(floor.t, floor.v);
    if (daily.adjusted) {
      fv = daily.adjusted;
      reasons.push(`daily cycle of ${fmt(daily.amplitude ?? 0)} removed before the trend test`);
    }
  }
  const ft = floor.t;

  // Trend on the floor.
  const tr = trend(ft, fv);
  const { z, pGrowth, slope } = tr;
  const hr = { s: tr.s, nOverNStar: tr.nOverNStar };
  const sen = { lower: tr.lower, upper: tr.upper, intercept: tr.intercept };
  const line0 = sen.intercept + slope * ft[0]!;
  const resid = new Float64Array(m);
  for (let i = 0; i < m; i++) resid[i] = fv[i]! - (sen.intercept + slope * ft[i]!);
  const noise = mad(resid);
  const growth = slope * floorSpan;
  const scale = Math.max(Math.abs(line0), noise, Number.MIN_VALUE);
  const relativeGrowth = growth / scale;

  const evidence: LeakEvidence = {
    samples: n,
    spanMs,
    windowSamples: floor.windowSamples,
    floorTimesMs: ft,
    floorValues: fv,
    mkS: hr.s,
    mkZ: z,
    nOverNStar: hr.nOverNStar,
    pGrowth,
    growth,
    relativeGrowth,
    noise,
    firstThirdSlopePerHour: undefined,
    lastThirdSlopePerHour: undefined,
    upJumps: 0,
    explainingJumps: undefined,
    stepFitRatio: undefined,
    withinSlopePerHour: undefined,
    dailySlopePerHour: daily && daily.slopePerMs * HOUR_MS,
    dailyAmplitude: daily?.amplitude,
    sawtoothDrops: floor.drops,
    noisePhi: floor.phi,
  };
  const slopePerHour = slope * HOUR_MS;
  const slopeInterval: [number, number] = [sen.lower * HOUR_MS, sen.upper * HOUR_MS];
  const base = { slopePerHour, slopeInterval, evidence };
  const quietShape: LeakShape = floor.sawtooth ? 'sawtooth' : daily?.adjusted ? 'daily' : 'flat';

  if (!(slope > 0) || pGrowth >= P_WATCH) {
    const falling = slope < 0 && normalSf(-z) < P_LEAK;
    reasons.push(
      falling
        ? `floor falls ${fmt(-slopePerHour)}/h`
        : `no significant growth of the floor (p = ${fmt(pGrowth)}, n/n* = ${fmt(hr.nOverNStar)})`,
    );
    return {
      verdict: 'none',
      confidence: 1 - pGrowth,
      shape: falling ? 'falling' : quietShape,
      reasons,
      ...base,
    };
  }
  reasons.push(
    `floor grows ${fmt(slopePerHour)}/h [${fmt(slopeInterval[0])}, ${fmt(slopeInterval[1])}], p = ${fmt(pGrowth)} after autocorrelation correction (n/n* = ${fmt(hr.nOverNStar)})`,
  );

  // Only series that grow pay for the shape analysis (most of a fleet does not grow).
  const third = Math.floor(m / 3);
  const first = thirdSlope(ft, fv, 0, third);
  const last = thirdSlope(ft, fv, m - third, m);
  const steps = stepAnalysis(fv, ft, slope, sen.intercept);
  evidence.firstThirdSlopePerHour = first && first.slope * HOUR_MS;
  evidence.lastThirdSlopePerHour = last && last.slope * HOUR_MS;
  evidence.upJumps = steps.upJumps;
  evidence.explainingJumps = steps.explainingJumps;
  evidence.stepFitRatio = steps.fitRatio;
  evidence.withinSlopePerHour = steps.withinSlope * HOUR_MS;
  const growthShape: LeakShape = floor.sawtooth
    ? 'sawtooth'
    : steps.upJumps >= STEPWISE_MIN_JUMPS &&
        (steps.explainingJumps ?? 0) > MAX_EXPLAINING_JUMPS &&
        steps.fitRatio <= STEP_FIT_RATIO
      ? 'stepwise'
      : 'steady';

  // Vetoes: each names the innocent explanation it found.
  const vetoed = (shape: LeakShape, why: string): LeakVerdict => {
    reasons.push(why);
    return { verdict: 'none', confidence: Math.min(0.5, (1 - pGrowth) / 2), shape, reasons, ...base };
  };
  if (first && last && first.slope > 0 && last.upper < SLOWDOWN_RATIO * first.slope) {
    return vetoed(
      'plateau',
      `growth is levelling off: last third ${fmt(last.slope * HOUR_MS)}/h (at most ${fmt(last.upper * HOUR_MS)}) vs first third ${fmt(first.slope * HOUR_MS)}/h`,
    );
  }
  if (
    steps.explainingJumps !== undefined &&
    steps.explainingJumps <= MAX_EXPLAINING_JUMPS &&
    steps.fitRatio <= STEP_FIT_RATIO &&
    steps.withinSlope <= STEP_WITHIN_SHARE * slope
  ) {
    const at =
      steps.largestJumpAt !== undefined
        ? ` (largest at ${new Date(ft[steps.largestJumpAt]!).toISOString()})`
        : '';
    return vetoed(
      'step',
      `growth is ${steps.explainingJumps} jump${steps.explainingJumps > 1 ? 's' : ''}${at}, flat between them (${fmt(steps.withinSlope * HOUR_MS)}/h within)`,
    );
  }
  if (daily && !(daily.slopePerMs > DAILY_SLOPE_RATIO * slope)) {
    return vetoed(
      'daily',
      `growth is the daily cycle: day-over-day only ${fmt(daily.slopePerMs * HOUR_MS)}/h`,
    );
  }

  let confidence = 1 - pGrowth;
  const concerns: string[] = [];
  if (first && last && first.slope > 0 && last.slope < SLOWDOWN_RATIO * first.slope) {
    concerns.push(
      `growth may be slowing (last third ${fmt(last.slope * HOUR_MS)}/h vs first ${fmt(first.slope * HOUR_MS)}/h)`,
    );
    confidence *= 0.7;
  }
  const bigEnough = growth >= MIN_GROWTH_NOISE * noise && relativeGrowth >= MIN_RELATIVE_GROWTH;
  if (!bigEnough) {
    concerns.push(
      `growth of ${fmt(growth)} is small (${fmt(relativeGrowth * 100)} % of the level, ${fmt(noise > 0 ? growth / noise : Infinity)} σ of the noise)`,
    );
    confidence *= 0.5;
  }
  reasons.push(...concerns);
  if (growth < MIN_WATCH_GROWTH_NOISE * noise) {
    return { verdict: 'none', confidence, shape: quietShape, reasons, ...base };
  }
  const nEff = (n * (1 - floor.phi)) / (1 + floor.phi);
  if (nEff < MIN_EFFECTIVE_SAMPLES) {
    reasons.push(
      `only ${fmt(nEff)} effectively independent samples (noise φ = ${fmt(floor.phi)}): too few to prove a leak`,
    );
  }
  const proven = pGrowth < P_LEAK && sen.lower > 0 && bigEnough && nEff >= MIN_EFFECTIVE_SAMPLES;
  const verdict: LeakVerdict['verdict'] = proven ? 'leak' : 'watch';
  if (growthShape === 'stepwise') reasons.push(`grows in ${steps.upJumps} steps`);

  const out: LeakVerdict = { verdict, confidence, shape: growthShape, reasons, ...base };
  if (typeof opts.limit === 'number') {
    const tEnd = t[n - 1]!;
    const peak = sen.intercept + slope * tEnd + floor.headroom;
    const room = opts.limit - peak;
    if (room <= 0) {
      out.exhaustsAtMs = tEnd;
      out.exhaustsRangeMs = [tEnd, tEnd];
      reasons.push(`peaks already at the limit ${fmt(opts.limit)}`);
    } else {
      out.exhaustsAtMs = tEnd + room / slope;
      out.exhaustsRangeMs = [tEnd + room / sen.upper, sen.lower > 0 ? tEnd + room / sen.lower : Infinity];
      reasons.push(`reaches the limit ${fmt(opts.limit)} in ${fmt(room / slope / HOUR_MS)} h`);
    }
  }
  return out;
}
