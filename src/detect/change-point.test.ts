import { describe, expect, it } from 'vitest';
import {
  cusum,
  firstPersistentUpShift,
  pelt,
  penaltyValue,
  robustSigma,
  upwardShifts,
} from './change-point.js';
import { mulberry32, normalGenerator } from './random.js';

// NAG Library example data for the change-point routines (g13ndfe.d, also used by g13nac/g13naf,
// nag_tsa_cp_pelt): 100 values, normal mean change, σ = 1 (PARAM(1)), β = 4.6, minimum segment 2.
const NAG_Y = [
  0.0, 0.78, -0.02, 0.17, 0.04, -1.23, 0.24, 1.7, 0.77, 0.06, 0.67, 0.94, 1.99, 2.64, 2.26, 3.72, 3.14, 2.28,
  3.78, 0.83, 2.8, 1.66, 1.93, 2.71, 2.97, 3.04, 2.29, 3.71, 1.69, 2.76, 1.96, 3.17, 1.04, 1.5, 1.12, 1.11,
  1.0, 1.84, 1.78, 2.39, 1.85, 0.62, 2.16, 0.78, 1.7, 0.63, 1.79, 1.21, 2.2, -1.34, 0.04, -0.14, 2.78, 1.83,
  0.98, 0.19, 0.57, -1.41, 2.05, 1.17, 0.44, 2.32, 0.67, 0.73, 1.17, -0.34, 2.95, 1.08, 2.16, 2.27, -0.14,
  -0.24, 0.27, 1.71, -0.04, -1.03, -0.12, -0.67, 1.15, -1.1, -1.37, 0.59, 0.44, 0.63, -0.06, -0.62, 0.39,
  -2.63, -1.63, -0.42, -0.73, 0.85, 0.26, 0.48, -0.26, -1.77, -1.53, -1.39, 1.68, 0.43,
];

// Montgomery, Introduction to Statistical Quality Control, Example 9.1 / Table 9.2: 20 samples from
// N(10, 1) then 10 after the mean moved to 11, tabular CUSUM with K = 0.5, H = 5.
const MONTGOMERY = [
  9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.2, 10.34, 9.03, 11.47, 10.51, 9.4, 10.08, 9.37, 10.62,
  10.31, 8.52, 10.84, 10.9, 9.33, 12.29, 11.5, 10.6, 11.08, 10.38, 11.62, 11.31, 10.52,
];
// C+ as Montgomery tabulates it for periods 1–29 (two decimals).
const MONTGOMERY_UPPER = [
  0, 0, 0, 1.16, 2.82, 2.5, 0.04, 1.0, 0, 0, 0, 0.97, 0.98, 0, 0, 0, 0.12, 0, 0, 0.34, 0.74, 0, 1.79, 2.79,
  2.89, 3.47, 3.35, 4.47, 5.28,
];

function stepWithNoise(
  n: number,
  at: number,
  before: number,
  after: number,
  sigma: number,
  seed: number,
): Float64Array {
  const z = normalGenerator(mulberry32(seed));
  return Float64Array.from({ length: n }, (_, i) => (i < at ? before : after) + sigma * z());
}

describe('pelt', () => {
  it('reproduces the NAG g13nac example', () => {
    // NAG CL Interface g13nac example results: change points 12, 32, 49, 52, 70 (end 100), segment means
    // 0.34, 2.57, 1.45, -0.48, 1.20, -0.23.
    const r = pelt(NAG_Y, { penalty: 4.6, minSegmentLength: 2, sigma: 1 });
    expect(r.changes).toEqual([12, 32, 49, 52, 70]);
    const means = r.segments.map((s) => Number(s.mean.toFixed(2)));
    expect(means).toEqual([0.34, 2.57, 1.45, -0.48, 1.2, -0.23]);
  });

  it('penalties follow the changepoint package for a change in mean', () => {
    expect(penaltyValue('BIC', 100)).toBeCloseTo(2 * Math.log(100), 12);
    expect(penaltyValue('MBIC', 100)).toBeCloseTo(3 * Math.log(100), 12);
    expect(penaltyValue('AIC', 100)).toBe(4);
    expect(penaltyValue(7.5, 100)).toBe(7.5);
  });

  it('finds nothing in noise and keeps raw byte-scale values precise', () => {
    const z = normalGenerator(mulberry32(5));
    const noise = Float64Array.from({ length: 500 }, () => 4e9 + 1e6 * z());
    expect(pelt(noise).changes).toEqual([]);
    const step = stepWithNoise(500, 200, 4e9, 4e9 + 1e7, 1e6, 6);
    expect(pelt(step).changes).toEqual([200]);
  });

  it('splits a noise-free staircase at every step', () => {
    const stairs = Array.from({ length: 60 }, (_, i) => 10 + Math.floor(i / 20));
    expect(pelt(stairs).changes).toEqual([20, 40]);
    expect(pelt([5, 5, 5]).changes).toEqual([]);
    expect(pelt([]).segments).toEqual([]);
  });

  it('respects the minimum segment length', () => {
    const spike = [0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0];
    expect(pelt(spike, { sigma: 1 }).changes).toEqual([5, 6]);
    for (const c of pelt(spike, { sigma: 1, minSegmentLength: 3 }).segments)
      expect(c.end - c.start).toBeGreaterThanOrEqual(3);
  });

  it('robustSigma ignores a level shift', () => {
    const s = stepWithNoise(1000, 500, 0, 100, 2, 9);
    expect(robustSigma(s)).toBeGreaterThan(1.7);
    expect(robustSigma(s)).toBeLessThan(2.3);
    expect(robustSigma([1])).toBe(0);
  });
});

describe('cusum', () => {
  it('reproduces Montgomery Table 9.2 and dates the shift after period 22', () => {
    const r = cusum(MONTGOMERY, { target: 10, sigma: 1, k: 0.5, h: 5 });
    MONTGOMERY_UPPER.forEach((want, i) => expect(r.upper[i]).toBeCloseTo(want, 2));
    // first signal at period 29 (index 28) with N+ = 7: the shift began at period 23 (index 22)
    expect(r.alarmIndex).toBe(28);
    expect(r.direction).toBe('up');
    expect(r.onsetIndex).toBe(22);
  });

  it('signals downward shifts and stays quiet without one', () => {
    const down = cusum([10, 10, 10, 7, 7, 7, 7], { target: 10, sigma: 1 });
    expect(down.direction).toBe('down');
    expect(down.onsetIndex).toBe(3);
    expect(cusum([10, 10.2, 9.9, 10.1], { target: 10, sigma: 1 }).alarmIndex).toBeUndefined();
  });
});

describe('level shifts', () => {
  it('dates the onset of a clean step within two samples', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const at = 300 + seed * 17;
      const v = stepWithNoise(1200, at, 1, 92, 4, seed);
      const s = firstPersistentUpShift(v);
      expect(s).toBeDefined();
      expect(Math.abs(s!.onsetIndex - at)).toBeLessThanOrEqual(2);
      expect(s!.before).toBeCloseTo(1, 0);
      expect(s!.after).toBeCloseTo(92, 0);
      expect(s!.persistent).toBe(true);
    }
  });

  it('a spike that comes back is not persistent', () => {
    const v = stepWithNoise(600, 0, 5, 5, 1, 3);
    for (let i = 200; i < 230; i++) v[i]! += 60;
    const shifts = upwardShifts(v);
    expect(shifts).toHaveLength(1);
    expect(shifts[0]!.persistent).toBe(false);
    expect(Math.abs(shifts[0]!.onsetIndex - 200)).toBeLessThanOrEqual(2);
    expect(firstPersistentUpShift(v)).toBeUndefined();
  });

  it('ignores shifts smaller than minShiftSigma', () => {
    const v = stepWithNoise(800, 400, 0, 1.5, 1, 4);
    expect(firstPersistentUpShift(v, { minShiftSigma: 3 })).toBeUndefined();
    expect(firstPersistentUpShift(v, { minShiftSigma: 1 })).toBeDefined();
  });
});

describe('peltLong', () => {
  it('keeps sample precision on long series at a fraction of the cost', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const at = 2000 + seed * 311;
      const v = stepWithNoise(7200, at, 1, 92, 4, 100 + seed);
      const t0 = performance.now();
      const s = firstPersistentUpShift(v);
      const ms = performance.now() - t0;
      expect(Math.abs(s!.onsetIndex - at)).toBeLessThanOrEqual(2);
      expect(s!.after - s!.before).toBeCloseTo(91, 0);
      expect(ms).toBeLessThan(200);
    }
    const quiet = stepWithNoise(7200, 0, 3, 3, 1, 77);
    expect(upwardShifts(quiet)).toEqual([]);
  });
});
