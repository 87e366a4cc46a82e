import { describe, expect, it } from 'vitest';
import { mulberry32, normalGenerator } from './random.js';
import { pairwiseSlopes } from './robust.js';
import { senFromSlopes, senIntervalAfterMedian, senMedian, senSlope } from './theil-sen.js';

// datasets::Nile (R), as in mann-kendall.test.ts (not imported: importing a test file re-runs its tests).
const NILE = [
  1120, 1160, 963, 1210, 1160, 1160, 813, 1230, 1370, 1140, 995, 935, 1110, 994, 1020, 960, 1180, 799, 958,
  1140, 1100, 1210, 1150, 1250, 1260, 1220, 1030, 1100, 774, 840, 874, 694, 940, 833, 701, 916, 692, 1020,
  1050, 969, 831, 726, 456, 824, 702, 1120, 1100, 832, 764, 821, 768, 845, 864, 862, 698, 845, 744, 796, 1040,
  759, 781, 865, 845, 944, 984, 897, 822, 1010, 771, 676, 649, 846, 812, 742, 801, 1040, 860, 874, 848, 890,
  744, 749, 838, 1050, 918, 986, 797, 923, 975, 815, 1020, 906, 901, 1170, 912, 746, 919, 718, 714, 740,
];
const T = NILE.map((_, i) => i + 1);

describe('senSlope', () => {
  it('matches scipy.stats.theilslopes on the Nile (95 % and 90 %)', () => {
    // scipy 1.17.1 on this machine: theilslopes(Nile, arange(1, 101), 0.95) → slope -2.6,
    // low -3.627906976744186, high -1.4285714285714286; with 0.90 → -3.4285714285714284, -1.6590909090909092.
    // Same ranks as trend::sens.slope: round((N − C)/2) and round((N + C)/2) + 1.
    const r = senSlope(NILE, T);
    expect(r.slope).toBe(-2.6);
    expect(r.lower).toBeCloseTo(-3.627906976744186, 12);
    expect(r.upper).toBeCloseTo(-1.4285714285714286, 12);
    expect(r.pairs).toBe(4950);
    const r90 = senSlope(NILE, T, { confidence: 0.9 });
    expect(r90.lower).toBeCloseTo(-3.4285714285714284, 12);
    expect(r90.upper).toBeCloseTo(-1.6590909090909092, 12);
  });

  it('intercept is the median of y − slope·t', () => {
    const r = senSlope([3, 5, 7, 9, 100], [0, 1, 2, 3, 4]);
    expect(r.slope).toBe(2);
    expect(r.intercept).toBe(3);
  });

  it('a wider variance (autocorrelation) widens the interval', () => {
    const plain = senSlope(NILE, T);
    const wide = senSlope(NILE, T, { varS: 241565.35691662686 });
    expect(wide.lower).toBeLessThan(plain.lower);
    expect(wide.upper).toBeGreaterThan(plain.upper);
    expect(wide.slope).toBe(plain.slope);
  });

  it('subsamples pairs above maxExactPoints and stays close to the exact answer', () => {
    const z = normalGenerator(mulberry32(3));
    const n = 2500;
    const t = Array.from({ length: n }, (_, i) => i * 60_000);
    const y = t.map((ti) => 1e9 + ti * 1e-3 + 5e3 * z());
    const exact = senSlope(y, t, { maxExactPoints: 10_000 });
    const approx = senSlope(y, t);
    expect(exact.sampled).toBe(false);
    expect(approx.sampled).toBe(true);
    const width = exact.upper - exact.lower;
    expect(Math.abs(approx.slope - exact.slope)).toBeLessThan(width / 4);
    expect(Math.abs(approx.lower - exact.lower)).toBeLessThan(width / 4);
    expect(Math.abs(approx.upper - exact.upper)).toBeLessThan(width / 4);
    // reproducible: the same seed gives the same answer
    expect(senSlope(y, t).slope).toBe(approx.slope);
  });

  it('rejects mismatched lengths and returns NaN without pairs', () => {
    expect(() => senSlope([1, 2], [1])).toThrow(RangeError);
    expect(senSlope([1]).slope).toBeNaN();
    expect(senSlope([1, 2], [5, 5]).slope).toBeNaN();
  });
});

describe('senIntervalAfterMedian', () => {
  it('gives exactly what senFromSlopes gives, on odd and even counts, with ties and wide intervals', () => {
    const rng = mulberry32(7);
    for (let trial = 0; trial < 300; trial++) {
      const n = 2 + Math.floor(rng() * 40);
      const y = Array.from({ length: n }, () => Math.round(rng() * 6));
      const t = Array.from({ length: n }, (_, i) => i + (rng() < 0.2 ? 0 : rng()));
      t.sort((a, b) => a - b);
      const varS = [0, 1, 50, 1e4, 1e9][trial % 5]!;
      const want = senFromSlopes(pairwiseSlopes(y, t), n, varS, 0.9);
      const slopes = pairwiseSlopes(y, t);
      const med = senMedian(slopes);
      const got = senIntervalAfterMedian(slopes, varS, 0.9);
      expect(got).toEqual(want);
      if (slopes.length > 0) expect(med).toBe(want.slope);
    }
    expect(senIntervalAfterMedian(new Float64Array(0), 1).slope).toBeNaN();
  });
});
