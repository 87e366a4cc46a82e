/**
 * busy-poll: a process hammering one fd with syscalls that fail with EAGAIN/EWOULDBLOCK (or polls that
 * return at once) and never blocking — a spin on a non-blocking fd whose peer never sends. It is the bug
 * in the story: twelve workers at 92% CPU doing `read(11, …) = -1 EAGAIN` forever on a unix socket.
 *
 * With a tracer that counts calls we judge per (pid, fd): rate, the share of futile results, and whether
 * any call blocked. With the /proc sampler (no tracer) we see only that a thread is always runnable, in
 * the kernel, making read syscalls at a high rate, with one non-blocking fd: a weaker "likely".
 */
import type { ResolvedFd } from '../collect/fds.js';
import type { FdProfile, SyscallProfile } from '../trace/types.js';
import type { Finding, Rule, RuleInput } from './types.js';
import { plural } from './util.js';

/** Calls per second on one fd that no real event source sustains while failing. */
const RATE_WARN = 1_000;
const RATE_CRIT = 10_000;
/** Share of calls on the fd that failed with EAGAIN or were polls that found nothing. */
const FUTILE_SHARE = 0.8;
/** Share of calls that may take over 1 ms (preempted, not waiting) before we call it "blocking". */
const BLOCKED_SHARE_MAX = 0.1;
const POLLS = new Set(['poll', 'ppoll', 'select', 'pselect6', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2']);
/** Proc fallback: read-class syscalls per second and share of samples found running. */
const PROC_READS_PER_SEC = 5_000;
const PROC_RUNNING_SHARE = 0.8;

interface Hit {
  pid: number;
  fd: number;
  ratePerSec: number;
  futileShare: number;
  calls: string;
  errno: string;
  blockedCalls: number | undefined;
}

function judgeFd(f: FdProfile): Hit | undefined {
  if (f.ratePerSec < RATE_WARN || f.totalCalls === 0) return undefined;
  let futile = 0;
  const errnos = new Map<string, number>();
  for (const c of f.calls) {
    for (const [e, n] of Object.entries(c.errors)) {
      if (e === 'EAGAIN' || e === 'EWOULDBLOCK') futile += n;
      errnos.set(e, (errnos.get(e) ?? 0) + n);
    }
    if (POLLS.has(c.name)) futile += c.zeroReturns;
  }
  const futileShare = futile / f.totalCalls;
  if (futileShare < FUTILE_SHARE) return undefined;
  // Calls that slept mean the process sometimes waits on the fd: not a spin. A few "slow" calls are
  // preemption on a loaded host (the timer counts wall time in the call), hence a share, not "any".
  if (f.blockedCalls !== undefined && f.blockedCalls > f.totalCalls * BLOCKED_SHARE_MAX) return undefined;
  const top = [...errnos].sort((a, b) => b[1] - a[1])[0];
  return {
    pid: f.pid,
    fd: f.fd,
    ratePerSec: f.ratePerSec,
    futileShare,
    calls: f.calls
      .slice(0, 3)
      .map((c) => `${c.name}×${c.count}`)
      .join(', '),
    errno: top?.[0] ?? 'poll returned 0',
    blockedCalls: f.blockedCalls,
  };
}

/** CPU percent (of one core) the processes burnt over the snapshot window. */
const CPU_CRIT = 50;

function cpuOf(input: RuleInput, hs: readonly Hit[]): number {
  return hs.reduce((n, h) => n + (input.snapshot.processes.find((p) => p.pid === h.pid)?.cpuPercent ?? 0), 0);
}

function fdKindWord(fd: ResolvedFd | undefined): string {
  if (!fd) return 'fd';
  if (fd.socket) return fd.socket.protocol === 'unix' ? 'unix socket' : `${fd.socket.protocol} socket`;
  return fd.kind;
}

function describe(fd: ResolvedFd | undefined): string {
  if (!fd) return 'an fd that closed before it could be resolved';
  return fd.target;
}

/** What kind of thing the fd is, without the per-process peer, so twelve workers group together. */
function kindKey(fd: ResolvedFd | undefined): string {
  if (!fd) return '?';
  if (fd.socket)
    return `${fd.socket.protocol} ${fd.socket.unixType ?? ''} ${fd.socket.path ?? ''} ${fd.socket.local ?? ''}`;
  return `${fd.kind} ${fd.kind === 'file' ? fd.target : ''}`;
}

function fromCalls(p: SyscallProfile, input: RuleInput): Finding[] {
  const hits = p.fds.map(judgeFd).filter((h): h is Hit => h !== undefined && h.pid !== input.selfPid);
  const groups = new Map<string, Hit[]>();
  for (const h of hits) {
    const key = `${h.fd}\u0000${kindKey(input.fds?.get(h.pid)?.get(h.fd))}`;
    const g = groups.get(key);
    if (g) g.push(h);
    else groups.set(key, [h]);
  }
  return [...groups.values()].map((hs) => {
    const first = hs[0] as Hit;
    const resolved = input.fds?.get(first.pid)?.get(first.fd);
    const rate = hs.reduce((n, h) => n + h.ratePerSec, 0);
    const comm = input.snapshot.processes.find((x) => x.pid === first.pid)?.comm ?? '?';
    const what = describe(resolved);
    const nonblock = resolved?.flags?.includes('O_NONBLOCK');
    return {
      rule: 'busy-poll',
      // Under a slow tracer (strace, perf) the rate we see is a fraction of the real one: the CPU the
      // spinners burn, measured before tracing, says how serious it is whatever the tracer.
      severity: rate >= RATE_CRIT || cpuOf(input, hs) >= CPU_CRIT ? 'critical' : 'warning',
      title: `${plural(hs.length, 'process', 'processes')} of ${comm} spin on fd ${first.fd} (${fdKindWord(resolved)}): ${first.errno}`,
      summary:
        `${hs.length === 1 ? `${comm}[${first.pid}]` : `${hs.length} processes of ${comm}`} call ${first.calls.split('×')[0]} on fd ${first.fd} ` +
        `${Math.round(rate).toLocaleString('en-US')} times a second in total, and ${Math.round(first.futileShare * 100)}% of those calls fail with ${first.errno} ` +
        `without ever blocking: a busy loop on a${nonblock ? ' non-blocking' : 'n'} fd that has nothing to read. fd ${first.fd} is ${what}. ` +
        `The peer never sends, or the program never waits (poll/epoll) before reading: it burns a CPU each for nothing.`,
      pids: hs.map((h) => h.pid),
      evidence: {
        backend: p.backend,
        windowMs: p.durationMs,
        fd: first.fd,
        fdTarget: what,
        fdFlags: resolved?.flags,
        callsPerSecTotal: Math.round(rate),
        perProcess: hs.map((h) => ({
          pid: h.pid,
          callsPerSec: Math.round(h.ratePerSec),
          futileSharePercent: Math.round(h.futileShare * 1000) / 10,
          calls: h.calls,
          blockedCalls: h.blockedCalls,
        })),
      },
      command: `strace -f -e trace=read,recvfrom,recvmsg -p ${first.pid} 2>&1 | head; ls -la /proc/${first.pid}/fd/${first.fd}${ssCommand(resolved)}`,
      next:
        `Give the vendor this finding: the program reads fd ${first.fd} in a loop without waiting for it to become readable. ` +
        `Find what should be writing to the other end${resolved?.socket?.peers?.length ? ` (${resolved.socket.peers.map((x) => `${x.comm}[${x.pid}]`).join(', ')})` : ''} and why it stopped; restarting the peer may stop the spin.`,
    } satisfies Finding;
  });
}

function fromSamples(p: SyscallProfile, input: RuleInput): Finding[] {
  const ps = p.procSampling;
  if (!ps) return [];
  const out: Hit[] = [];
  for (const pp of ps.perPid) {
    if (pp.pid === input.selfPid) continue;
    const threads = ps.threads.filter((t) => t.pid === pp.pid);
    const samples = threads.reduce((n, t) => n + t.samples, 0);
    const running = threads.reduce((n, t) => n + t.runningSamples, 0);
    const sys = threads.map((t) => t.systemTimeShare ?? 0).reduce((a, b) => Math.max(a, b), 0);
    const reads = pp.readSyscallsPerSec ?? 0;
    const nb = pp.nonBlockingFds ?? [];
    if (samples === 0 || running / samples < PROC_RUNNING_SHARE || reads < PROC_READS_PER_SEC || sys < 0.3)
      continue;
    if (nb.length === 0) continue;
    // With one non-blocking fd the spin can only be on it; with several we name them all.
    for (const fd of nb.length === 1 ? nb : nb.slice(0, 4))
      out.push({
        pid: pp.pid,
        fd,
        ratePerSec: reads / nb.length,
        futileShare: NaN,
        calls: 'read-class syscalls',
        errno: 'EAGAIN (inferred)',
        blockedCalls: 0,
      });
  }
  if (out.length === 0) return [];
  const byFd = new Map<string, Hit[]>();
  for (const h of out) {
    const k = `${h.fd}\u0000${kindKey(input.fds?.get(h.pid)?.get(h.fd))}`;
    byFd.set(k, [...(byFd.get(k) ?? []), h]);
  }
  return [...byFd.values()].map((hs) => {
    const first = hs[0] as Hit;
    const resolved = input.fds?.get(first.pid)?.get(first.fd);
    const comm = input.snapshot.processes.find((x) => x.pid === first.pid)?.comm ?? '?';
    return {
      rule: 'busy-poll',
      severity: 'warning',
      title: `${plural(hs.length, 'process', 'processes')} of ${comm} likely spin on fd ${first.fd} (${fdKindWord(resolved)}), non-blocking`,
      summary:
        `No syscall tracer was available, so this is inferred from /proc sampling: ${hs.length === 1 ? `${comm}[${first.pid}]` : `${hs.length} processes of ${comm}`} ` +
        `were runnable in almost every sample, mostly in the kernel, making ~${Math.round(first.ratePerSec).toLocaleString('en-US')} read-class syscalls a second, ` +
        `and fd ${first.fd} (${describe(resolved)}) is their non-blocking fd. That is the signature of a read loop on a non-blocking fd that never waits.`,
      pids: hs.map((h) => h.pid),
      evidence: {
        backend: p.backend,
        windowMs: p.durationMs,
        fd: first.fd,
        fdTarget: describe(resolved),
        perProcess: hs.map((h) => ({ pid: h.pid, readSyscallsPerSec: Math.round(h.ratePerSec) })),
      },
      command: `strace -p ${first.pid} -e trace=read 2>&1 | head   # confirms the EAGAIN loop`,
      next: 'install bpftrace (or strace) and run triage again for a per-fd syscall count that proves it',
    } satisfies Finding;
  });
}

export const busyPoll: Rule = (input) => {
  const p = input.profile;
  if (!p) return [];
  return p.unit === 'calls' ? fromCalls(p, input) : fromSamples(p, input);
};

/** The `ss` line that shows this socket and its peer: unix sockets by inode, TCP/UDP by `ino:`. */
function ssCommand(fd: ResolvedFd | undefined): string {
  const inode = fd?.inode;
  if (fd?.kind !== 'socket' || inode === undefined) return '';
  const proto = fd.socket?.protocol;
  if (proto === 'unix') return `; ss -xp | grep -w ${inode}`;
  const flags = proto?.startsWith('tcp') ? '-tanpe' : proto?.startsWith('udp') ? '-uanpe' : '-anpe';
  return `; ss ${flags} | grep -w ino:${inode}`;
}
