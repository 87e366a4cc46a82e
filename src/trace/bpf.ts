/**
 * bpf backend (the default): the full profile — per (pid, syscall, fd, result) the count, time spent,
 * slowest call and calls over 1 ms — counted in the kernel by two small BPF programs on the raw
 * syscall tracepoints, attached in short bursts by the helper native/bpfcount.c
 * (build/Release/procsleuth-bpfcount, built by node-gyp at install; no clang, libbpf or bpftrace).
 *
 * Why bursts: on this kind of machine there is no cheaper hook than the syscall tracepoints (kprobes
 * are compiled out and function tracing, hence fentry/fexit, is refused with EPERM), and merely having
 * a program on them puts every syscall of every task on the slow path: an empty program on sys_exit
 * costs a busy read() loop 1.14–1.25×, the timed counters 1.7–2× (bench/tracer-overhead.ts). No
 * continuous per-call tracer can meet 1.1× there. Attached for a share `duty` of the window, the
 * average cost is 1 + duty × (that − 1); the helper measures the traced processes' call rate in each
 * burst (its CPU time per call) and picks the duty that keeps the busiest one within `budget` (5%),
 * at least `minDuty` (1%).
 * A process making few syscalls is traced all the time, since it pays almost nothing.
 *
 * What sampling changes: counts and times are of the calls made while attached (`durationMs` is the
 * time attached, rates are per second of it, and while attached the process runs slower, so rates are
 * a lower bound); a call must start and end inside a burst to be counted (calls blocked across bursts
 * show up only in `inFlight` at the last burst's end).
 *
 * Helper output, one JSON object on stdout at the end (window over, or SIGINT on abort):
 *   {"windowNs":2000097707,"tracedNs":90441353,"bursts":5,"duty":0.02,
 *    "calls":[[7984,0,11,-11,84654,50697576,724260,0]],"inFlight":[[7990,232,4,1200000]],"dropped":0}
 * calls: [pid, nr, fd (-1: not an fd syscall, -2: unreadable), result (-errno, 0, or 1 for > 0),
 * count, timeNs, maxNs, blocked]; inFlight: [tid, nr, fd, elapsedNs].
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ParseError } from '../util/errors.js';
import { NotInstalledError, NotPermittedError } from '../util/spawn.js';
import { ProfileBuilder, type CallRecord } from './profile-builder.js';
import { errnoName, fdSyscallNrs, hostArch, syscallName } from './syscalls.js';
import { TaskMap } from './task-map.js';
import { TracerFailedError, isRoot, runTracer } from './tracer-process.js';
import type { Arch, InFlightCall, SyscallProfile, TraceOptions, TracerOverhead } from './types.js';

/** Where node-gyp puts the helper (src/trace and dist/trace are both two levels down). */
export const BPF_HELPER = fileURLToPath(new URL('../../build/Release/procsleuth-bpfcount', import.meta.url));

/**
 * Busy read() → EAGAIN loop, syscalls/s traced against untraced, bench/tracer-overhead.ts,
 * medians of 5 interleaved runs, 5 s windows, on a 2-vCPU VM (kernel 6.18, retpolines + SRSO). The
 * most controlled run, a quiet machine (load 3) with loop and helper on separate CPUs: 1.05× (runs
 * 0.95–1.05; per CPU second of the loop 1.04×). Unpinned on a quiet machine (load 0.9–3) 0.97×; under
 * other work (load 6–11) 0.90–1.10× wall, 1.01–1.08× per CPU second. In the same runs: an empty
 * program on raw sys_exit 1.14–1.25×, these programs attached throughout 1.7–2.0×, bpftrace 2.0–2.4×.
 */
export const BPF_SLOWDOWN = 1.05;

export const BPF_OVERHEAD: TracerOverhead = {
  description:
    'BPF counters on the raw syscall tracepoints, attached in short bursts for a share of the window chosen to keep the busiest traced process within ~5% on average; nothing is copied to user space per call',
  measuredSlowdown: BPF_SLOWDOWN,
};

/** Average cost the duty is chosen for, and the floor of the duty (a few bursts whatever the rate). */
export const BPF_BUDGET = 0.05;
export const BPF_MIN_DUTY = 0.01;
/**
 * Extra time per traced call while attached, as the helper assumes when it picks the duty: the bench
 * measured ~0.4–0.5 µs (1.7–2× on a ~0.6 µs call); 0.8 µs leaves room for a slower machine (a
 * larger cost only lowers the duty).
 */
export const BPF_COST_NS = 800;
export const BPF_BURST_MS = 20;

// Offset of the first syscall argument in the saved struct pt_regs: x86_64 `di` (15th u64); arm64
// `regs[0]` (still arg0 at syscall entry).
const ARG0_OFFSET: Record<Arch, number> = { x86_64: 112, aarch64: 0 };

export interface BpfHelperArgs {
  pids: readonly number[];
  durationMs: number;
  arch: Arch;
  budget?: number;
  minDuty?: number;
  costNs?: number;
  burstMs?: number;
}

/** The helper's argv. Pids are numbers we validated, never text from elsewhere. */
export function bpfHelperArgv(helper: string, a: BpfHelperArgs): string[] {
  if (a.pids.length === 0) throw new TypeError('no pids');
  for (const p of a.pids) if (!Number.isSafeInteger(p) || p <= 0) throw new TypeError(`bad pid ${p}`);
  return [
    helper,
    '--pids',
    a.pids.join(','),
    '--ms',
    String(Math.max(1, Math.round(a.durationMs))),
    '--fd-nrs',
    fdSyscallNrs(a.arch).join(','),
    '--arg0-off',
    String(ARG0_OFFSET[a.arch]),
    '--budget',
    String(a.budget ?? BPF_BUDGET),
    '--min-duty',
    String(a.minDuty ?? BPF_MIN_DUTY),
    '--cost-ns',
    String(a.costNs ?? BPF_COST_NS),
    '--burst-ms',
    String(a.burstMs ?? BPF_BURST_MS),
  ];
}

export interface BpfOutput {
  windowNs: number;
  tracedNs: number;
  bursts: number;
  duty: number;
  calls: {
    pid: number;
    nr: number;
    fd: number;
    result: number;
    count: number;
    timeNs: number;
    maxNs: number;
    blocked: number;
  }[];
  inFlight: { tid: number; nr: number; fd: number; elapsedNs: number }[];
  dropped: number;
}

function num(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x))
    throw new ParseError(`${what} is not a number`, { token: JSON.stringify(x) ?? String(x) });
  return x;
}

function rows(x: unknown, width: number, what: string): number[][] {
  if (!Array.isArray(x)) throw new ParseError(`${what} is not a list`, { token: what });
  return x.map((r: unknown, i) => {
    if (!Array.isArray(r) || r.length !== width)
      throw new ParseError(`${what}[${i}] needs ${width} numbers`, { token: JSON.stringify(r) ?? '' });
    return r.map((v: unknown) => num(v, `${what}[${i}]`));
  });
}

/** Parse the helper's stdout: the last line that is a JSON object. */
export function parseBpfOutput(text: string): BpfOutput {
  const lines = text.split('\n').map((l) => l.trim());
  const i = lines.findLastIndex((l) => l.startsWith('{'));
  const line = lines[i];
  if (line === undefined)
    throw new ParseError('no result from procsleuth-bpfcount', { token: text.slice(0, 80) });
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    throw new ParseError(
      'bad JSON from procsleuth-bpfcount',
      { line: i + 1, token: line.slice(0, 80) },
      { cause: err },
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ParseError('procsleuth-bpfcount output is not an object', {
      line: i + 1,
      token: line.slice(0, 80),
    });
  const d = doc as Record<string, unknown>;
  return {
    windowNs: num(d['windowNs'], 'windowNs'),
    tracedNs: num(d['tracedNs'], 'tracedNs'),
    bursts: num(d['bursts'], 'bursts'),
    duty: num(d['duty'], 'duty'),
    calls: rows(d['calls'], 8, 'calls').map(([pid, nr, fd, result, count, timeNs, maxNs, blocked]) => ({
      pid: pid ?? 0,
      nr: nr ?? 0,
      fd: fd ?? -1,
      result: result ?? 0,
      count: count ?? 0,
      timeNs: timeNs ?? 0,
      maxNs: maxNs ?? 0,
      blocked: blocked ?? 0,
    })),
    inFlight: rows(d['inFlight'], 4, 'inFlight').map(([tid, nr, fd, elapsedNs]) => ({
      tid: tid ?? 0,
      nr: nr ?? 0,
      fd: fd ?? -1,
      elapsedNs: elapsedNs ?? 0,
    })),
    dropped: num(d['dropped'], 'dropped'),
  };
}

/** One call record per (pid, nr, fd, result): each carries its own time, so sums stay right. */
export function bpfRecords(o: BpfOutput, arch: Arch): CallRecord[] {
  return o.calls.map((c) => {
    const r: CallRecord = {
      pid: c.pid,
      name: syscallName(c.nr, arch),
      nr: c.nr,
      count: c.count,
      totalTimeNs: c.timeNs,
      maxTimeNs: c.maxNs,
      blockedCalls: c.blocked,
    };
    if (c.fd >= 0) r.fd = c.fd;
    if (c.result < 0) r.errno = errnoName(-c.result);
    else if (c.result === 0) r.zero = true;
    return r;
  });
}

export interface BpfTraceOptions extends TraceOptions {
  /** For tests and the bench: another helper binary, or other duty settings. */
  helper?: string;
  budget?: number;
  minDuty?: number;
  costNs?: number;
}

export async function bpfTrace(pids: number[], opts: BpfTraceOptions): Promise<SyscallProfile> {
  const arch = opts.arch ?? hostArch();
  const helper = opts.helper ?? BPF_HELPER;
  if (!existsSync(helper))
    throw new NotInstalledError(`${helper} (native helper not built: run npm install with a C compiler)`);
  if (!isRoot()) throw new NotPermittedError('procsleuth-bpfcount', 'loading BPF programs needs root');
  const tasks = new TaskMap(opts.procRoot ?? '/proc', pids);
  const startedAt = new Date().toISOString();
  let stdout = '';
  const res = await runTracer(
    bpfHelperArgv(helper, {
      pids,
      durationMs: opts.durationMs,
      arch,
      budget: opts.budget,
      minDuty: opts.minDuty,
      costNs: opts.costNs,
    }),
    {
      // The helper ends itself after the window and prints its counts on SIGINT too.
      signal: opts.signal,
      rawCapBytes: opts.rawCapBytes ?? 64 * 1024,
      hardTimeoutMs: opts.durationMs + 10_000,
      onStdoutLine: (l) => {
        stdout += `${l}\n`;
      },
    },
  );
  const err = res.stderrTail;
  if (!stdout.includes('"windowNs"')) {
    // Exit 77: the kernel refused (EPERM/EACCES): no BPF for us here, try the next backend.
    if (res.code === 77 || /Operation not permitted|Permission denied/.test(err))
      throw new NotPermittedError('procsleuth-bpfcount', firstLine(err));
    throw new TracerFailedError(
      'procsleuth-bpfcount',
      `no result (exit ${res.code ?? res.signal}): ${firstLine(err) || 'no output'}`,
    );
  }
  const out = parseBpfOutput(stdout);
  const builder = new ProfileBuilder(arch, true);
  for (const r of bpfRecords(out, arch)) builder.add(r);
  const tracedMs = out.tracedNs / 1e6;
  const windowMs = out.windowNs / 1e6;
  const notes: string[] = [];
  if (res.stoppedBy === 'abort') notes.push('trace interrupted before the end of the window');
  notes.push(
    `sampled: attached ${tracedMs.toFixed(0)} ms of ${windowMs.toFixed(0)} ms in ${out.bursts} burst(s) (${(100 * (windowMs > 0 ? tracedMs / windowMs : 0)).toFixed(1)}%); counts are of calls made while attached, rates per second attached (a lower bound: the process runs slower while attached)`,
  );
  notes.push(
    'a call is counted when it starts and ends within a burst; see inFlight for calls still waiting at the end',
  );
  if (out.dropped > 0) notes.push(`${out.dropped} calls lost: the kernel's table of call kinds was full`);
  const unknownFd = out.calls.filter((c) => c.fd === -2).reduce((n, c) => n + c.count, 0);
  if (unknownFd > 0) notes.push(`${unknownFd} calls on an fd whose number could not be read`);
  const inFlight: InFlightCall[] = out.inFlight.map((f) => {
    const c: InFlightCall = {
      pid: tasks.pidOf(f.tid) ?? f.tid,
      tid: f.tid,
      name: syscallName(f.nr, arch),
      nr: f.nr,
      elapsedNs: f.elapsedNs,
    };
    if (f.fd >= 0) c.fd = f.fd;
    return c;
  });
  const profile = builder.build({
    backend: 'bpf',
    unit: 'calls',
    pids,
    startedAt,
    durationMs: tracedMs,
    requestedDurationMs: opts.durationMs,
    overhead: BPF_OVERHEAD,
    notes,
    inFlight,
    raw: res.raw,
    rawTruncated: res.rawTruncated,
  });
  profile.sampling = {
    windowMs,
    tracedMs,
    bursts: out.bursts,
    duty: windowMs > 0 ? tracedMs / windowMs : 0,
    lastDuty: out.duty,
    budget: opts.budget ?? BPF_BUDGET,
  };
  return profile;
}

function firstLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  return lines.find((l) => l.startsWith('procsleuth-bpfcount:')) ?? lines.find((l) => l !== '') ?? '';
}
