import { describe, expect, it } from 'vitest';
import { ar1, mulberry32, normalGenerator, timesMs } from './random.js';
import { acf } from './robust.js';

describe('random', () => {
  it('is reproducible from its seed and differs between seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('draws standard normals', () => {
    const z = normalGenerator(mulberry32(1));
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let beyond = 0;
    for (let i = 0; i < n; i++) {
      const x = z();
      s += x;
      s2 += x * x;
      if (Math.abs(x) > 1.96) beyond++;
    }
    expect(s / n).toBeCloseTo(0, 2);
    expect(s2 / n).toBeCloseTo(1, 1);
    expect(beyond / n).toBeCloseTo(0.05, 2);
  });

  it('AR(1) has the requested lag-1 autocorrelation and stationary variance', () => {
    const x = ar1(100_000, 0.9, 1, 3);
    expect(acf(x, 1)[0]).toBeCloseTo(0.9, 2);
    let s2 = 0;
    for (const v of x) s2 += v * v;
    expect(s2 / x.length).toBeGreaterThan(4.5); // 1 / (1 − 0.81) ≈ 5.26
    expect(s2 / x.length).toBeLessThan(6.1);
  });

  it('timesMs is evenly spaced', () => {
    expect(Array.from(timesMs(3, 100, 5))).toEqual([5, 105, 205]);
  });
});
