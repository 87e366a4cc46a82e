import { describe, expect, it } from 'vitest';
import { mulberry32 } from './random.js';
import {
  acf,
  averageRanks,
  mad,
  median,
  orderStatisticsInPlace,
  pairwiseSlopes,
  quantile,
  selectInPlace,
  sortInPlace,
  tieGroups,
} from './robust.js';

describe('median and quantile', () => {
  it('interpolate like R type 7 / numpy', () => {
    // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.9]) = 1.75, 2.5, 3.7
    expect(quantile([4, 1, 3, 2], 0.25)).toBeCloseTo(1.75, 12);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([4, 1, 3, 2], 0.9)).toBeCloseTo(3.7, 12);
    expect(median([5])).toBe(5);
    expect(median([])).toBeNaN();
    expect(quantile([3, 1, 2], 0)).toBe(1);
    expect(quantile([3, 1, 2], 1)).toBe(3);
  });
  it('do not modify their input', () => {
    const a = Float64Array.from([3, 1, 2]);
    median(a);
    expect(Array.from(a)).toEqual([3, 1, 2]);
  });
  it('MAD is 1.4826 × median absolute deviation', () => {
    // R: mad(c(1, 2, 3, 4, 100)) = 1.4826
    expect(mad([1, 2, 3, 4, 100])).toBeCloseTo(1.4826, 10);
  });
});

describe('selection and sorting', () => {
  it('agree with a full sort on random, sorted, reversed and tied data', () => {
    const rng = mulberry32(7);
    const cases = [
      Float64Array.from({ length: 1001 }, () => rng()),
      Float64Array.from({ length: 500 }, (_, i) => i),
      Float64Array.from({ length: 500 }, (_, i) => -i),
      Float64Array.from({ length: 777 }, () => Math.floor(rng() * 5)),
    ];
    for (const c of cases) {
      const want = Array.from(c).sort((a, b) => a - b);
      expect(Array.from(sortInPlace(c.slice()))).toEqual(want);
      for (const k of [0, 1, c.length >> 1, c.length - 1]) expect(selectInPlace(c.slice(), k)).toBe(want[k]);
      const ks = [3, c.length - 2, c.length >> 1, 3, 17];
      expect(orderStatisticsInPlace(c.slice(), ks)).toEqual(ks.map((k) => want[k]));
    }
  });

  it('selects exactly and leaves the array partitioned on large inputs (the Floyd–Rivest path)', () => {
    const rng = mulberry32(11);
    const cases = [
      Float64Array.from({ length: 7140 }, () => rng() - 0.5),
      Float64Array.from({ length: 5000 }, (_, i) => i),
      Float64Array.from({ length: 5000 }, (_, i) => -i),
      Float64Array.from({ length: 6001 }, () => Math.floor(rng() * 3)),
      new Float64Array(3000),
    ];
    for (const c of cases) {
      const want = Array.from(c).sort((a, b) => a - b);
      for (const k of [0, 1, 599, c.length >> 1, (c.length >> 1) - 1, c.length - 2, c.length - 1]) {
        const a = c.slice();
        expect(selectInPlace(a, k)).toBe(want[k]);
        expect(Array.from(a).sort((x, y) => x - y)).toEqual(want);
        expect(a.subarray(0, k).every((x) => x <= a[k]!)).toBe(true);
        expect(a.subarray(k + 1).every((x) => x >= a[k]!)).toBe(true);
      }
      const ks = [3, c.length - 2, c.length >> 1, 17, 1234];
      expect(orderStatisticsInPlace(c.slice(), ks)).toEqual(ks.map((k) => want[k]));
    }
  });
});

describe('averageRanks and tieGroups', () => {
  it('share ranks among ties like R rank()', () => {
    // R: rank(c(10, 20, 10, 30, 20, 20)) = 1.5 4.0 1.5 6.0 4.0 4.0
    expect(Array.from(averageRanks([10, 20, 10, 30, 20, 20]))).toEqual([1.5, 4, 1.5, 6, 4, 4]);
    expect(tieGroups([10, 20, 10, 30, 20, 20]).sort()).toEqual([2, 3]);
    expect(tieGroups([1, 2, 3])).toEqual([]);
  });
});

describe('acf', () => {
  it('matches R acf(1:5)', () => {
    // R: acf(1:5, plot = FALSE)$acf = 1.0 0.4 -0.1 -0.4 -0.4
    const r = acf([1, 2, 3, 4, 5], 4);
    [0.4, -0.1, -0.4, -0.4].forEach((want, i) => expect(r[i]).toBeCloseTo(want, 12));
  });
  it('is zero for a constant series and past the end', () => {
    expect(Array.from(acf([3, 3, 3], 2))).toEqual([0, 0]);
    expect(acf([1, 2], 5)[3]).toBe(0);
  });
});

describe('pairwiseSlopes', () => {
  it('skips pairs with equal times', () => {
    expect(Array.from(pairwiseSlopes([1, 3, 7], [0, 0, 2])).sort()).toEqual([2, 3]);
    expect(Array.from(pairwiseSlopes([1, 3, 7]))).toEqual([2, 3, 4]);
  });
});
