/**
 * strace backend: ptrace stops the traced thread twice per syscall, so it is the most expensive
 * (see STRACE_SLOWDOWN) but it decodes every call, so the fd of each call is known.
 *
 * Output of `strace -f -qq -T -e signal=none -p PID` on stderr (strace(1)); lines carry `[pid TID] `
 * once more than one thread is traced (with `-o FILE`, `TID  ` instead, also accepted):
 *
 *   [pid  9831] read(11, 0x7ffe73327740, 64) = -1 EAGAIN (Resource temporarily unavailable) <0.000013>
 *   [pid  9831] read(11, 0x7ffe73327740, 64 <unfinished ...>
 *   [pid  9831] <... read resumed>0x7ffe73327740, 64) = -1 EAGAIN (Resource temporarily unavailable) <0.000025>
 *
 * (`-o /dev/stdout` would always print the tid, but Node's stdio pipes are sockets, which cannot be
 * opened through /proc/self/fd.) A line without a tid comes from the only traced thread.
 * Lines are parsed as they arrive, so the volume held in memory is one line plus the counters.
 */
import { ParseError } from '../util/errors.js';
import { NotPermittedError } from '../util/spawn.js';
import { ProfileBuilder, type CallRecord } from './profile-builder.js';
import { FD_SYSCALLS, hostArch, syscallNr } from './syscalls.js';
import { TaskMap } from './task-map.js';
import { TracerFailedError, runTracer } from './tracer-process.js';
import type { InFlightCall, SyscallProfile, TraceOptions, TracerOverhead } from './types.js';

/**
 * Traced/untraced syscall rate of a busy read() → EAGAIN loop, bench/tracer-overhead.ts: median
 * of 5 interleaved runs 58× unpinned (runs 54–101), 330× with loop and strace+parser on separate CPUs
 * (the parser then has one CPU shared with strace and waits stall the tracee), on a 2-vCPU Firecracker
 * VM, kernel 6.18, strace 6.1 with `-f -qq -T`, its output parsed by us as it comes; earlier runs 31×, 86×.
 */
export const STRACE_SLOWDOWN = 58;

export const STRACE_OVERHEAD: TracerOverhead = {
  description:
    'ptrace: the traced threads stop at every syscall entry and exit while strace decodes it; a busy syscall loop runs many times slower during the window',
  measuredSlowdown: STRACE_SLOWDOWN,
};

export type StraceLine =
  | {
      kind: 'call';
      tid: number | undefined;
      name: string;
      /** The first argument when it is a plain fd (fd-taking syscalls only). */
      fd?: number;
      fdTarget?: string;
      /** The return value as printed (`-1`, `0`, `3`, `0x7f…`, `?`). */
      ret: string;
      errno?: string;
      timeNs?: number;
    }
  | { kind: 'unfinished'; tid: number | undefined; name: string; fd?: number; fdTarget?: string }
  | { kind: 'resumed'; tid: number | undefined; name: string; ret: string; errno?: string; timeNs?: number }
  | { kind: 'other'; tid: number | undefined };

const PREFIX = /^(?:(\d+) +|\[pid +(\d+)\] )?/;
const RESULT = /\)\s+= (\?|-?\d+|0x[0-9a-f]+)(?: ([A-Z][A-Z0-9_]+))?(?: \(.*\))?(?: <(\d+)\.(\d+)>)?\s*$/;

/** Parse one line of strace output; `other` for signals, exits and strace's own messages. */
export function parseStraceLine(line: string): StraceLine {
  const pm = PREFIX.exec(line);
  const tidText = pm?.[1] ?? pm?.[2];
  const tid = tidText !== undefined ? Number(tidText) : undefined;
  const rest = line.slice(pm?.[0].length ?? 0);
  if (rest.startsWith('<... ')) {
    const m = /^<\.\.\. ([a-z0-9_]+) resumed>/.exec(rest);
    if (!m) throw new ParseError('bad "resumed" line', { token: line });
    const r = RESULT.exec(rest);
    if (!r) return { kind: 'other', tid }; // resumed and unfinished again, or cut off
    return { kind: 'resumed', tid, name: m[1] ?? '', ...result(r) };
  }
  const m = /^([a-z_][a-z0-9_]*)\(/.exec(rest);
  if (!m) return { kind: 'other', tid }; // "--- SIGINT …", "+++ exited …", "strace: …"
  const name = m[1] ?? '';
  const args = rest.slice(m[0].length);
  const fdArg = FD_SYSCALLS.has(name) ? firstFd(args) : undefined;
  if (/ <unfinished \.\.\.>\s*$/.test(rest)) return { kind: 'unfinished', tid, name, ...fdArg };
  const r = RESULT.exec(rest);
  if (!r) {
    // Cut off mid-line (strace killed while writing): not a whole call, not worth an error.
    return { kind: 'other', tid };
  }
  return { kind: 'call', tid, name, ...fdArg, ...result(r) };
}

function firstFd(args: string): { fd?: number; fdTarget?: string } {
  // `11, …`, `11<socket:[16077]>, …` (with -y), or AT_FDCWD/NULL for some calls.
  const m = /^(\d+)(?:<([^>]*)>)?[,)]/.exec(args);
  if (!m) return {};
  const out: { fd?: number; fdTarget?: string } = { fd: Number(m[1]) };
  if (m[2] !== undefined) out.fdTarget = m[2];
  return out;
}

function result(r: RegExpExecArray): { ret: string; errno?: string; timeNs?: number } {
  const out: { ret: string; errno?: string; timeNs?: number } = { ret: r[1] ?? '?' };
  if (r[2] !== undefined) out.errno = r[2];
  if (r[3] !== undefined && r[4] !== undefined) {
    out.timeNs = Number(r[3]) * 1e9 + Number(r[4].padEnd(9, '0').slice(0, 9));
  }
  return out;
}

/**
 * Folds a stream of strace lines into call records, pairing `<unfinished ...>` with its
 * `<... resumed>` per thread so the resumed half keeps the fd.
 */
export class StraceFolder {
  private readonly pending = new Map<number, { name: string; fd?: number; fdTarget?: string }>();
  lines = 0;
  badLines = 0;

  constructor(
    private readonly emit: (r: CallRecord) => void,
    private readonly pidOf: (tid: number) => number | undefined,
    private readonly defaultPid: number | undefined,
  ) {}

  line(text: string): void {
    if (text === '') return;
    this.lines++;
    let l: StraceLine;
    try {
      l = parseStraceLine(text);
    } catch {
      this.badLines++;
      return;
    }
    if (l.kind === 'other') return;
    const tid = l.tid ?? this.defaultPid;
    if (tid === undefined) return;
    if (l.kind === 'unfinished') {
      const p: { name: string; fd?: number; fdTarget?: string } = { name: l.name };
      if (l.fd !== undefined) p.fd = l.fd;
      if (l.fdTarget !== undefined) p.fdTarget = l.fdTarget;
      this.pending.set(tid, p);
      return;
    }
    let fd: number | undefined;
    let fdTarget: string | undefined;
    if (l.kind === 'resumed') {
      const p = this.pending.get(tid);
      this.pending.delete(tid);
      if (p !== undefined && p.name === l.name) ({ fd, fdTarget } = p);
    } else ({ fd, fdTarget } = l);
    const pid = this.pidOf(tid) ?? tid;
    // `= ?` is a call that never returned (exit, or strace detached mid-call): no result to count.
    if (l.ret === '?') return;
    const r: CallRecord = { pid, name: l.name };
    if (fd !== undefined) r.fd = fd;
    if (fdTarget !== undefined) r.fdTarget = fdTarget;
    if (l.errno !== undefined && l.ret.startsWith('-')) r.errno = l.errno;
    else if (l.ret === '0') r.zero = true;
    if (l.timeNs !== undefined) r.totalTimeNs = l.timeNs;
    this.emit(r);
  }

  /** Calls still waiting when the trace ended. */
  unfinished(): { tid: number; name: string; fd?: number }[] {
    return [...this.pending.entries()].map(([tid, p]) => ({ tid, ...p }));
  }
}

export async function straceTrace(pids: number[], opts: TraceOptions): Promise<SyscallProfile> {
  const arch = opts.arch ?? hostArch();
  const procRoot = opts.procRoot ?? '/proc';
  const tasks = new TaskMap(procRoot, pids);
  const builder = new ProfileBuilder(arch, true);
  const folder = new StraceFolder(
    (r) => builder.add(r),
    (tid) => tasks.pidOf(tid),
    pids.length === 1 ? pids[0] : undefined,
  );
  const startedAt = new Date().toISOString();
  const argv = ['strace', '-f', '-qq', '-T', '-e', 'signal=none', ...pids.flatMap((p) => ['-p', String(p)])];
  const res = await runTracer(argv, {
    durationMs: opts.durationMs,
    windowStartsOnOutputWithinMs: 1000,
    signal: opts.signal,
    rawCapBytes: opts.rawCapBytes ?? 64 * 1024,
    onStderrLine: (l) => folder.line(l),
  });
  const attachErr = /strace: attach: ptrace\(PTRACE_SEIZE, \d+\): (.*)/.exec(res.stderrTail);
  if (attachErr && builder.totalCalls === 0) {
    const why = attachErr[1] ?? '';
    if (/not permitted/i.test(why))
      throw new NotPermittedError('strace', `${why.trim()} (needs root or CAP_SYS_PTRACE)`);
    throw new TracerFailedError('strace', why.trim());
  }
  if (builder.totalCalls === 0 && res.code !== 0 && res.stoppedBy === 'exit') {
    throw new TracerFailedError(
      'strace',
      `exit ${res.code ?? res.signal}: ${res.stderrTail.trim().slice(-500)}`,
    );
  }
  const notes: string[] = [];
  if (res.stoppedBy === 'abort') notes.push('trace interrupted before the end of the window');
  if (folder.badLines > 0)
    notes.push(`${folder.badLines} of ${folder.lines} strace lines could not be parsed`);
  // Calls strace saw start but not end: cut by the detach, or still waiting (no elapsed time known).
  const inFlight: InFlightCall[] = folder.unfinished().map((u) => {
    const c: InFlightCall = {
      pid: tasks.pidOf(u.tid) ?? u.tid,
      tid: u.tid,
      name: u.name,
      nr: syscallNr(u.name, arch),
    };
    if (u.fd !== undefined) c.fd = u.fd;
    return c;
  });
  return builder.build({
    backend: 'strace',
    unit: 'calls',
    pids,
    startedAt,
    durationMs: res.windowEndMs - res.windowStartMs,
    requestedDurationMs: opts.durationMs,
    overhead: STRACE_OVERHEAD,
    notes,
    inFlight,
    raw: res.raw,
    rawTruncated: res.rawTruncated,
  });
}
