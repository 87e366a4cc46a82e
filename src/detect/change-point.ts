/**
 * Change points in the mean of a series.
 *
 * - `pelt`: PELT (Killick, Fearnhead & Eckley 2012, JASA 107:1590), the exact minimiser of
 *   Σ_segments [C(segment) + β] with C the normal change-in-mean cost Σ(y − ȳ)²/σ² (twice the negative
 *   log-likelihood with σ known, as `changepoint::cpt.mean(test.stat = "Normal")` and NAG g13nac use).
 *   The pruning keeps it near-linear when changes are spread out. σ defaults to a robust estimate from
 *   lagged differences (a level shift barely moves the MAD of differences, unlike the series' own sd).
 *   Penalties follow the changepoint package for a change in mean: BIC = 2 ln n, MBIC = 3 ln n, AIC = 4.
 * - `cusum`: the tabular CUSUM of Page (1954) as Montgomery, Introduction to Statistical Quality Control
 *   §9.1, tabulates it, with k and h in σ units and the onset read from the run counter N.
 * - `upwardShifts` / `firstPersistentUpShift`: what the `spikes` command needs — onset, level before and
 *   after, and whether the new level held.
 *
 * Indices are 0-based; a change at index i means a new segment starts at sample i.
 */
import { mad, type Series } from './robust.js';

export type Penalty = 'BIC' | 'MBIC' | 'AIC' | number;

export interface PeltOptions {
  /** Default 'MBIC' (3 ln n): conservative, few spurious changes on noise. */
  penalty?: Penalty;
  /** Minimum samples per segment; default 1. */
  minSegmentLength?: number;
  /** Noise σ of the data; default robustSigma(values). */
  sigma?: number;
}

export interface Segment {
  start: number;
  /** Exclusive. */
  end: number;
  mean: number;
}

export interface ChangePoints {
  /** First index of every segment but the first. */
  changes: number[];
  segments: Segment[];
  /** β used, in cost units (σ² scaled). */
  penalty: number;
  sigma: number;
}

export function penaltyValue(penalty: Penalty, n: number): number {
  if (typeof penalty === 'number') return penalty;
  const ln = Math.log(Math.max(n, 2));
  return penalty === 'BIC' ? 2 * ln : penalty === 'MBIC' ? 3 * ln : 4;
}

/**
 * σ from the MAD of lag-`lag` differences divided by √2: robust to a few level shifts. A larger lag
 * resists positive autocorrelation (which shrinks lag-1 differences) at the price of more shifts
 * straddled. Returns 0 for a series with no variation.
 */
export function robustSigma(values: Series, lag = 1): number {
  const n = values.length;
  if (n <= lag) return 0;
  const d = new Float64Array(n - lag);
  for (let i = lag; i < n; i++) d[i - lag] = values[i]! - values[i - lag]!;
  return mad(d) / Math.SQRT2;
}

export function pelt(values: Series, opts: PeltOptions = {}): ChangePoints {
  const n = values.length;
  const minSeg = Math.max(1, Math.floor(opts.minSegmentLength ?? 1));
  let sigma = opts.sigma ?? robustSigma(values);
  let lo = Infinity;
  let hi = -Infinity;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    mean += v;
  }
  mean /= Math.max(1, n);
  const beta = penaltyValue(opts.penalty ?? 'MBIC', n);
  const one = (m: number): ChangePoints => ({
    changes: [],
    segments: n ? [{ start: 0, end: n, mean: m }] : [],
    penalty: beta,
    sigma,
  });
  if (n < 2 * minSeg || hi === lo) return one(mean);
  // Noise-free data (MAD of differences 0, e.g. a staircase of counts): any change is certain; a σ far
  // below the smallest step keeps the cost finite while making every real change worth its penalty.
  if (!(sigma > 0)) sigma = (hi - lo) * 1e-6;
  // Centre and scale before the prefix sums: raw byte counts squared would lose all precision.
  const s1 = new Float64Array(n + 1);
  const s2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const y = (values[i]! - mean) / sigma;
    s1[i + 1] = s1[i]! + y;
    s2[i + 1] = s2[i]! + y * y;
  }
  const f = new Float64Array(n + 1).fill(Infinity);
  const last = new Int32Array(n + 1);
  f[0] = -beta;
  let cand = new Int32Array(n + 1);
  let next = new Int32Array(n + 1);
  let nCand = 1;
  cand[0] = 0;
  const vals = new Float64Array(n + 1);
  for (let t = minSeg; t <= n; t++) {
    const fresh = t - minSeg;
    if (fresh >= minSeg && Number.isFinite(f[fresh]!)) cand[nCand++] = fresh;
    let best = Infinity;
    let arg = 0;
    // The normal change-in-mean cost C(τ, t) = Σy² − (Σy)²/(t − τ) of the segment, written out: this
    // loop is most of a `spikes` scan
    const s1t = s1[t]!;
    const s2t = s2[t]!;
    for (let c = 0; c < nCand; c++) {
      const tau = cand[c]!;
      const d1 = s1t - s1[tau]!;
      const v = f[tau]! + (s2t - s2[tau]! - (d1 * d1) / (t - tau));
      vals[c] = v;
      if (v + beta < best) {
        best = v + beta;
        arg = tau;
      }
    }
    f[t] = best;
    last[t] = arg;
    // Prune (K = 0 holds for this cost): a τ that cannot beat the optimum now never will.
    let k = 0;
    for (let c = 0; c < nCand; c++) if (vals[c]! <= best) next[k++] = cand[c]!;
    [cand, next] = [next, cand];
    nCand = k;
  }
  const changes: number[] = [];
  for (let t = n; t > 0;) {
    const tau = last[t]!;
    if (tau > 0) changes.push(tau);
    t = tau;
  }
  changes.reverse();
  const bounds = [0, ...changes, n];
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const a = bounds[i]!;
    const b = bounds[i + 1]!;
    let sum = 0;
    for (let j = a; j < b; j++) sum += values[j]!;
    segments.push({ start: a, end: b, mean: sum / (b - a) });
  }
  return { changes, segments, penalty: beta, sigma };
}

export interface CusumOptions {
  /** In-control mean μ0. */
  target: number;
  sigma: number;
  /** Reference value in σ units (half the shift to detect); default 0.5. */
  k?: number;
  /** Decision interval in σ units; default 5 (in-control ARL ≈ 465 for k = 0.5). */
  h?: number;
}

export interface Cusum {
  upper: Float64Array;
  lower: Float64Array;
  /** First index where either sum exceeds h·σ. */
  alarmIndex: number | undefined;
  direction: 'up' | 'down' | undefined;
  /** First sample of the shift: alarm index − N + 1, N being the run of non-zero sums at the alarm. */
  onsetIndex: number | undefined;
}

export function cusum(values: Series, opts: CusumOptions): Cusum {
  const n = values.length;
  const kk = (opts.k ?? 0.5) * opts.sigma;
  const hh = (opts.h ?? 5) * opts.sigma;
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  let cp = 0;
  let cm = 0;
  let np = 0;
  let nm = 0;
  let alarmIndex: number | undefined;
  let direction: 'up' | 'down' | undefined;
  let onsetIndex: number | undefined;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    cp = Math.max(0, x - (opts.target + kk) + cp);
    cm = Math.max(0, opts.target - kk - x + cm);
    np = cp > 0 ? np + 1 : 0;
    nm = cm > 0 ? nm + 1 : 0;
    upper[i] = cp;
    lower[i] = cm;
    if (alarmIndex === undefined && (cp > hh || cm > hh)) {
      alarmIndex = i;
      direction = cp > hh ? 'up' : 'down';
      onsetIndex = i - (direction === 'up' ? np : nm) + 1;
    }
  }
  return { upper, lower, alarmIndex, direction, onsetIndex };
}

export interface LevelShift {
  /** First sample at the new level. */
  onsetIndex: number;
  /** Mean of the segment before the change. */
  before: number;
  /** Mean of the stretch after the change that stayed above before + persistFraction·rise. */
  after: number;
  /** (after − before) / σ. */
  sizeSigma: number;
  /** The level never fell back below before + persistFraction·(after − before) in a later segment. */
  persistent: boolean;
}

export interface ShiftOptions extends PeltOptions {
  /** Smallest rise that counts, in σ units; default 3. */
  minShiftSigma?: number;
  /** Share of the rise that later segments must keep for the shift to be persistent; default 0.5. */
  persistFraction?: number;
}

/**
 * PELT with bounded cost on long series. PELT's pruning makes it linear only when changes keep arriving;
 * on a long quiet stretch its candidate set grows and it turns quadratic (7,200 samples ≈ 26 M cost
 * evaluations). Above `COARSE_ABOVE` samples: PELT on block means (σ/√b, the same total penalty), then
 * each change is placed by the best single split of the raw samples within two blocks of it, so the
 * onset keeps sample precision.
 */
export const COARSE_ABOVE = 1000;
const COARSE_POINTS = 400;

export function peltLong(values: Series, opts: PeltOptions = {}): ChangePoints {
  const n = values.length;
  if (n <= COARSE_ABOVE) return pelt(values, opts);
  const sigma = opts.sigma ?? robustSigma(values);
  const b = Math.ceil(n / COARSE_POINTS);
  const nb = Math.floor(n / b);
  const means = new Float64Array(nb);
  for (let k = 0; k < nb; k++) {
    // the last block absorbs the remainder
    const end = k === nb - 1 ? n : (k + 1) * b;
    let sum = 0;
    for (let i = k * b; i < end; i++) sum += values[i]!;
    means[k] = sum / (end - k * b);
  }
  const coarse = pelt(means, {
    penalty: penaltyValue(opts.penalty ?? 'MBIC', n),
    minSegmentLength: Math.max(1, Math.ceil((opts.minSegmentLength ?? 1) / b)),
    sigma: sigma > 0 ? sigma / Math.sqrt(b) : undefined,
  });
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + values[i]!;
  const bounds = [0, ...coarse.changes.map((c) => c * b), n];
  const refined: number[] = [];
  for (let k = 1; k + 1 < bounds.length; k++) {
    const lo = refined.length > 0 ? refined[refined.length - 1]! : 0;
    const hi = bounds[k + 1]!;
    const c = bounds[k]!;
    let best = c;
    let bestScore = -Infinity;
    // the split of [lo, hi) with the largest between-segment sum of squares
    for (let sp = Math.max(lo + 1, c - 2 * b); sp <= Math.min(hi - 1, c + 2 * b); sp++) {
      const left = prefix[sp]! - prefix[lo]!;
      const right = prefix[hi]! - prefix[sp]!;
      const score = (left * left) / (sp - lo) + (right * right) / (hi - sp);
      if (score > bestScore) {
        bestScore = score;
        best = sp;
      }
    }
    refined.push(best);
  }
  const all = [0, ...refined, n];
  const segments: Segment[] = [];
  for (let i = 0; i + 1 < all.length; i++) {
    const a = all[i]!;
    const z = all[i + 1]!;
    segments.push({ start: a, end: z, mean: (prefix[z]! - prefix[a]!) / (z - a) });
  }
  return { changes: refined, segments, penalty: coarse.penalty, sigma };
}

/** Every upward level shift PELT finds that is at least minShiftSigma·σ, oldest first (peltLong above 1,000 samples). */
export function upwardShifts(values: Series, opts: ShiftOptions = {}): LevelShift[] {
  const cp = peltLong(values, opts);
  const minSize = opts.minShiftSigma ?? 3;
  const keep = opts.persistFraction ?? 0.5;
  const out: LevelShift[] = [];
  const segs = cp.segments;
  for (let i = 1; i < segs.length; i++) {
    const prev = segs[i - 1]!;
    const cur = segs[i]!;
    const rise = cur.mean - prev.mean;
    const sizeSigma = cp.sigma > 0 ? rise / cp.sigma : rise > 0 ? Infinity : 0;
    if (rise <= 0 || sizeSigma < minSize) continue;
    const floor = prev.mean + keep * rise;
    let persistent = true;
    for (let j = i + 1; j < segs.length; j++) if (segs[j]!.mean < floor) persistent = false;
    // The level after is the mean of the whole stretch that stayed up, not of the first segment alone:
    // on noisy data PELT may cut a long plateau into pieces whose own means wander.
    let sum = 0;
    let len = 0;
    for (let j = i; j < segs.length && segs[j]!.mean >= floor; j++) {
      sum += segs[j]!.mean * (segs[j]!.end - segs[j]!.start);
      len += segs[j]!.end - segs[j]!.start;
    }
    const after = sum / len;
    out.push({ onsetIndex: cur.start, before: prev.mean, after, sizeSigma, persistent });
  }
  return out;
}

/** The oldest upward shift whose new level held to the end of the series. */
export function firstPersistentUpShift(values: Series, opts: ShiftOptions = {}): LevelShift | undefined {
  return upwardShifts(values, opts).find((s) => s.persistent);
}
