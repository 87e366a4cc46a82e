/**
 * bpftrace backend: counts in the kernel. A BPF program on the raw_syscalls:sys_enter/sys_exit
 * tracepoints (kprobes may be disabled; tracepoints are not) keeps, per (pid, syscall, fd, result),
 * a count, the time spent and the slowest call, in BPF maps; nothing crosses to user space per call.
 * bpftrace prints the maps once at the end with `-f json` (bpftrace(8)), one JSON object per line:
 *
 *   {"type": "attached_probes", "data": {"probes": 4}}
 *   {"type": "map", "data": {"@calls": {"7984,0,11,-11": 198851}}}
 *   {"type": "map", "data": {"@end_ns": 1140005079086}}
 *
 * Map keys are the tuple joined with commas; result -11 is -EAGAIN, 0 is "returned 0", 1 "returned > 0".
 */
import { ParseError } from '../util/errors.js';
import { NotPermittedError } from '../util/spawn.js';
import { ProfileBuilder, type CallRecord } from './profile-builder.js';
import { errnoName, fdSyscallNrs, hostArch, syscallName } from './syscalls.js';
import { TaskMap } from './task-map.js';
import { ensureTracefs } from './tracefs.js';
import { TracerFailedError, isRoot, runTracer } from './tracer-process.js';
import {
  BLOCKED_THRESHOLD_NS,
  type Arch,
  type InFlightCall,
  type SyscallProfile,
  type TraceOptions,
  type TracerOverhead,
} from './types.js';

/**
 * Traced/untraced syscall rate of a busy read() → EAGAIN loop, bench/tracer-overhead.ts, medians
 * of 5 interleaved runs on a 2-vCPU Firecracker VM (kernel 6.18, bpftrace 0.17, load average 7–11 from
 * other work): counts mode 2.3× unpinned (2.4× with loop and tracer on separate CPUs), timed mode 5.1×
 * (5.8× pinned). An empty bpftrace program on sys_exit alone costs 2.1× unpinned, 1.45× pinned:
 * bpftrace's `tracepoint:` goes through perf (perf_syscall_exit fills a perf record per call before
 * running the program), on top of the syscall slow path every task takes while any syscall tracepoint
 * has a probe. The default `bpf` backend avoids both the perf layer (raw tracepoints) and most of the
 * slow-path cost (it attaches in bursts).
 */
export const BPFTRACE_SLOWDOWN = 2.3;
export const BPFTRACE_TIMED_SLOWDOWN = 5.1;

export const BPFTRACE_OVERHEAD: TracerOverhead = {
  description:
    'BPF on the sys_exit tracepoint, counting in kernel maps: every syscall of every process pays the tracepoint, the traced ones a map update; nothing is copied to user space per call',
  measuredSlowdown: BPFTRACE_SLOWDOWN,
};

export const BPFTRACE_TIMED_OVERHEAD: TracerOverhead = {
  description:
    'BPF on the sys_enter and sys_exit tracepoints, timing and counting in kernel maps: every syscall pays two tracepoints, the traced ones several map updates; nothing is copied to user space per call',
  measuredSlowdown: BPFTRACE_TIMED_SLOWDOWN,
};

export type BpftraceMode = 'counts' | 'timed';

// Where the syscall's saved user registers are: task_pt_regs() is the top of the kernel stack
// (THREAD_SIZE 16 KiB without KASAN) minus one pt_regs. The syscall number saved there must equal the
// tracepoint's, else the layout is not what we assumed (KASAN, FRED padding) and the fd is reported
// as unknown (-2) rather than guessed.
const REGS: Record<Arch, { nr: string; arg0: string }> = {
  x86_64: { nr: 'orig_ax', arg0: 'di' },
  aarch64: { nr: 'syscallno', arg0: 'orig_x0' },
};

/**
 * The bpftrace program for these pids. Pids are numbers we validated, never text from elsewhere.
 * `counts` attaches only sys_exit and reads the fd from the saved registers (half the tracepoint
 * cost, no per-thread maps, no timing); `timed` also attaches sys_enter to time each call.
 */
export function bpftraceProgram(
  pids: readonly number[],
  durationMs: number,
  arch: Arch,
  mode: BpftraceMode = 'counts',
): string {
  if (pids.length === 0) throw new TypeError('no pids');
  for (const p of pids) if (!Number.isSafeInteger(p) || p <= 0) throw new TypeError(`bad pid ${p}`);
  const ms = Math.max(1, Math.round(durationMs));
  const pidFilter = pids.map((p) => `pid == ${p}`).join(' || ');
  // A set in a map: one lookup per call. An `||` chain of ~65 comparisons fails the verifier.
  const fdSet = fdSyscallNrs(arch)
    .map((nr) => `@fd_call[${nr}] = 1;`)
    .join(' ');
  const regs = REGS[arch];
  // Printing a map the program never assigns is an error in bpftrace, so the list follows the mode.
  const maps = [
    '@calls',
    ...(mode === 'timed' ? ['@time_ns', '@max_ns', '@blocked', '@enter_ts', '@enter_nr', '@enter_fd'] : []),
    '@start_ns',
    '@stop_ns',
    '@end_ns',
  ];
  const probes =
    mode === 'counts'
      ? `
tracepoint:raw_syscalls:sys_exit /${pidFilter}/ {
  $fd = -1;
  if (@fd_call[args->id]) {
    $regs = (struct pt_regs *)((uint64)curtask->stack + 16384 - sizeof(struct pt_regs));
    $fd = (int64)$regs->${regs.nr} == args->id ? (int64)($regs->${regs.arg0} & 0xffffffff) : -2;
  }
  $r = args->ret < 0 ? args->ret : (args->ret == 0 ? 0 : 1);
  @calls[pid, args->id, $fd, $r] = count();
}
`
      : timedProbes(pidFilter);
  return `
BEGIN { ${fdSet} }
${probes}
// Last in the program so it is attached after the tracepoints (attaching them can take seconds, and
// BEGIN runs before any attach): the window is timed from its first tick.
interval:ms:10 {
  if (@start_ns == 0) { @start_ns = nsecs; }
  if ((int64)(nsecs - @start_ns) >= ${ms * 1_000_000}) { @stop_ns = nsecs; exit(); }
}

END {
  @end_ns = nsecs;
  if (@stop_ns == 0) { @stop_ns = nsecs; }
  ${maps.map((m) => `print(${m});`).join(' ')}
  ${[...maps, '@fd_call'].map((m) => `clear(${m});`).join(' ')}
}
`;
}

function timedProbes(pidFilter: string): string {
  return `
tracepoint:raw_syscalls:sys_enter /${pidFilter}/ {
  @enter_ts[tid] = nsecs;
  @enter_nr[tid] = args->id;
  @enter_fd[tid] = -1;
  if (@fd_call[args->id]) { @enter_fd[tid] = (int64)(args->args[0] & 0xffffffff); }
}

tracepoint:raw_syscalls:sys_exit /(${pidFilter}) && @enter_ts[tid]/ {
  $d = nsecs - @enter_ts[tid];
  $fd = @enter_fd[tid];
  $r = args->ret < 0 ? args->ret : (args->ret == 0 ? 0 : 1);
  @calls[pid, args->id, $fd, $r] = count();
  @time_ns[pid, args->id, $fd] = sum($d);
  @max_ns[pid, args->id, $fd] = max($d);
  if ($d >= ${BLOCKED_THRESHOLD_NS}) { @blocked[pid, args->id, $fd] = count(); }
  delete(@enter_ts[tid]);
  delete(@enter_nr[tid]);
  delete(@enter_fd[tid]);
}

`;
}

export interface BpftraceOutput {
  calls: { pid: number; nr: number; fd: number; result: number; count: number }[];
  /** Keyed `pid,nr,fd`. */
  timeNs: Map<string, number>;
  maxNs: Map<string, number>;
  blocked: Map<string, number>;
  inFlight: { tid: number; nr: number | undefined; fd: number | undefined; enterNs: number }[];
  /** First tick after attach; the window's end (exit() or SIGINT); END, after the probes detached. */
  startNs: number | undefined;
  stopNs: number | undefined;
  endNs: number | undefined;
  attachedProbes: number | undefined;
  /** Lines that were not JSON (bpftrace's warnings and errors go to stderr, but be safe). */
  other: string[];
}

/** Parse `bpftrace -f json` output of bpftraceProgram. */
export function parseBpftraceJson(text: string): BpftraceOutput {
  const out: BpftraceOutput = {
    calls: [],
    timeNs: new Map(),
    maxNs: new Map(),
    blocked: new Map(),
    inFlight: [],
    startNs: undefined,
    stopNs: undefined,
    endNs: undefined,
    attachedProbes: undefined,
    other: [],
  };
  const enterTs = new Map<number, number>();
  const enterNr = new Map<number, number>();
  const enterFd = new Map<number, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    if (!line.startsWith('{')) {
      out.other.push(line);
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (err) {
      throw new ParseError('bad JSON from bpftrace', { line: i + 1, token: line }, { cause: err });
    }
    if (!isObj(doc)) throw new ParseError('bpftrace JSON is not an object', { line: i + 1, token: line });
    const data = doc['data'];
    if (doc['type'] === 'attached_probes' && isObj(data) && typeof data['probes'] === 'number') {
      out.attachedProbes = data['probes'];
      continue;
    }
    if (doc['type'] !== 'map' || !isObj(data)) continue;
    for (const [name, value] of Object.entries(data)) {
      const where = { line: i + 1, token: name };
      if (name === '@start_ns' || name === '@stop_ns' || name === '@end_ns') {
        if (typeof value !== 'number') throw new ParseError(`${name} is not a number`, where);
        if (name === '@start_ns') out.startNs = value;
        else if (name === '@stop_ns') out.stopNs = value;
        else out.endNs = value;
        continue;
      }
      if (!isObj(value)) throw new ParseError(`${name} is not a map`, where);
      for (const [key, v] of Object.entries(value)) {
        if (typeof v !== 'number' || !Number.isFinite(v))
          throw new ParseError(`${name}[${key}] is not a number`, { line: i + 1, token: key });
        const k = key.split(',').map((s) => Number(s));
        if (k.some((n) => !Number.isFinite(n)))
          throw new ParseError(`bad key in ${name}`, { line: i + 1, token: key });
        switch (name) {
          case '@calls': {
            const [pid, nr, fd, result] = k;
            if (result === undefined || k.length !== 4)
              throw new ParseError('@calls key needs pid,nr,fd,result', { line: i + 1, token: key });
            out.calls.push({ pid: pid ?? 0, nr: nr ?? 0, fd: fd ?? -1, result, count: v });
            break;
          }
          case '@time_ns':
          case '@max_ns':
          case '@blocked': {
            if (k.length !== 3)
              throw new ParseError(`${name} key needs pid,nr,fd`, { line: i + 1, token: key });
            const m = name === '@time_ns' ? out.timeNs : name === '@max_ns' ? out.maxNs : out.blocked;
            m.set(k.join(','), v);
            break;
          }
          case '@enter_ts':
            enterTs.set(k[0] ?? 0, v);
            break;
          case '@enter_nr':
            enterNr.set(k[0] ?? 0, v);
            break;
          case '@enter_fd':
            enterFd.set(k[0] ?? 0, v);
            break;
          default:
            break; // a map we did not ask for: ignore, do not guess
        }
      }
    }
  }
  for (const [tid, ts] of enterTs) {
    const fd = enterFd.get(tid);
    out.inFlight.push({
      tid,
      nr: enterNr.get(tid),
      fd: fd !== undefined && fd >= 0 ? fd : undefined,
      enterNs: ts,
    });
  }
  return out;
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Turn the parsed maps into call records (time is attached once per pid/nr/fd so sums stay right).
 * fd -1: not an fd syscall; -2: fd-taking but the registers could not be read (treated as no fd).
 */
export function bpftraceRecords(o: BpftraceOutput, arch: Arch, timed: boolean): CallRecord[] {
  const seen = new Set<string>();
  return o.calls.map((c) => {
    const k = `${c.pid},${c.nr},${c.fd}`;
    const first = !seen.has(k);
    seen.add(k);
    const r: CallRecord = { pid: c.pid, name: syscallName(c.nr, arch), nr: c.nr, count: c.count };
    if (c.fd >= 0) r.fd = c.fd;
    if (c.result < 0) r.errno = errnoName(-c.result);
    else if (c.result === 0) r.zero = true;
    if (timed) {
      r.totalTimeNs = first ? (o.timeNs.get(k) ?? 0) : 0;
      r.maxTimeNs = first ? (o.maxNs.get(k) ?? 0) : 0;
      r.blockedCalls = first ? (o.blocked.get(k) ?? 0) : 0;
    }
    return r;
  });
}

export async function bpftraceTrace(pids: number[], opts: TraceOptions): Promise<SyscallProfile> {
  const arch = opts.arch ?? hostArch();
  if (!isRoot()) throw new NotPermittedError('bpftrace', 'loading BPF programs needs root');
  const notes: string[] = [];
  const tfs = await ensureTracefs(opts.sysRoot);
  if (tfs.note !== undefined) notes.push(tfs.note);
  if (tfs.path === undefined)
    throw new TracerFailedError('bpftrace', `no syscall tracepoints: ${tfs.note ?? 'tracefs missing'}`);
  const tasks = new TaskMap(opts.procRoot ?? '/proc', pids);
  const startedAt = new Date().toISOString();
  let stdout = '';
  const mode: BpftraceMode = opts.timed ? 'timed' : 'counts';
  const res = await runTracer(
    ['bpftrace', '-f', 'json', '-e', bpftraceProgram(pids, opts.durationMs, arch, mode)],
    {
      // The program ends itself after the window; the hard timeout covers compile and attach time.
      signal: opts.signal,
      rawCapBytes: opts.rawCapBytes ?? 64 * 1024,
      hardTimeoutMs: opts.durationMs + 30_000,
      onStdoutLine: (l) => {
        stdout += `${l}\n`;
      },
    },
  );
  const err = res.stderrTail;
  if (
    /only supports running as the root user|Operation not permitted|Permission denied/i.test(err) &&
    !stdout.includes('"@')
  ) {
    throw new NotPermittedError('bpftrace', firstError(err));
  }
  const parsed = parseBpftraceJson(stdout);
  if (parsed.endNs === undefined) {
    throw new TracerFailedError(
      'bpftrace',
      `no result (exit ${res.code ?? res.signal}): ${firstError(err) || 'no output'}`,
    );
  }
  if (/RLIMIT_MEMLOCK/.test(err))
    notes.push(
      'bpftrace could not raise RLIMIT_MEMLOCK (harmless on kernels ≥ 5.11, which account BPF memory to the cgroup)',
    );
  if (res.stoppedBy === 'abort') notes.push('trace interrupted before the end of the window');
  const builder = new ProfileBuilder(arch, mode === 'timed');
  for (const r of bpftraceRecords(parsed, arch, mode === 'timed')) builder.add(r);
  const unknownFd = parsed.calls.filter((c) => c.fd === -2).reduce((n, c) => n + c.count, 0);
  if (unknownFd > 0)
    notes.push(
      `${unknownFd} calls on an fd whose number could not be read from the saved registers (unexpected kernel stack layout); rerun with timing to read it at syscall entry`,
    );
  // Aborted before the first tick: nothing was attached long enough to time, call it 0.
  const durationMs =
    parsed.startNs !== undefined && parsed.startNs > 0
      ? ((parsed.stopNs ?? parsed.endNs) - parsed.startNs) / 1e6
      : 0;
  const inFlight: InFlightCall[] = parsed.inFlight.map((f) => {
    const c: InFlightCall = {
      pid: tasks.pidOf(f.tid) ?? f.tid,
      tid: f.tid,
      name: f.nr !== undefined ? syscallName(f.nr, arch) : '?',
      nr: f.nr,
    };
    if (f.fd !== undefined) c.fd = f.fd;
    const end = parsed.stopNs ?? parsed.endNs;
    if (end !== undefined) c.elapsedNs = Math.max(0, end - f.enterNs);
    return c;
  });
  if (mode === 'timed')
    notes.push(
      'calls already in progress when the probes attached are not counted; see inFlight for calls still waiting at the end',
    );
  else
    notes.push(
      'calls are counted, not timed (cheapest mode); time in syscall needs the timed mode, which also attaches sys_enter',
    );
  return builder.build({
    backend: 'bpftrace',
    unit: 'calls',
    pids,
    startedAt,
    durationMs,
    requestedDurationMs: opts.durationMs,
    overhead: mode === 'timed' ? BPFTRACE_TIMED_OVERHEAD : BPFTRACE_OVERHEAD,
    notes,
    ...(mode === 'timed' ? { inFlight } : {}),
    raw: res.raw,
    rawTruncated: res.rawTruncated,
  });
}

function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  return lines.find((l) => /ERROR/.test(l) && !/RLIMIT_MEMLOCK/.test(l)) ?? lines.find((l) => l !== '') ?? '';
}
