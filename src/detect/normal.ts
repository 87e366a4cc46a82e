/**
 * The standard normal distribution: CDF, upper tail and quantile, in plain double precision.
 *
 * normalCdf follows Hart (1968) algorithm 5666 as published by West, "Better approximations to
 * cumulative normal functions" (Wilmott, 2005): absolute error below 1e-14, and it computes the tail
 * directly, so tiny p-values (|z| up to 37) keep their relative precision instead of rounding to 0.
 * normalQuantile is Acklam's rational approximation (relative error 1.15e-9) polished by one Halley
 * step against normalCdf, which brings it to ~1e-15.
 */

/** P(Z > |x|) for x ≥ 0, computed without cancellation. */
function upperTailAbs(xAbs: number): number {
  if (xAbs > 37) return 0;
  const e = Math.exp((-xAbs * xAbs) / 2);
  if (xAbs < 7.07106781186547) {
    let num = 3.52624965998911e-2 * xAbs + 0.700383064443688;
    num = num * xAbs + 6.37396220353165;
    num = num * xAbs + 33.912866078383;
    num = num * xAbs + 112.079291497871;
    num = num * xAbs + 221.213596169931;
    num = num * xAbs + 220.206867912376;
    let den = 8.83883476483184e-2 * xAbs + 1.75566716318264;
    den = den * xAbs + 16.064177579207;
    den = den * xAbs + 86.7807322029461;
    den = den * xAbs + 296.564248779674;
    den = den * xAbs + 637.333633378831;
    den = den * xAbs + 793.826512519948;
    den = den * xAbs + 440.413735824752;
    return (e * num) / den;
  }
  let b = xAbs + 0.65;
  b = xAbs + 4 / b;
  b = xAbs + 3 / b;
  b = xAbs + 2 / b;
  b = xAbs + 1 / b;
  return e / b / 2.506628274631;
}

/** Φ(x) = P(Z ≤ x). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const t = upperTailAbs(Math.abs(x));
  return x > 0 ? 1 - t : t;
}

/** 1 − Φ(x) = P(Z > x), precise in the far upper tail. */
export function normalSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const t = upperTailAbs(Math.abs(x));
  return x > 0 ? t : 1 - t;
}

/** Two-sided p-value of a standard normal statistic: 2·P(Z > |z|). */
export function twoSidedP(z: number): number {
  return Math.min(1, 2 * upperTailAbs(Math.abs(z)));
}

const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Φ⁻¹(p) for 0 < p < 1; ±Infinity at 0 and 1, NaN outside. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const [a0, a1, a2, a3, a4, a5] = A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = D as [number, number, number, number];
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
      (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  // One Halley step; in the lower half work on Φ, in the upper half on the tail, to avoid cancellation.
  const err = p < 0.5 ? normalCdf(x) - p : 1 - p - normalSf(x);
  const u = err * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
