import { describe, expect, it } from 'vitest';
import { DAY_MS, leakVerdict } from './leak-verdict.js';
import { ar1, mulberry32, normalGenerator, timesMs } from './random.js';

// Synthetic scenarios from the issue. Most run at a 100 ms interval (a test recording); the daily ones
// at one minute over five days. Seeds are fixed, so every series is reproducible.
const HOUR = 3_600_000;

function series(n: number, shape: (i: number) => number, noise: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => shape(i) + noise[i]!);
}
function white(n: number, sigma: number, seed: number): Float64Array {
  const z = normalGenerator(mulberry32(seed));
  return Float64Array.from({ length: n }, () => sigma * z());
}

describe('leakVerdict on the issue scenarios', () => {
  it('steady leak: leak, with the true slope inside its interval', () => {
    const n = 2000;
    const t = timesMs(n, 100);
    const r = leakVerdict(
      t,
      series(n, (i) => 100 + 0.02 * i, white(n, 0.5, 1)),
    );
    expect(r.verdict).toBe('leak');
    expect(r.shape).toBe('steady');
    const truePerHour = 0.02 * (HOUR / 100);
    expect(r.slopeInterval[0]).toBeLessThanOrEqual(truePerHour);
    expect(r.slopeInterval[1]).toBeGreaterThanOrEqual(truePerHour);
    expect(r.confidence).toBeGreaterThan(0.99);
  });

  it('slow leak under AR(1) noise (φ = 0.9): leak', () => {
    const n = 2000;
    const t = timesMs(n, 100);
    // growth 10 over the series: 4.4 marginal σ of the noise, 5 % of the level
    for (let seed = 1; seed <= 10; seed++) {
      const r = leakVerdict(
        t,
        series(n, (i) => 200 + (10 * i) / n, ar1(n, 0.9, 1, seed)),
      );
      expect(r.verdict, `seed ${seed}: ${r.reasons.join('; ')}`).toBe('leak');
      expect(r.evidence.nOverNStar).toBeDefined();
    }
  });

  it('sawtooth with a rising floor: leak, judged on the floor', () => {
    const n = 2000;
    const t = timesMs(n, 100);
    const r = leakVerdict(
      t,
      series(n, (i) => 100 + (10 * i) / n + 40 * ((i % 50) / 50), white(n, 0.3, 2)),
    );
    expect(r.verdict).toBe('leak');
    expect(r.shape).toBe('sawtooth');
    expect(r.evidence.sawtoothDrops).toBeGreaterThanOrEqual(38);
    // the floor's slope, not the ramps': 10 per 2000 samples
    const truePerHour = (10 / n) * (HOUR / 100);
    expect(r.slopePerHour).toBeGreaterThan(truePerHour * 0.8);
    expect(r.slopePerHour).toBeLessThan(truePerHour * 1.2);
  });

  it('sawtooth without a leak: none', () => {
    const n = 2000;
    const t = timesMs(n, 100);
    for (let seed = 1; seed <= 5; seed++) {
      const r = leakVerdict(
        t,
        series(n, (i) => 100 + 40 * ((i % 50) / 50), white(n, 0.3, seed)),
      );
      expect(r.verdict, r.reasons.join('; ')).toBe('none');
      expect(r.shape).toBe('sawtooth');
    }
  });

  it('warm-up to a plateau: none', () => {
    const n = 2000;
    const t = timesMs(n, 100);
    for (let seed = 1; seed <= 5; seed++) {
      const r = leakVerdict(
        t,
        series(n, (i) => 100 + 50 * (1 - Math.exp(-i / (n / 8))), ar1(n, 0.9, 1, seed)),
      );
      expect(r.verdict, r.reasons.join('; ')).toBe('none');
      expect(r.shape).toBe('plateau');
    }
  });

  it('one step (a reload): none', () => {
    const n = 2000;
    const t = timesMs(n, 100);
    for (let seed = 1; seed <= 10; seed++) {
      const r = leakVerdict(
        t,
        series(n, (i) => 100 + (i >= n / 2 ? 20 : 0), ar1(n, 0.9, 1, seed)),
      );
      expect(r.verdict, `seed ${seed}: ${r.reasons.join('; ')}`).toBe('none');
    }
  });

  it('flat AR(1) noise (φ = 0.9): at most 1 % false leaks over 200 seeded series', () => {
    let leaks = 0;
    for (const n of [300, 1440]) {
      const t = timesMs(n, 100);
      for (let seed = 0; seed < 100; seed++) {
        const r = leakVerdict(
          t,
          series(n, () => 100, ar1(n, 0.9, 1, 1000 * n + seed)),
        );
        if (r.verdict === 'leak') leaks++;
      }
    }
    expect(leaks / 200).toBeLessThanOrEqual(0.01);
  });

  it('daily cycle over five days: none', () => {
    const n = 7200;
    const t = timesMs(n, 60_000);
    for (let seed = 1; seed <= 3; seed++) {
      const cycle = (i: number) => 500 + 50 * Math.sin((2 * Math.PI * i * 60_000) / DAY_MS);
      const r = leakVerdict(t, series(n, cycle, ar1(n, 0.9, 1, seed)));
      expect(r.verdict, r.reasons.join('; ')).toBe('none');
      expect(r.shape).toBe('daily');
    }
    // 4.6 days, starting near a trough and ending near a peak: the raw trend is the cycle
    const m = 6600;
    const r = leakVerdict(
      timesMs(m, 60_000),
      series(m, (i) => 500 + 50 * Math.sin((2 * Math.PI * i * 60_000) / DAY_MS - 1), ar1(m, 0.9, 1, 3)),
    );
    expect(r.verdict).toBe('none');
  });

  it('daily cycle plus a leak: leak, slope and exhaustion from the growth alone', () => {
    const n = 7200;
    const t = timesMs(n, 60_000);
    const perDay = 10;
    const r = leakVerdict(
      t,
      series(
        n,
        (i) => 500 + 50 * Math.sin((2 * Math.PI * i * 60_000) / DAY_MS) + (perDay * i * 60_000) / DAY_MS,
        ar1(n, 0.9, 1, 3),
      ),
      { limit: 1000 },
    );
    expect(r.verdict).toBe('leak');
    expect(r.slopePerHour).toBeCloseTo(perDay / 24, 1);
    expect(r.evidence.dailySlopePerHour).toBeCloseTo(perDay / 24, 1);
    expect(r.exhaustsAtMs).toBeGreaterThan(t[n - 1]!);
    expect(r.exhaustsRangeMs![0]).toBeLessThanOrEqual(r.exhaustsAtMs!);
    expect(r.exhaustsRangeMs![1]).toBeGreaterThanOrEqual(r.exhaustsAtMs!);
  });

  it('an fd leak in bursts: leak, stepwise', () => {
    const n = 2000;
    const t = timesMs(n, 100);
    const r = leakVerdict(
      t,
      series(n, (i) => 50 + 5 * Math.floor(i / 200), white(n, 0.5, 4)),
    );
    expect(r.verdict).toBe('leak');
    expect(r.shape).toBe('stepwise');
  });
});

describe('leakVerdict mechanics', () => {
  it('windows are counted in samples: 100 ms and one minute give the same verdict', () => {
    const n = 1500;
    const v = series(n, (i) => 100 + 0.01 * i, ar1(n, 0.8, 1, 9));
    const fast = leakVerdict(timesMs(n, 100), v);
    const slow = leakVerdict(timesMs(n, 60_000), v);
    expect(slow.verdict).toBe(fast.verdict);
    expect(slow.shape).toBe(fast.shape);
    expect(slow.evidence.windowSamples).toBe(fast.evidence.windowSamples);
    expect(fast.slopePerHour / slow.slopePerHour).toBeCloseTo(600, 6);
  });

  it('projects exhaustion from the peaks, the slope and the limit', () => {
    const n = 2000;
    const t = timesMs(n, 1000);
    const r = leakVerdict(
      t,
      series(n, (i) => 100 + 0.05 * i, white(n, 0.2, 5)),
      { limit: 500 },
    );
    expect(r.verdict).toBe('leak');
    // last value ≈ 200, slope 0.05/s: 300 more → ≈ 6,000 s after the last sample
    const eta = (r.exhaustsAtMs! - t[n - 1]!) / 1000;
    expect(eta).toBeGreaterThan(5800);
    expect(eta).toBeLessThan(6100);
    expect(
      leakVerdict(
        t,
        series(n, (i) => 100 + 0.05 * i, white(n, 0.2, 5)),
        { limit: 150 },
      ).exhaustsAtMs,
    ).toBe(t[n - 1]);
    expect(
      leakVerdict(
        t,
        series(n, (i) => 100 + 0.05 * i, white(n, 0.2, 5)),
        { limit: 'unlimited' },
      ).exhaustsAtMs,
    ).toBeUndefined();
  });

  it('says why it cannot judge', () => {
    expect(leakVerdict([1, 2, 3], [1, 2, 3])).toMatchObject({ verdict: 'none', shape: 'insufficient' });
    expect(
      leakVerdict(
        new Array(50).fill(7),
        Array.from({ length: 50 }, (_, i) => i),
      ).reasons[0],
    ).toMatch(/one timestamp/);
    const flat = leakVerdict(timesMs(100, 1000), new Float64Array(100).fill(42));
    expect(flat.verdict).toBe('none');
    expect(flat.shape).toBe('flat');
  });

  it('drops non-finite samples and sorts out-of-order ones', () => {
    const n = 600;
    const t = Array.from(timesMs(n, 1000));
    const v = Array.from(series(n, (i) => 10 + 0.1 * i, white(n, 0.5, 6)));
    const clean = leakVerdict(t, v);
    v[10] = NaN;
    v[20] = Infinity;
    t[30] = NaN;
    [t[100], t[101]] = [t[101]!, t[100]!];
    [v[100], v[101]] = [v[101]!, v[100]!];
    const dirty = leakVerdict(t, v);
    expect(dirty.verdict).toBe(clean.verdict);
    expect(dirty.evidence.samples).toBe(n - 3);
    expect(dirty.slopePerHour).toBeCloseTo(clean.slopePerHour, -1);
  });

  it('a falling series is not a leak', () => {
    const n = 1000;
    const r = leakVerdict(
      timesMs(n, 1000),
      series(n, (i) => 1000 - 0.5 * i, white(n, 1, 7)),
    );
    expect(r.verdict).toBe('none');
    expect(r.shape).toBe('falling');
  });
});
