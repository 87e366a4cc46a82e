/**
 * The Mann–Kendall trend test (Mann 1945; Kendall 1975) and the Hamed & Rao (1998) variance
 * correction for autocorrelated data, as R's `modifiedmk::mmkh` computes it.
 *
 * Why the correction matters here: memory sampled every minute is strongly autocorrelated, which
 * inflates the plain test's S far beyond its null variance, so a plain MK calls most flat series a
 * trend. Hamed & Rao detrend with Sen's slope, take the autocorrelation of the ranks at the lags that
 * are significant at the chosen level, and scale Var(S) by n/n*.
 *
 *   S = Σ_{i<j} sign(x_j − x_i)
 *   Var(S) = [n(n−1)(2n+5) − Σ_ties t(t−1)(2t+5)] / 18
 *   Z = (S − sign(S)) / √Var(S)                       (continuity correction)
 *   n/n* = 1 + 2/(n(n−1)(n−2)) · Σ_{k significant} (n−k)(n−k−1)(n−k−2) ρ_k
 *
 * O(n²) in the number of points; the leak detector feeds it windowed floors (≈ 100 points).
 */
import { normalQuantile, twoSidedP } from './normal.js';
import { acf, averageRanks, median, pairwiseSlopes, tieGroups, type Series } from './robust.js';

export interface MannKendall {
  n: number;
  /** Kendall's S: concordant minus discordant pairs in time order. */
  s: number;
  /** Var(S) under independence, corrected for ties. */
  varS: number;
  /** Continuity-corrected standard normal statistic. */
  z: number;
  /** Two-sided p-value of z. */
  pValue: number;
  /** S / (n(n−1)/2), as modifiedmk reports it. */
  tau: number;
}

export function mannKendallS(values: Series): number {
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n - 1; i++) {
    const xi = values[i]!;
    for (let j = i + 1; j < n; j++) {
      const d = values[j]! - xi;
      s += d > 0 ? 1 : d < 0 ? -1 : 0;
    }
  }
  return s;
}

/** Var(S) with the ties correction. */
export function mannKendallVariance(values: Series): number {
  const n = values.length;
  let v = n * (n - 1) * (2 * n + 5);
  for (const t of tieGroups(values)) v -= t * (t - 1) * (2 * t + 5);
  return v / 18;
}

/** Continuity-corrected Z from S and its variance; 0 when S is 0 or the variance is not positive. */
export function mannKendallZ(s: number, varS: number): number {
  if (!(varS > 0) || s === 0) return 0;
  return (s > 0 ? s - 1 : s + 1) / Math.sqrt(varS);
}

export function mannKendall(values: Series): MannKendall {
  const n = values.length;
  const s = mannKendallS(values);
  const varS = mannKendallVariance(values);
  const z = mannKendallZ(s, varS);
  return { n, s, varS, z, pValue: twoSidedP(z), tau: n > 1 ? s / ((n * (n - 1)) / 2) : 0 };
}

export interface HamedRaoOptions {
  /** Level at which an autocorrelation lag counts as significant (modifiedmk's `ci`); default 0.95. */
  confidence?: number;
  /** Consider lags 1..maxLag only (pymannkendall's `lag`); default n − 1, every lag. */
  maxLag?: number;
  /** Detrend with this slope per index step instead of estimating Sen's slope (e.g. 0 for residuals). */
  senSlope?: number;
}

export interface HamedRaoMannKendall extends MannKendall {
  /** Sen's slope per index step, used to detrend before the autocorrelation. */
  senSlope: number;
  /** The variance inflation factor n/n*; below 1 means negative autocorrelation. */
  nOverNStar: number;
  /** Var(S)·n/n*; NaN when the factor is not positive (the correction broke down). */
  varSCorrected: number;
  zCorrected: number;
  pCorrected: number;
}

export function mannKendallHamedRao(values: Series, opts: HamedRaoOptions = {}): HamedRaoMannKendall {
  const base = mannKendall(values);
  const n = base.n;
  const slope = opts.senSlope ?? (n >= 2 ? median(pairwiseSlopes(values)) : 0);
  if (n < 3)
    return {
      ...base,
      senSlope: slope,
      nOverNStar: 1,
      varSCorrected: base.varS,
      zCorrected: base.z,
      pCorrected: base.pValue,
    };
  // modifiedmk detrends with t = 1..n; the offset does not change ranks
  const detrended = new Float64Array(n);
  for (let i = 0; i < n; i++) detrended[i] = values[i]! - slope * (i + 1);
  const maxLag = Math.min(n - 1, opts.maxLag ?? n - 1);
  const rho = acf(averageRanks(detrended), maxLag);
  const sig = normalQuantile((1 + (opts.confidence ?? 0.95)) / 2) / Math.sqrt(n);
  let ess = 0;
  for (let k = 1; k <= maxLag; k++) {
    const r = rho[k - 1]!;
    if (r > sig || r < -sig) ess += (n - k) * (n - k - 1) * (n - k - 2) * r;
  }
  const nOverNStar = 1 + (2 / (n * (n - 1) * (n - 2))) * ess;
  const varSCorrected = nOverNStar > 0 ? base.varS * nOverNStar : NaN;
  const zCorrected = Number.isNaN(varSCorrected) ? NaN : mannKendallZ(base.s, varSCorrected);
  return {
    ...base,
    senSlope: slope,
    nOverNStar,
    varSCorrected,
    zCorrected,
    pCorrected: Number.isNaN(zCorrected) ? NaN : twoSidedP(zCorrected),
  };
}
