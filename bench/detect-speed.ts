/**
 * How long leakVerdict takes on one 7,200-point series (five days at one minute), for flat, leaking and
 * daily-cycle series, and firstPersistentUpShift on a 7,200-point CPU series. Not a test: prints medians.
 *
 *   node --import tsx bench/detect-speed.ts
 */
import { firstPersistentUpShift } from '../src/detect/change-point.js';
import { DAY_MS, leakVerdict } from '../src/detect/leak-verdict.js';
import { ar1, timesMs } from '../src/detect/random.js';

const N = 7200;
const SERIES = 40;
const ROUNDS = 5;
const t = timesMs(N, 60_000);

function make(kind: 'flat' | 'leak' | 'daily' | 'sawtooth', seed: number): Float64Array {
  const v = ar1(N, 0.9, 1, seed);
  for (let i = 0; i < N; i++) {
    const day = Math.sin((2 * Math.PI * i * 60_000) / DAY_MS);
    v[i]! +=
      kind === 'flat'
        ? 1000
        : kind === 'leak'
          ? 1000 + i * 0.01
          : kind === 'daily'
            ? 1000 + 50 * day
            : 1000 + i * 0.01 + 40 * ((i % 97) / 97);
  }
  return v;
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function time(label: string, fn: (i: number) => void): void {
  for (let i = 0; i < SERIES; i++) fn(i); // warm up the JIT
  const perCall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < SERIES; i++) fn(i);
    perCall.push(Number(process.hrtime.bigint() - t0) / 1e6 / SERIES);
  }
  console.log(
    `${label.padEnd(34)} ${medianOf(perCall).toFixed(3)} ms/series (median of ${ROUNDS} rounds × ${SERIES})`,
  );
}

for (const kind of ['leak', 'daily', 'sawtooth', 'flat'] as const) {
  const data = Array.from({ length: SERIES }, (_, s) => make(kind, s + 1));
  const verdicts = new Map<string, number>();
  time(`leakVerdict ${kind} (${N} points)`, (i) => {
    const r = leakVerdict(t, data[i]!);
    verdicts.set(r.verdict, (verdicts.get(r.verdict) ?? 0) + 1);
  });
  console.log(`  verdicts: ${JSON.stringify(Object.fromEntries(verdicts))}`);
}

const cpu = Array.from({ length: SERIES }, (_, s) => {
  const v = ar1(N, 0.5, 1, 500 + s);
  for (let i = 0; i < N; i++) v[i]! += i >= 3000 + s * 10 ? 92 : 1;
  return v;
});
time(`firstPersistentUpShift (${N} points)`, (i) => firstPersistentUpShift(cpu[i]!));
