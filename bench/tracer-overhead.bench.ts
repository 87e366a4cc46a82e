/**
 * What each tracer backend costs the traced process: a busy loop of read() → EAGAIN
 * (test/fixtures/trace/busy-read.c, one worker) reports its iteration count every 50 ms; we compare
 * its syscalls/s before the trace with its syscalls/s during the trace, in the same run, and print
 * medians over RUNS runs. The constants *_SLOWDOWN in src/trace/*.ts come from this bench.
 *
 *   node --import tsx bench/tracer-overhead.bench.ts [bpftrace perf strace proc] [--runs 3] [--seconds 2]
 *
 * `bpftrace-floor` is not a backend: an empty BPF program on sys_exit, the cost of enabling a
 * syscall tracepoint at all, as a reference for the bpftrace backend. `bpftrace-timed` is the
 * backend with `timed: true` (sys_enter attached too, per-call time).
 */
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

const backends: Record<string, TraceBackend> = {
  bpftrace: bpftraceTrace,
  'bpftrace-timed': (pids, opts) => bpftraceTrace(pids, { ...opts, timed: true }),
  'bpftrace-floor': floor,
  perf: perfTrace,
  strace: straceTrace,
  proc: procTrace,
};

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RUNS = opt('--runs', 3);
const SECONDS = opt('--seconds', 2);
const chosen = args.filter((a, i) => !a.startsWith('--') && !(args[i - 1] ?? '').startsWith('--'));
const names = chosen.length > 0 ? chosen : Object.keys(backends);

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Median of per-report rates (calls/s) whose interval ends within [fromNs, toNs]. */
function rate(reports: IterReport[], fromNs: number, toNs: number): number {
  const rates: number[] = [];
  for (let i = 1; i < reports.length; i++) {
    const a = reports[i - 1]!;
    const b = reports[i]!;
    if (a.tNs >= fromNs && b.tNs <= toNs && b.tNs > a.tNs)
      rates.push(((b.count - a.count) * 1e9) / (b.tNs - a.tNs));
  }
  return median(rates);
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function once(name: string): Promise<{ untraced: number; traced: number; after: number }> {
  const br = await startBusyRead({ workers: 1, reportMs: 50 });
  try {
    await sleep(300);
    const t0 = nowNs();
    await sleep(1200);
    const tStart = nowNs();
    await backends[name]!(br.pids, { durationMs: SECONDS * 1000 });
    const tEnd = nowNs();
    await sleep(1000);
    const d = SECONDS * 1e9;
    // The last D ns before the backend returned were traced (bpftrace attaches before its window,
    // strace/perf start theirs once attached); drop the edges.
    const traced = rate(br.reports, Math.max(tStart, tEnd - d - 0.3e9) + 0.2 * d, tEnd - 0.4e9);
    return { untraced: rate(br.reports, t0, tStart), traced, after: rate(br.reports, tEnd + 0.2e9, nowNs()) };
  } finally {
    await br.stop();
  }
}

console.log(
  `tracer overhead: busy read() → EAGAIN loop, 1 worker, ${SECONDS}s window, ${RUNS} runs (medians)`,
);
console.log('backend          untraced/s   traced/s   slowdown  after/s');
for (const name of names) {
  if (!(name in backends)) throw new Error(`unknown backend ${name}`);
  const rs: { untraced: number; traced: number; after: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    try {
      rs.push(await once(name));
    } catch (err) {
      console.log(`${name.padEnd(16)} failed: ${err instanceof Error ? err.message : String(err)}`);
      break;
    }
  }
  if (rs.length === 0) continue;
  const u = median(rs.map((r) => r.untraced));
  const t = median(rs.map((r) => r.traced));
  const slow = median(rs.map((r) => r.untraced / r.traced));
  const a = median(rs.map((r) => r.after));
  console.log(
    `${name.padEnd(16)} ${u.toFixed(0).padStart(10)} ${t.toFixed(0).padStart(10)} ${slow.toFixed(2).padStart(9)}× ${a.toFixed(0).padStart(9)}   (runs: ${rs.map((r) => (r.untraced / r.traced).toFixed(2)).join(', ')})`,
  );
}
