import { describe, expect, it } from 'vitest';
import { normalCdf, normalQuantile, normalSf, twoSidedP } from './normal.js';

// Reference values: scipy.stats.norm.cdf / .sf / .ppf (scipy 1.17.1, numpy 2.4.6), computed on this
// machine with `python3 -c 'import scipy.stats as st; print(repr(st.norm.cdf(x)))'`.
const CDF: [number, number][] = [
  [-8, 6.22096057427174e-16],
  [-5, 2.866515718791933e-7],
  [-3, 0.0013498980316300933],
  [-1.96, 0.024997895148220435],
  [-1, 0.15865525393145707],
  [-0.5, 0.3085375387259869],
  [0, 0.5],
  [0.3, 0.6179114221889526],
  [1, 0.8413447460685429],
  [2.5, 0.9937903346742238],
  [6, 0.9999999990134123],
];
const SF: [number, number][] = [
  [2.5, 0.006209665325776132],
  [6, 9.865876450376946e-10],
  [9, 1.1285884059538324e-19],
];
const PPF: [number, number][] = [
  [1e-10, -6.361340902404056],
  [1e-4, -3.7190164854556804],
  [0.01, -2.3263478740408408],
  [0.025, -1.9599639845400545],
  [0.3, -0.5244005127080409],
  [0.5, 0],
  [0.9, 1.2815515655446004],
  [0.975, 1.959963984540054],
  [0.999999, 4.753424308817087],
];

describe('normalCdf', () => {
  it('matches scipy to far better than 1e-7', () => {
    for (const [x, want] of CDF) expect(Math.abs(normalCdf(x) - want)).toBeLessThan(1e-12);
  });
  it('keeps relative precision (better than 1e-7) deep in the tails, where 1 − Φ would round to 0', () => {
    expect(normalCdf(-8) / 6.22096057427174e-16).toBeCloseTo(1, 7);
    for (const [x, want] of SF) expect(normalSf(x) / want).toBeCloseTo(1, 7);
    expect(normalCdf(-37.5)).toBeGreaterThanOrEqual(0);
    expect(normalCdf(-40)).toBe(0);
    expect(normalCdf(40)).toBe(1);
  });
  it('is symmetric and monotone', () => {
    let prev = 0;
    for (let x = -10; x <= 10; x += 0.01) {
      const c = normalCdf(x);
      expect(c).toBeGreaterThanOrEqual(prev);
      expect(c + normalCdf(-x)).toBeCloseTo(1, 14);
      prev = c;
    }
  });
  it('two-sided p of 1.959964 is 5 %', () => {
    expect(twoSidedP(1.959963984540054)).toBeCloseTo(0.05, 12);
    expect(twoSidedP(-1.959963984540054)).toBeCloseTo(0.05, 12);
    expect(twoSidedP(0)).toBe(1);
  });
  it('passes NaN through', () => {
    expect(normalCdf(NaN)).toBeNaN();
    expect(normalSf(NaN)).toBeNaN();
  });
});

describe('normalQuantile', () => {
  it('matches scipy', () => {
    for (const [p, want] of PPF)
      expect(Math.abs(normalQuantile(p) - want)).toBeLessThan(1e-9 * Math.max(1, Math.abs(want)));
  });
  it('inverts normalCdf', () => {
    for (let p = 0.001; p < 1; p += 0.001) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 12);
  });
  it('handles the ends and nonsense', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.5)).toBeNaN();
    expect(normalQuantile(NaN)).toBeNaN();
  });
});
