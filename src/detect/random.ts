/**
 * Seeded randomness for synthetic series: mulberry32 (a 32-bit PRNG by Tommy Ettinger, small and
 * statistically adequate for simulation, not for secrets) and Box–Muller normals. Tests and benches
 * use it so every synthetic series is reproducible from its seed.
 */

export type Rng = () => number;

/** Uniform [0, 1) generator from a 32-bit seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal generator (Box–Muller; the second variate of each pair is kept for the next call). */
export function normalGenerator(rng: Rng): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * AR(1) noise x_t = φ·x_{t−1} + σ·ε_t, started from its stationary distribution so there is no
 * burn-in transient (which would itself look like a trend).
 */
export function ar1(n: number, phi: number, sigma: number, seed: number): Float64Array {
  const z = normalGenerator(mulberry32(seed));
  const out = new Float64Array(n);
  let x = (sigma / Math.sqrt(1 - phi * phi)) * z();
  for (let i = 0; i < n; i++) {
    if (i > 0) x = phi * x + sigma * z();
    out[i] = x;
  }
  return out;
}

/** Evenly spaced timestamps: start, start+step, … (ms). */
export function timesMs(n: number, stepMs: number, startMs = 0): Float64Array {
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = startMs + i * stepMs;
  return t;
}
