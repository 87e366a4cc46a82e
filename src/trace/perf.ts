/**
 * perf trace backend: the kernel copies every syscall event of the traced threads into a ring
 * buffer that perf reads and decodes in user space; cheaper than ptrace, far dearer than counting in
 * the kernel (PERF_SLOWDOWN). Its decoded lines name the fd and what it is.
 *
 * `perf trace -p PID1,PID2` (perf-trace(1)) on stderr; with one pid the `comm/tid` column is left out,
 * and a call interrupted by another thread's event is split into a `...` line and a `[continued]` one:
 *
 *      1.694 ( 0.020 ms): busy-read/9830 read(fd: 11<socket:[16077]>, buf: 0x7ffe73327740, count: 64)    = -1 EAGAIN (Resource temporarily unavailable)
 *      8.850 (         ): busy-read/9830 read(fd: 11<socket:[16077]>, buf: 0x7ffe73327740, count: 64)       ...
 *      8.850 ( 0.023 ms): busy-read/9830  ... [continued]: read())                                             = -1 EAGAIN (Resource temporarily unavailable)
 */
import { NotPermittedError } from '../util/spawn.js';
import { ProfileBuilder, type CallRecord } from './profile-builder.js';
import { FD_SYSCALLS, hostArch, syscallNr } from './syscalls.js';
import { TaskMap } from './task-map.js';
import { ensureTracefs } from './tracefs.js';
import { TracerFailedError, isRoot, runTracer } from './tracer-process.js';
import type { SyscallProfile, TraceOptions, TracerOverhead } from './types.js';

/**
 * Traced/untraced syscall rate of a busy read() → EAGAIN loop, bench/tracer-overhead.ts: median
 * of 5 interleaved runs 75× unpinned (runs 51–129), 95× with loop and perf on separate CPUs, on a
 * 2-vCPU VM (kernel 6.18, perf 6.1, load average 7–11 from other work); earlier runs gave 57× and 148×.
 */
export const PERF_SLOWDOWN = 75;

export const PERF_OVERHEAD: TracerOverhead = {
  description:
    'perf trace: every syscall of the traced threads is copied to a ring buffer and decoded by perf; a busy syscall loop runs many times slower during the window',
  measuredSlowdown: PERF_SLOWDOWN,
};

export type PerfLine =
  | {
      kind: 'call';
      tid: number | undefined;
      name: string;
      fd?: number;
      fdTarget?: string;
      ret: string;
      errno?: string;
      timeNs?: number;
    }
  | { kind: 'pending'; tid: number | undefined; name: string; fd?: number; fdTarget?: string }
  | { kind: 'continued'; tid: number | undefined; name: string; ret: string; errno?: string; timeNs?: number }
  | { kind: 'other' };

const HEAD = /^\s*(?:\d+\.\d+|\?) \(\s*(?:(\d+)\.(\d+) ms)?\s*\): (.*)$/;
const RET = /\s+= (-?\d+|0x[0-9a-f]+|\?)(?: ([A-Z][A-Z0-9_]+))?(?: .*)?$/;

/** Parse one line of `perf trace` output; `other` for anything that is not a syscall event. */
export function parsePerfTraceLine(line: string): PerfLine {
  const h = HEAD.exec(line);
  if (!h) return { kind: 'other' };
  const timeNs =
    h[1] !== undefined && h[2] !== undefined
      ? Number(h[1]) * 1e6 + Number(h[2].padEnd(6, '0').slice(0, 6))
      : undefined;
  let body = h[3] ?? '';
  let tid: number | undefined;
  if (!/^(?:[a-z_][a-z0-9_]*\(| ?\.\.\. \[continued\])/.test(body)) {
    // `comm/tid ` — comm is at most 15 bytes and may itself hold '/' or spaces.
    const c = /^(.{1,16}?)\/(\d+) (.*)$/.exec(body);
    if (!c) return { kind: 'other' };
    tid = Number(c[2]);
    body = c[3] ?? '';
  }
  const cont = /^\s*\.\.\. \[continued\]: ([a-z_][a-z0-9_]*)\(\)\)(.*)$/.exec(body);
  if (cont) {
    const r = RET.exec(cont[2] ?? '');
    if (!r) return { kind: 'other' };
    return {
      kind: 'continued',
      tid,
      name: cont[1] ?? '',
      ...ret(r),
      ...(timeNs !== undefined ? { timeNs } : {}),
    };
  }
  const call = /^([a-z_][a-z0-9_]*)\((.*)$/.exec(body);
  if (!call) return { kind: 'other' };
  const name = call[1] ?? '';
  const rest = call[2] ?? '';
  const fdArg = FD_SYSCALLS.has(name) ? firstFd(rest) : {};
  if (/\)\s+\.\.\.\s*$/.test(rest)) return { kind: 'pending', tid, name, ...fdArg };
  const r = RET.exec(rest);
  if (!r) return { kind: 'other' };
  return { kind: 'call', tid, name, ...fdArg, ...ret(r), ...(timeNs !== undefined ? { timeNs } : {}) };
}

function firstFd(args: string): { fd?: number; fdTarget?: string } {
  const m = /^[a-z_]+: (\d+)(?:<([^>]*)>)?[,)]/.exec(args);
  if (!m) return {};
  const out: { fd?: number; fdTarget?: string } = { fd: Number(m[1]) };
  if (m[2] !== undefined) out.fdTarget = m[2];
  return out;
}

function ret(r: RegExpExecArray): { ret: string; errno?: string } {
  return r[2] !== undefined ? { ret: r[1] ?? '?', errno: r[2] } : { ret: r[1] ?? '?' };
}

/** Pairs `...` lines with their `[continued]` half per thread and emits call records. */
export class PerfFolder {
  private readonly pending = new Map<number, { name: string; fd?: number; fdTarget?: string }>();
  lines = 0;
  lost = 0;

  constructor(
    private readonly emit: (r: CallRecord) => void,
    private readonly pidOf: (tid: number) => number | undefined,
    private readonly defaultPid: number | undefined,
  ) {}

  line(text: string): void {
    if (text.trim() === '') return;
    this.lines++;
    const lost = /LOST (\d+) events/.exec(text);
    if (lost) this.lost += Number(lost[1]);
    const l = parsePerfTraceLine(text);
    if (l.kind === 'other') return;
    const tid = l.tid ?? this.defaultPid;
    if (tid === undefined) return;
    if (l.kind === 'pending') {
      const p: { name: string; fd?: number; fdTarget?: string } = { name: l.name };
      if (l.fd !== undefined) p.fd = l.fd;
      if (l.fdTarget !== undefined) p.fdTarget = l.fdTarget;
      this.pending.set(tid, p);
      return;
    }
    let fd: number | undefined;
    let fdTarget: string | undefined;
    if (l.kind === 'continued') {
      const p = this.pending.get(tid);
      this.pending.delete(tid);
      if (p !== undefined && p.name === l.name) ({ fd, fdTarget } = p);
    } else ({ fd, fdTarget } = l);
    if (l.ret === '?') return;
    const r: CallRecord = { pid: this.pidOf(tid) ?? tid, name: l.name };
    if (fd !== undefined) r.fd = fd;
    if (fdTarget !== undefined) r.fdTarget = fdTarget;
    if (l.errno !== undefined && l.ret.startsWith('-')) r.errno = l.errno;
    else if (l.ret === '0') r.zero = true;
    if (l.timeNs !== undefined) r.totalTimeNs = l.timeNs;
    this.emit(r);
  }

  unfinished(): { tid: number; name: string; fd?: number }[] {
    return [...this.pending.entries()].map(([tid, p]) => ({ tid, ...p }));
  }
}

export async function perfTrace(pids: number[], opts: TraceOptions): Promise<SyscallProfile> {
  const arch = opts.arch ?? hostArch();
  const notes: string[] = [];
  const tfs = await ensureTracefs(opts.sysRoot);
  if (tfs.note !== undefined) notes.push(tfs.note);
  const tasks = new TaskMap(opts.procRoot ?? '/proc', pids);
  const builder = new ProfileBuilder(arch, true);
  const folder = new PerfFolder(
    (r) => builder.add(r),
    (tid) => tasks.pidOf(tid),
    pids.length === 1 ? pids[0] : undefined,
  );
  const startedAt = new Date().toISOString();
  // A bigger ring buffer (4 MiB per CPU; root is not bound by perf_event_mlock_kb) loses fewer events
  // when perf falls behind a busy loop on a small machine; lost events made a whole worker vanish.
  const mmap = isRoot() ? ['-m', '1024'] : [];
  const res = await runTracer(['perf', 'trace', ...mmap, '-p', pids.join(',')], {
    durationMs: opts.durationMs,
    windowStartsOnOutputWithinMs: 2000,
    signal: opts.signal,
    rawCapBytes: opts.rawCapBytes ?? 64 * 1024,
    onStderrLine: (l) => folder.line(l),
  });
  if (builder.totalCalls === 0) {
    const err = res.stderrTail;
    if (/No permissions|Permission denied|perf_event_paranoid|Operation not permitted/i.test(err)) {
      throw new NotPermittedError(
        'perf',
        `${firstLine(err)} (needs root, CAP_PERFMON, or a lower kernel.perf_event_paranoid)`,
      );
    }
    if (res.code !== 0 && res.stoppedBy === 'exit') {
      throw new TracerFailedError(
        'perf',
        `exit ${res.code ?? res.signal}: ${err.trim().slice(-500)}${tfs.note ? `; ${tfs.note}` : ''}`,
      );
    }
  }
  if (res.stoppedBy === 'abort') notes.push('trace interrupted before the end of the window');
  if (folder.lost > 0)
    notes.push(`perf lost ${folder.lost} events (ring buffer overrun): counts are lower bounds`);
  return builder.build({
    backend: 'perf',
    unit: 'calls',
    pids,
    startedAt,
    durationMs: res.windowEndMs - res.windowStartMs,
    requestedDurationMs: opts.durationMs,
    overhead: PERF_OVERHEAD,
    notes,
    inFlight: folder.unfinished().map((u) => ({
      pid: tasks.pidOf(u.tid) ?? u.tid,
      tid: u.tid,
      name: u.name,
      nr: syscallNr(u.name, arch),
      ...(u.fd !== undefined ? { fd: u.fd } : {}),
    })),
    raw: res.raw,
    rawTruncated: res.rawTruncated,
  });
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}
