/**
 * The syscall profile: what the hot processes asked the kernel for during a short window, per
 * syscall and per fd, with errors by errno name and (where the backend can) time spent in the call.
 *
 * Every backend fills the same shape so the rules need not know which tracer ran, but backends differ
 * in what they can see, and the profile says so instead of inventing numbers:
 * - `unit: 'calls'` (bpf, bpftrace, perf, strace): counts are syscalls made. `unit: 'samples'` (proc):
 *   counts are how often a thread was *found* in that syscall; the kernel only shows the syscall of a
 *   thread that is asleep, so a busy poller that never sleeps appears as `running` in `procSampling`.
 * - Optional fields are undefined when the backend cannot measure them, never 0.
 *
 * The `busy-poll` rule reads: per fd, `calls[].errors.EAGAIN` and `zeroReturns` against `count`, and
 * `blockedCalls`/`maxTimeNs` to tell "never blocked" from "sometimes waits"; for the proc backend,
 * `procSampling.threads[].runningSamples` and `systemTimeShare`, and `procSampling.perPid[].readSyscallsPerSec`.
 */

export type TracerName = 'bpf' | 'bpftrace' | 'perf' | 'strace' | 'proc';

/** The order `traceWithFallback` tries them in: cheapest for the traced process first. */
export const TRACER_ORDER: readonly TracerName[] = ['bpf', 'bpftrace', 'perf', 'strace', 'proc'];

export type Arch = 'x86_64' | 'aarch64';

/** Errno name (e.g. `EAGAIN`, or `E523` for a number we have no name for) → how many calls failed with it. */
export type ErrnoCounts = Record<string, number>;

/** A call slower than this is counted as having blocked (slept waiting for something). */
export const BLOCKED_THRESHOLD_NS = 1_000_000;

export interface CallStats {
  count: number;
  /** Failed calls by errno name. A call that failed is counted in `count` too. */
  errors: ErrnoCounts;
  /**
   * Calls that returned 0. For poll/select/epoll_wait that is "nothing ready" (returned at once with
   * a zero timeout, or timed out); for read/recv it is end of file.
   */
  zeroReturns: number;
  /** Sum of time spent inside the call; undefined when the backend does not time calls. */
  totalTimeNs?: number;
  maxTimeNs?: number;
  /** Calls that took at least BLOCKED_THRESHOLD_NS; undefined when the backend does not time calls. */
  blockedCalls?: number;
}

export interface SyscallStat extends CallStats {
  name: string;
  /** Undefined when the backend reported a name the table for this arch does not know. */
  nr: number | undefined;
  ratePerSec: number;
}

export interface FdCall extends CallStats {
  name: string;
}

export interface FdProfile {
  pid: number;
  fd: number;
  /** What the tracer printed for the fd (perf: `socket:[16079]`), when it printed something. */
  target?: string;
  totalCalls: number;
  ratePerSec: number;
  /** Most frequent first. */
  calls: FdCall[];
  /** Time spent in calls on this fd; undefined when the backend does not time calls. */
  totalTimeNs?: number;
  /** Calls on this fd slower than BLOCKED_THRESHOLD_NS; undefined when not timed. */
  blockedCalls?: number;
}

export interface PidProfile {
  pid: number;
  totalCalls: number;
  ratePerSec: number;
  /** Most frequent first. */
  syscalls: SyscallStat[];
}

/** A syscall still in progress when the window closed: the thread was waiting in it. */
export interface InFlightCall {
  pid: number;
  tid: number;
  name: string;
  nr: number | undefined;
  fd?: number;
  /** How long it had been in the call when the window closed. */
  elapsedNs?: number;
}

export interface ThreadSamples {
  pid: number;
  tid: number;
  samples: number;
  /** Found runnable (state R): in user space or inside a syscall, the kernel does not say which. */
  runningSamples: number;
  /** Found asleep (S, D, …) inside a syscall; by syscall and fd. */
  inSyscall: { name: string; nr: number; fd?: number; samples: number }[];
  /** Wait channels seen while asleep, by kernel function name. */
  wchan: Record<string, number>;
  /** CPU time over the window from /proc/PID/task/TID/stat. */
  utimeTicks?: number;
  stimeTicks?: number;
  /** stime / (utime + stime) over the window: near 1 means the thread lives in syscalls. */
  systemTimeShare?: number;
}

export interface ProcSampling {
  intervalMs: number;
  rounds: number;
  threads: ThreadSamples[];
  perPid: {
    pid: number;
    /** /proc/PID/io `syscr`/`syscw` deltas: read-class and write-class syscalls, failed ones included. */
    readSyscallsPerSec?: number;
    writeSyscallsPerSec?: number;
    /** fds opened O_NONBLOCK (from fdinfo): the candidates for a busy poll the sampler cannot see. */
    nonBlockingFds?: number[];
  }[];
}

export interface TracerOverhead {
  /** What the tracer costs the traced process, in words. */
  description: string;
  /** Traced time / untraced time of a busy syscall loop, measured by bench/tracer-overhead.ts. */
  measuredSlowdown?: number;
}

export interface BackendAttempt {
  backend: TracerName;
  outcome: 'used' | 'skipped' | 'failed';
  /** Error code (TRACER_NOT_INSTALLED, TRACER_NOT_PERMITTED, TRACER_FAILED …) when not used. */
  code?: string;
  reason?: string;
}

/**
 * The bpf backend traces in bursts (see src/trace/bpf.ts): counts and times are of the calls made
 * while attached, `durationMs` is the time attached, and rates are per second of that time.
 */
export interface TraceSampling {
  /** Wall time from the first attach to the end of the window. */
  windowMs: number;
  /** Time attached, summed over the bursts (= the profile's durationMs). */
  tracedMs: number;
  bursts: number;
  /** tracedMs / windowMs. */
  duty: number;
  /** The share of time the helper chose for the last period, from the traced processes' call rate. */
  lastDuty: number;
  /** The average cost to the busiest traced process the duty was chosen for (0.05 = 5%). */
  budget: number;
}

export interface SyscallProfile {
  backend: TracerName;
  unit: 'calls' | 'samples';
  arch: Arch;
  pids: number[];
  startedAt: string;
  /** The window actually traced (shorter than asked when aborted). */
  durationMs: number;
  requestedDurationMs: number;
  overhead: TracerOverhead;
  blockedThresholdNs: number;
  totalCalls: number;
  /** Most frequent first, summed over all pids. */
  syscalls: SyscallStat[];
  /** Most frequent first. */
  fds: FdProfile[];
  perPid: PidProfile[];
  inFlight?: InFlightCall[];
  procSampling?: ProcSampling;
  sampling?: TraceSampling;
  /** The tracer's own output, capped at `rawCapBytes`. */
  raw?: string;
  rawTruncated?: boolean;
  /** What was tried before this backend, and why it was passed over (set by traceWithFallback). */
  attempts?: BackendAttempt[];
  notes: string[];
}

export interface TraceOptions {
  durationMs: number;
  signal?: AbortSignal;
  procRoot?: string;
  sysRoot?: string;
  arch?: Arch;
  /** How much of the tracer's output to keep in `raw` (default 64 KiB; 0 keeps none). */
  rawCapBytes?: number;
  /**
   * Time each call where that costs the traced process extra (bpftrace: attach sys_enter too).
   * strace and perf always time; proc never can.
   */
  timed?: boolean;
}

export type TraceBackend = (pids: number[], opts: TraceOptions) => Promise<SyscallProfile>;
