/**
 * Theil–Sen slope (Sen 1968): the median of all pairwise slopes, with the distribution-free confidence
 * interval of Sen (1968) as Gilbert (1987, §16.5) and R's `trend::sens.slope` compute it:
 *
 *   C = z_{1−α/2} · √Var(S)      N = number of pairwise slopes, sorted ascending
 *   lower = slope at rank round((N − C)/2),  upper = slope at rank round((N + C)/2) + 1   (1-based)
 *
 * Var(S) is the Mann–Kendall variance with ties corrected (in y, and in t as Sen's eq. 2.6 and
 * scipy.stats.theilslopes do). Pass `varS` to widen the interval for autocorrelation, e.g. the Hamed–Rao
 * corrected variance: that is how the leak detector keeps its interval honest on minute-by-minute memory.
 *
 * The intercept is median(y_i − slope·t_i), so the line passes through the middle of the residuals (the
 * choice of `trend::sens.slope`, not Conover's median(y) − slope·median(t)).
 *
 * Cost: exact up to `maxExactPoints` (default 2,000 points ≈ 2 M slopes, 16 MB, ~150 ms). Above that the
 * slopes of `samplePairs` random pairs (seeded, so the answer is reproducible) stand in for all of them and
 * the interval ranks become quantiles of that sample: with a million pairs the quantile error (~5e-4) is an
 * order of magnitude below the interval's own width at those n. The leak detector never gets there: it
 * works on ≈ 100 windowed points.
 */
import { mulberry32 } from './random.js';
import { normalQuantile } from './normal.js';
import {
  median,
  orderStatisticsInPlace,
  pairwiseSlopes,
  quantile,
  selectRange,
  tieGroups,
  type Series,
} from './robust.js';

export interface SenSlopeOptions {
  /** Confidence level of the interval; default 0.95. */
  confidence?: number;
  /** Var(S) to use for the interval instead of the ties-corrected independent-data variance. */
  varS?: number;
  maxExactPoints?: number;
  samplePairs?: number;
  seed?: number;
}

export interface SenSlope {
  /** Per unit of t (per index step when t is omitted). */
  slope: number;
  lower: number;
  upper: number;
  intercept: number;
  confidence: number;
  n: number;
  /** Number of pairwise slopes the estimate rests on. */
  pairs: number;
  /** True when the pairs were subsampled (n > maxExactPoints). */
  sampled: boolean;
}

/** Round half to even, as R's `round` and numpy do: the interval ranks must match theirs exactly. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function sampledSlopes(y: Series, t: Series | undefined, count: number, seed: number): Float64Array {
  const n = y.length;
  const rng = mulberry32(seed);
  const out = new Float64Array(count);
  let k = 0;
  let attempts = 0;
  while (k < count && attempts < count * 4) {
    attempts++;
    const i = Math.floor(rng() * n);
    const j = Math.floor(rng() * n);
    if (i === j) continue;
    const [a, b] = i < j ? [i, j] : [j, i];
    const dt = (t === undefined ? b : t[b]!) - (t === undefined ? a : t[a]!);
    if (dt === 0) continue;
    out[k++] = (y[b]! - y[a]!) / dt;
  }
  return out.subarray(0, k);
}

export function senSlope(y: Series, t?: Series, opts: SenSlopeOptions = {}): SenSlope {
  const n = y.length;
  if (t !== undefined && t.length !== n) throw new RangeError(`senSlope: ${n} values but ${t.length} times`);
  const maxExact = opts.maxExactPoints ?? 2000;
  const sampled = n > maxExact;
  const slopes = sampled
    ? sampledSlopes(y, t, opts.samplePairs ?? 1_000_000, opts.seed ?? 1)
    : pairwiseSlopes(y, t);
  let varS = opts.varS;
  if (varS === undefined) {
    let v = n * (n - 1) * (2 * n + 5);
    for (const g of tieGroups(y)) v -= g * (g - 1) * (2 * g + 5);
    if (t !== undefined) for (const g of tieGroups(t)) v -= g * (g - 1) * (2 * g + 5);
    varS = v / 18;
  }
  const est = senFromSlopes(slopes, n, varS, opts.confidence ?? 0.95, sampled);
  return { ...est, intercept: senIntercept(y, t, est.slope), n, pairs: slopes.length, sampled };
}

/** median(y_i − slope·t_i). */
export function senIntercept(y: Series, t: Series | undefined, slope: number): number {
  const n = y.length;
  const resid = new Float64Array(n);
  for (let i = 0; i < n; i++) resid[i] = y[i]! - slope * (t === undefined ? i : t[i]!);
  return median(resid);
}

/**
 * Slope and interval from an already computed set of pairwise slopes (rearranged in place), for callers
 * that need the slope before they know Var(S) — the leak detector detrends with the slope, derives the
 * autocorrelation-corrected variance from that, and only then asks for the interval: `senMedian` first,
 * then this with the corrected variance, on the same array.
 */
export function senFromSlopes(
  slopes: Float64Array,
  n: number,
  varS: number,
  confidence = 0.95,
  sampled = false,
): { slope: number; lower: number; upper: number; confidence: number } {
  const m = slopes.length;
  if (m === 0) return { slope: NaN, lower: NaN, upper: NaN, confidence };
  const c = normalQuantile(1 - (1 - confidence) / 2) * Math.sqrt(Math.max(0, varS));
  // Ranks are defined on the full set of N pairwise slopes; with sampling they become fractions of it.
  const nAll = sampled ? (n * (n - 1)) / 2 : m;
  const rankLo = Math.min(nAll, Math.max(1, roundHalfEven((nAll - c) / 2)));
  const rankUp = Math.min(nAll, Math.max(1, roundHalfEven((nAll + c) / 2) + 1));
  if (sampled) {
    return {
      slope: median(slopes),
      lower: quantile(slopes, (rankLo - 1) / (nAll - 1)),
      upper: quantile(slopes, (rankUp - 1) / (nAll - 1)),
      confidence,
    };
  }
  const mid = m >> 1;
  const [lo, hi, a, b] = orderStatisticsInPlace(slopes, [
    rankLo - 1,
    rankUp - 1,
    m % 2 === 1 ? mid : mid - 1,
    mid,
  ]);
  return { slope: (a! + b!) / 2, lower: lo!, upper: hi!, confidence };
}

/**
 * Median of the slopes (rearranges them in place). Leaves the array partitioned around the median
 * rank(s), which `senIntervalAfterMedian` relies on.
 */
export function senMedian(slopes: Float64Array): number {
  const m = slopes.length;
  if (m === 0) return NaN;
  const mid = m >> 1;
  if (m % 2 === 1) {
    const a = selectRange(slopes, 0, m - 1, mid);
    return (a + a) / 2;
  }
  const b = selectRange(slopes, 0, m - 1, mid);
  // everything left of mid is ≤ b: the (mid − 1)-th is their maximum, moved to its sorted place
  let at = 0;
  for (let i = 1; i < mid; i++) if (slopes[i]! > slopes[at]!) at = i;
  const a = slopes[at]!;
  slopes[at] = slopes[mid - 1]!;
  slopes[mid - 1] = a;
  return (a + b) / 2;
}

/**
 * `senFromSlopes` for slopes that `senMedian` has just partitioned: the median ranks already sit in
 * place with everything smaller to their left and larger to their right, so each interval end is
 * selected within one side only instead of the whole array again. Same order statistics, same result.
 */
export function senIntervalAfterMedian(
  slopes: Float64Array,
  varS: number,
  confidence = 0.95,
): { slope: number; lower: number; upper: number; confidence: number } {
  const m = slopes.length;
  if (m === 0) return { slope: NaN, lower: NaN, upper: NaN, confidence };
  const c = normalQuantile(1 - (1 - confidence) / 2) * Math.sqrt(Math.max(0, varS));
  const rankLo = Math.min(m, Math.max(1, roundHalfEven((m - c) / 2)));
  const rankUp = Math.min(m, Math.max(1, roundHalfEven((m + c) / 2) + 1));
  const mid = m >> 1;
  const k1 = m % 2 === 1 ? mid : mid - 1;
  const pick = (k: number): number =>
    k === k1 || k === mid
      ? slopes[k]!
      : k < k1
        ? selectRange(slopes, 0, k1 - 1, k)
        : selectRange(slopes, mid + 1, m - 1, k);
  const lower = pick(rankLo - 1);
  const upper = pick(rankUp - 1);
  return { slope: (slopes[k1]! + slopes[mid]!) / 2, lower, upper, confidence };
}
