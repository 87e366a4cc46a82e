/**
 * What each tracer backend costs the traced process: a busy loop of read() → EAGAIN
 * (test/fixtures/trace/busy-read.c, one worker) reports its iteration count and CPU time every 50 ms;
 * we compare its syscalls/s before the trace with its syscalls/s during the trace, in the same run,
 * backends interleaved (A B C A B C …), and print medians over RUNS runs. The constants *_SLOWDOWN in
 * src/trace/*.ts come from this bench.
 *
 *   node --import tsx bench/tracer-overhead.ts [bpf bpftrace perf strace proc …] [--runs 5] [--seconds 5] [--pin]
 *
 * Two ratios per run: `wall` is syscalls per second of wall time (what the issue asks), `cpu` is
 * syscalls per second of the loop's own CPU time, which a busy machine (other work, or the tracer's
 * own CPU on 2 cores) does not disturb. `--pin` puts the loop on CPU 1 and this process and every
 * tracer it starts on CPU 0, so the tracer does not compete with the loop for a CPU.
 *
 * Rates are means over the window (calls / time), not medians of 50 ms samples: the bpf backend is
 * attached in bursts, and a median of samples would hide them. The window is the whole trace for
 * `bpf` (it attaches at once, in bursts throughout); for the others it is the time attached, the
 * edges trimmed (bpftrace compiles for a second before attaching, strace and perf attach late).
 *
 * Not backends: `raw-tp-floor`, an empty BPF program on the raw sys_exit tracepoint for the whole
 * window (the price of any per-syscall hook on this machine: the syscall slow path for every task);
 * `bpftrace-floor`, an empty bpftrace program on sys_exit (the same through perf's tracepoint layer,
 * which is what bpftrace's `tracepoint:` uses); `bpf-continuous`, the bpf backend's programs attached all the time (its duty
 * floor at 1), the cost that bursts avoid; `bpftrace-timed`, bpftrace with sys_enter too.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { BPF_HELPER, bpfHelperArgv, bpfTrace } from '../src/trace/bpf.js';
import { bpftraceTrace } from '../src/trace/bpftrace.js';
import { perfTrace } from '../src/trace/perf.js';
import { procTrace } from '../src/trace/proc-sampler.js';
import { straceTrace } from '../src/trace/strace.js';
import { runTracer } from '../src/trace/tracer-process.js';
import type { TraceBackend } from '../src/trace/types.js';
import { startBusyRead, type IterReport } from '../test/fixtures/trace/busy-read.js';

const floor: TraceBackend = async (pids, opts) => {
  const prog = `tracepoint:raw_syscalls:sys_exit /pid == ${pids[0]}/ { }`;
  await runTracer(['bpftrace', '-e', prog], {
    durationMs: opts.durationMs,
    windowStartsOnOutputWithinMs: 3000,
  });
  return undefined as never;
};

// The bpf backend's helper with an empty program on raw_tp sys_exit for the whole window.
const rawFloor: TraceBackend = async (pids, opts) => {
  await runTracer(
    [...bpfHelperArgv(BPF_HELPER, { pids, durationMs: opts.durationMs, arch: 'x86_64' }), '--empty', '1'],
    {},
  );
  return undefined as never;
};

interface Bench {
  fn: TraceBackend;
  /** Measure over the whole trace (attached throughout) or only the attached middle. */
  window: 'whole' | 'attached';
}

const backends: Record<string, Bench> = {
  bpf: { fn: bpfTrace, window: 'whole' },
  'bpf-continuous': { fn: (pids, opts) => bpfTrace(pids, { ...opts, minDuty: 1 }), window: 'whole' },
  bpftrace: { fn: bpftraceTrace, window: 'attached' },
  'bpftrace-timed': { fn: (pids, opts) => bpftraceTrace(pids, { ...opts, timed: true }), window: 'attached' },
  'bpftrace-floor': { fn: floor, window: 'attached' },
  'raw-tp-floor': { fn: rawFloor, window: 'whole' },
  perf: { fn: perfTrace, window: 'attached' },
  strace: { fn: straceTrace, window: 'attached' },
  proc: { fn: procTrace, window: 'attached' },
};

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt('--runs', 5);
const SECONDS = opt('--seconds', 5);
const PIN = args.includes('--pin');
const chosen = args.filter((a, i) => !a.startsWith('--') && !(args[i - 1] ?? '').startsWith('--'));
const names = chosen.length > 0 ? chosen : Object.keys(backends);
for (const n of names) if (!(n in backends)) throw new Error(`unknown backend ${n}`);

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Calls per second of wall time and per second of the loop's CPU time over [fromNs, toNs]. */
function rate(reports: IterReport[], fromNs: number, toNs: number): { wall: number; cpu: number } {
  const inside = reports.filter((r) => r.tNs >= fromNs && r.tNs <= toNs);
  const a = inside[0];
  const b = inside[inside.length - 1];
  if (a === undefined || b === undefined || b.tNs <= a.tNs || b.cpuNs <= a.cpuNs)
    return { wall: Number.NaN, cpu: Number.NaN };
  return {
    wall: ((b.count - a.count) * 1e9) / (b.tNs - a.tNs),
    cpu: ((b.count - a.count) * 1e9) / (b.cpuNs - a.cpuNs),
  };
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pin(pid: number, cpu: number): void {
  const r = spawnSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset ${pid}: ${r.stderr}`);
}

interface Run {
  untraced: { wall: number; cpu: number };
  traced: { wall: number; cpu: number };
}

async function once(name: string): Promise<Run> {
  const b = backends[name]!;
  const br = await startBusyRead({ workers: 1, reportMs: 50 });
  try {
    if (PIN) for (const p of br.pids) pin(p, 1);
    await sleep(300);
    const t0 = nowNs();
    await sleep(1500);
    const tStart = nowNs();
    await b.fn(br.pids, { durationMs: SECONDS * 1000 });
    const tEnd = nowNs();
    const d = SECONDS * 1e9;
    const traced =
      b.window === 'whole'
        ? rate(br.reports, tStart, tEnd)
        : rate(br.reports, Math.max(tStart, tEnd - d - 0.3e9) + 0.2 * d, tEnd - 0.4e9);
    return { untraced: rate(br.reports, t0, tStart), traced };
  } finally {
    await br.stop();
  }
}

if (PIN) pin(process.pid, 0);
const load0 = loadavg();
console.log(
  `tracer overhead: busy read() → EAGAIN loop, 1 worker, ${SECONDS}s window, ${RUNS} interleaved runs (medians), ${PIN ? 'loop pinned to CPU 1, tracers to CPU 0' : 'unpinned'}; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`,
);
const results = new Map<string, Run[]>(names.map((n) => [n, []]));
const failed = new Set<string>();
for (let i = 0; i < RUNS; i++) {
  for (const name of names) {
    if (failed.has(name)) continue;
    try {
      results.get(name)!.push(await once(name));
    } catch (err) {
      console.log(`${name.padEnd(16)} failed: ${err instanceof Error ? err.message : String(err)}`);
      failed.add(name);
    }
  }
}
console.log('backend           untraced/s   traced/s  wall-slowdown  cpu-slowdown   (wall per run)');
for (const name of names) {
  const rs = results.get(name)!;
  if (rs.length === 0) continue;
  const wall = rs.map((r) => r.untraced.wall / r.traced.wall);
  const cpu = rs.map((r) => r.untraced.cpu / r.traced.cpu);
  console.log(
    `${name.padEnd(16)} ${median(rs.map((r) => r.untraced.wall))
      .toFixed(0)
      .padStart(11)} ${median(rs.map((r) => r.traced.wall))
      .toFixed(0)
      .padStart(
        10,
      )} ${median(wall).toFixed(2).padStart(13)}× ${median(cpu).toFixed(2).padStart(12)}×   (${wall.map((x) => x.toFixed(2)).join(', ')})`,
  );
}
console.log(
  `load average at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
