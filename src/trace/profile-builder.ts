/**
 * Folds call records from any backend into a SyscallProfile. Backends that aggregate in the kernel
 * (bpftrace) add one record per (pid, syscall, fd, result) with its count; line-by-line backends add
 * one record per call. Either way the profile has the same shape.
 */
import { canonicalErrno, syscallNr } from './syscalls.js';
import {
  BLOCKED_THRESHOLD_NS,
  type Arch,
  type CallStats,
  type FdProfile,
  type InFlightCall,
  type PidProfile,
  type SyscallProfile,
  type SyscallStat,
  type TracerName,
  type TracerOverhead,
} from './types.js';

export interface CallRecord {
  pid: number;
  name: string;
  nr?: number;
  fd?: number;
  /** How the tracer named the fd (`socket:[123]`), if it did. */
  fdTarget?: string;
  /** Errno name when the call failed. */
  errno?: string;
  /** The call returned 0. */
  zero?: boolean;
  /** How many calls this record stands for (default 1). */
  count?: number;
  totalTimeNs?: number;
  maxTimeNs?: number;
  blockedCalls?: number;
}

interface Acc extends CallStats {
  nr: number | undefined;
}

function newAcc(nr: number | undefined, timed: boolean): Acc {
  const a: Acc = { nr, count: 0, errors: {}, zeroReturns: 0 };
  if (timed) {
    a.totalTimeNs = 0;
    a.maxTimeNs = 0;
    a.blockedCalls = 0;
  }
  return a;
}

function addTo(a: Acc, r: CallRecord, n: number): void {
  a.count += n;
  if (r.errno !== undefined) {
    const e = canonicalErrno(r.errno);
    a.errors[e] = (a.errors[e] ?? 0) + n;
  } else if (r.zero) a.zeroReturns += n;
  if (a.totalTimeNs !== undefined) {
    a.totalTimeNs += r.totalTimeNs ?? 0;
    a.maxTimeNs = Math.max(a.maxTimeNs ?? 0, r.maxTimeNs ?? r.totalTimeNs ?? 0);
    // A line-by-line backend passes one timed call; decide here whether it blocked.
    const blocked = r.blockedCalls ?? (n === 1 && (r.totalTimeNs ?? 0) >= BLOCKED_THRESHOLD_NS ? 1 : 0);
    a.blockedCalls = (a.blockedCalls ?? 0) + blocked;
  }
}

function stats(a: Acc): CallStats {
  const s: CallStats = { count: a.count, errors: a.errors, zeroReturns: a.zeroReturns };
  if (a.totalTimeNs !== undefined) {
    s.totalTimeNs = a.totalTimeNs;
    s.maxTimeNs = a.maxTimeNs;
    s.blockedCalls = a.blockedCalls;
  }
  return s;
}

export interface BuildInfo {
  backend: TracerName;
  unit: 'calls' | 'samples';
  pids: number[];
  startedAt: string;
  durationMs: number;
  requestedDurationMs: number;
  overhead: TracerOverhead;
  notes: string[];
  inFlight?: InFlightCall[];
  raw?: string;
  rawTruncated?: boolean;
}

export class ProfileBuilder {
  private readonly bySyscall = new Map<string, Acc>();
  private readonly byPid = new Map<number, Map<string, Acc>>();
  private readonly byFd = new Map<
    string,
    { pid: number; fd: number; target?: string; calls: Map<string, Acc> }
  >();
  private total = 0;

  constructor(
    readonly arch: Arch,
    /** Whether the backend times each call (then time fields are numbers, else undefined). */
    readonly timed: boolean,
  ) {}

  add(r: CallRecord): void {
    const n = r.count ?? 1;
    if (n <= 0) return;
    this.total += n;
    const nr = r.nr ?? syscallNr(r.name, this.arch);
    const get = (m: Map<string, Acc>, k: string): Acc => {
      let a = m.get(k);
      if (a === undefined) m.set(k, (a = newAcc(nr, this.timed)));
      return a;
    };
    addTo(get(this.bySyscall, r.name), r, n);
    let pm = this.byPid.get(r.pid);
    if (pm === undefined) this.byPid.set(r.pid, (pm = new Map()));
    addTo(get(pm, r.name), r, n);
    if (r.fd !== undefined) {
      const key = `${r.pid}:${r.fd}`;
      let f = this.byFd.get(key);
      if (f === undefined) this.byFd.set(key, (f = { pid: r.pid, fd: r.fd, calls: new Map() }));
      if (r.fdTarget !== undefined) f.target = r.fdTarget;
      addTo(get(f.calls, r.name), r, n);
    }
  }

  get totalCalls(): number {
    return this.total;
  }

  build(info: BuildInfo): SyscallProfile {
    const secs = info.durationMs > 0 ? info.durationMs / 1000 : Number.NaN;
    const rate = (n: number): number => (Number.isFinite(secs) ? round(n / secs) : 0);
    const toStats = (m: Map<string, Acc>): SyscallStat[] =>
      [...m.entries()]
        .map(([name, a]) => ({ name, nr: a.nr, ratePerSec: rate(a.count), ...stats(a) }))
        .sort(byCount);
    const perPid: PidProfile[] = [...this.byPid.entries()]
      .map(([pid, m]) => {
        const syscalls = toStats(m);
        const totalCalls = syscalls.reduce((s, x) => s + x.count, 0);
        return { pid, totalCalls, ratePerSec: rate(totalCalls), syscalls };
      })
      .sort((a, b) => b.totalCalls - a.totalCalls || a.pid - b.pid);
    const fds: FdProfile[] = [...this.byFd.values()]
      .map((f) => {
        const calls = [...f.calls.entries()].map(([name, a]) => ({ name, ...stats(a) })).sort(byCount);
        const totalCalls = calls.reduce((s, c) => s + c.count, 0);
        const p: FdProfile = { pid: f.pid, fd: f.fd, totalCalls, ratePerSec: rate(totalCalls), calls };
        if (f.target !== undefined) p.target = f.target;
        if (this.timed) {
          p.totalTimeNs = calls.reduce((s, c) => s + (c.totalTimeNs ?? 0), 0);
          p.blockedCalls = calls.reduce((s, c) => s + (c.blockedCalls ?? 0), 0);
        }
        return p;
      })
      .sort((a, b) => b.totalCalls - a.totalCalls || a.pid - b.pid || a.fd - b.fd);
    const profile: SyscallProfile = {
      backend: info.backend,
      unit: info.unit,
      arch: this.arch,
      pids: info.pids,
      startedAt: info.startedAt,
      durationMs: Math.round(info.durationMs),
      requestedDurationMs: info.requestedDurationMs,
      overhead: info.overhead,
      blockedThresholdNs: BLOCKED_THRESHOLD_NS,
      totalCalls: this.total,
      syscalls: toStats(this.bySyscall),
      fds,
      perPid,
      notes: info.notes,
    };
    if (info.inFlight !== undefined) profile.inFlight = info.inFlight;
    if (info.raw !== undefined) profile.raw = info.raw;
    if (info.rawTruncated) profile.rawTruncated = true;
    return profile;
  }
}

function byCount(a: { count: number; name: string }, b: { count: number; name: string }): number {
  return b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
