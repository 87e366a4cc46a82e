/**
 * Synthetic records written through the real RecordWriter (the same encoding the recorder writes), for
 * the leak and spike tests and benches: processes with known shapes, leaks injected at known samples.
 */
import { Store, RecordWriter, type HostSampleInput, type ProcessSampleInput } from '../../src/store/index.js';
import { mulberry32, normalGenerator } from '../../src/detect/random.js';

export const BOOT = '0b5e55ed-0000-4000-8000-000000000001';

export interface SynthValues {
  rssBytes?: number;
  anonBytes?: number;
  pssBytes?: number;
  fds?: number;
  threads?: number;
  /** utime ticks (cumulative). */
  cpuTicks?: number;
  closeWait?: number;
}

export interface SynthProc {
  pid: number;
  comm: string;
  exe: string;
  argv: string[];
  ppid: number;
  /** Alive for samples [from, to). */
  from: number;
  to: number;
  values(i: number): SynthValues;
}

export interface SynthRecord {
  samples: number;
  intervalMs: number;
  startMs: number;
  procs: SynthProc[];
  host?: (i: number) => HostSampleInput;
}

const GIB = 1024 ** 3;

/** Writes the record; one transaction per sample. Returns the wall time it took. */
export function writeRecord(path: string, rec: SynthRecord): number {
  const t0 = Date.now();
  const store = Store.open(path, { mode: 'write', check: false });
  try {
    const w = new RecordWriter(store, {
      pid: 1,
      hostname: 'synth',
      version: 'test',
      intervalMs: rec.intervalMs,
      startedMs: rec.startMs,
    });
    // processes sorted by birth so each sample only looks at the live ones
    const byFrom = [...rec.procs].sort((a, b) => a.from - b.from);
    let next = 0;
    let live: SynthProc[] = [];
    for (let i = 0; i < rec.samples; i++) {
      while (next < byFrom.length && byFrom[next]!.from <= i) live.push(byFrom[next++]!);
      live = live.filter((p) => p.to > i);
      const processes: ProcessSampleInput[] = live.map((p) => {
        const v = p.values(i);
        return {
          pid: p.pid,
          // start ticks: the sample it was born in, so a restarted pid is a new identity
          startTimeTicks: 1000 + p.from,
          ppid: p.ppid,
          comm: p.comm,
          kernelThread: false,
          exe: p.exe,
          argv: p.argv,
          uid: 0,
          utimeTicks: v.cpuTicks ?? 0,
          stimeTicks: 0,
          minorFaults: 0,
          majorFaults: 0,
          rssBytes: v.rssBytes,
          anonBytes: v.anonBytes,
          pssBytes: v.pssBytes,
          vszBytes: v.rssBytes !== undefined ? v.rssBytes * 2 : undefined,
          threads: v.threads ?? 1,
          fdCount: v.fds,
          sockets:
            v.closeWait !== undefined
              ? { tcp: { LISTEN: 1, CLOSE_WAIT: v.closeWait }, udp: 0, unix: 0, other: 0 }
              : undefined,
        };
      });
      w.append({
        tMs: rec.startMs + i * rec.intervalMs,
        bootId: BOOT,
        host: rec.host?.(i) ?? {
          mem_total_kib: (16 * GIB) / 1024,
          mem_available_kib: (8 * GIB) / 1024,
          swap_free_kib: 0,
          file_nr: 5000,
          tasks: 500,
          cpu_user_ticks: i * 10,
          cpu_idle_ticks: i * 100,
        },
        processes,
        flags: 1,
      });
    }
    w.endRun(rec.startMs + rec.samples * rec.intervalMs);
  } finally {
    store.close();
  }
  return Date.now() - t0;
}

/** AR(1) noise generator with state, seeded. */
export function ar1Gen(phi: number, sigma: number, seed: number): () => number {
  const z = normalGenerator(mulberry32(seed));
  let x = (sigma / Math.sqrt(1 - phi * phi)) * z();
  return () => (x = phi * x + sigma * z());
}

export type Shape =
  'flat' | 'leak' | 'sawtooth' | 'sawtooth-leak' | 'plateau' | 'step' | 'daily' | 'late-leak';

export interface ShapeSpec {
  shape: Shape;
  n: number;
  base: number;
  /** Growth per sample for leaks (units of the value). */
  rate: number;
  noise: number;
  seed: number;
  /** late-leak: the sample the leak starts at. */
  onset?: number;
  intervalMs: number;
}

/**
 * A memory-like series of a given shape, precomputed. Leaks grow by `rate` per sample (from `onset` for
 * late-leak); a sawtooth ramps 30 × noise over 40 samples and drops back; a plateau warms up over the
 * first fifth and stays; a step jumps once at 40 %; a daily cycle has an amplitude of 10 × noise.
 */
export function shapeSeries(s: ShapeSpec): Float64Array {
  const e = ar1Gen(0.8, s.noise, s.seed);
  const out = new Float64Array(s.n);
  const dayN = 86_400_000 / s.intervalMs;
  const warm = Math.max(1, Math.floor(s.n / 5));
  let floorLeak = 0;
  for (let i = 0; i < s.n; i++) {
    let v = s.base + e();
    switch (s.shape) {
      case 'leak':
        v += s.rate * i;
        break;
      case 'late-leak':
        v += i >= (s.onset ?? 0) ? s.rate * (i - (s.onset ?? 0)) : 0;
        break;
      case 'sawtooth':
      case 'sawtooth-leak': {
        const phase = i % 40;
        if (phase === 0 && s.shape === 'sawtooth-leak') floorLeak = s.rate * i;
        v += (phase / 40) * 30 * s.noise + floorLeak;
        break;
      }
      case 'plateau':
        v += s.rate * Math.min(i, warm) * 3;
        break;
      case 'step':
        v += i >= Math.floor(s.n * 0.4) ? 50 * s.noise : 0;
        break;
      case 'daily':
        v += 10 * s.noise * Math.sin((2 * Math.PI * i) / dayN);
        break;
      case 'flat':
        break;
    }
    out[i] = Math.max(0, v);
  }
  return out;
}
