/**
 * `triage`, the default command: snapshot → the hottest group → a short syscall profile → fds resolved
 * → rules → findings. Exit 0 when nothing is wrong, 1 on a warning or critical finding.
 */
import { collectSnapshot } from '../collect/snapshot.js';
import { groupProcesses } from '../collect/group.js';
import type { resolveManyFds } from '../collect/fds.js';
import type { SyscallProfile } from '../trace/types.js';

export type { TriageReport };
import { runRules } from '../rules/index.js';
import { SHARED_MEMORY_MIN_BYTES } from '../rules/shared-memory.js';
import { FD_EXHAUSTION_MIN_FDS } from '../rules/fd-exhaustion.js';
import type { TriageReport } from '../rules/types.js';
import { renderTriage } from '../report/text-triage.js';
import { colours, useColour } from '../util/format.js';
import { ProcsleuthError, UsageError } from '../util/errors.js';
import type { Roots } from '../util/roots.js';
import {
  commonOptions,
  durationMs,
  intOption,
  parse,
  pidArg,
  printJson,
  rootsFrom,
  type CliIO,
  type Command,
} from './command.js';

/** A group must burn at least this much CPU (percent of one core) to be worth tracing. */
const HOT_GROUP_CPU = 20;
const MAX_TRACED_PIDS = 16;
const FDS_PER_PID = 8;

export const triageCommand: Command = {
  summary: 'the whole checklist in seconds: what burns CPU, a syscall profile, findings (default command)',
  usage: `usage: procsleuth [triage] [--trace-seconds 5] [--no-trace] [--pid PID[,PID…]] [--tracer bpf|bpftrace|perf|strace|proc]
                  [--cpu-window 1s] [--json]

Takes a snapshot, finds the hottest group of processes (same executable and arguments), profiles
its syscalls for a few seconds (per syscall and per fd, the fds resolved), runs the rules and prints
the findings, most severe first. Exit code 0: nothing wrong; 1: a warning or critical finding; 2: error.`,
  async run(args, io) {
    const { values } = parse(args, {
      ...commonOptions,
      'trace-seconds': { type: 'string' },
      'no-trace': { type: 'boolean' },
      pid: { type: 'string', multiple: true },
      tracer: { type: 'string' },
      'cpu-window': { type: 'string' },
    });
    const roots = rootsFrom(values, io.env);
    const report = await triage(
      {
        roots,
        traceMs: values['no-trace'] ? 0 : intOption(values['trace-seconds'], 'trace-seconds', 5, 1) * 1000,
        pids: values.pid?.flatMap((p) => p.split(',')).map((p) => pidArg(p, '--pid')),
        tracer: values.tracer,
        cpuWindowMs: durationMs(values['cpu-window'], 'cpu-window', 1000),
      },
      io,
    );
    if (values.json) printJson(io, report);
    else io.out(renderTriage(report, colours(useColour(io.isTTY, io.env))) + '\n');
    return report.findings.some((f) => f.severity !== 'info') ? 1 : 0;
  },
};

export interface TriageOptions {
  roots: Roots;
  traceMs: number;
  pids?: number[] | undefined;
  tracer?: string | undefined;
  cpuWindowMs: number;
}

export async function triage(o: TriageOptions, io: CliIO): Promise<TriageReport> {
  const notes: string[] = [];
  // No rule reads PSS (smaps_rollup is the costliest file per process): triage skips it.
  const snap = await collectSnapshot({
    roots: o.roots,
    cpuWindowMs: o.cpuWindowMs,
    pss: false,
    // maps serve only the shared-memory rule
    mapsMinVszBytes: SHARED_MEMORY_MIN_BYTES,
    // RLIMIT_NOFILE serves only the fd-exhaustion rule
    limitsMinFds: FD_EXHAUSTION_MIN_FDS,
  });
  const self = process.pid;
  const groups = groupProcesses(snap.processes.filter((p) => p.pid !== self && !p.kernelThread)).sort(
    (a, b) => (b.cpuPercent ?? 0) - (a.cpuPercent ?? 0),
  );
  const hot = groups.filter((g) => (g.cpuPercent ?? 0) >= HOT_GROUP_CPU);

  let traced: TriageReport['traced'];
  if (o.pids?.length) {
    const known = new Set(snap.processes.map((p) => p.pid));
    const missing = o.pids.filter((p) => !known.has(p));
    if (missing.length) throw new UsageError(`--pid ${missing.join(', ')}: no such process`);
    traced = { pids: o.pids, reason: 'chosen with --pid' };
  } else if (hot.length) {
    // The hottest groups, hottest processes first, up to MAX_TRACED_PIDS: an in-kernel counter costs
    // the same for one pid or sixteen, and the culprit is not always the very hottest on a busy host.
    const pids: number[] = [];
    const names: string[] = [];
    for (const g of hot) {
      if (pids.length >= MAX_TRACED_PIDS) break;
      const members = snap.processes
        .filter((p) => g.pids.includes(p.pid))
        .sort((a, b) => (b.cpuPercent ?? 0) - (a.cpuPercent ?? 0));
      pids.push(...members.slice(0, MAX_TRACED_PIDS - pids.length).map((p) => p.pid));
      names.push(`${g.label} (${g.count} processes, ${(g.cpuPercent ?? 0).toFixed(0)}% CPU)`);
    }
    traced = { pids, reason: `hottest group${names.length > 1 ? 's' : ''}: ${names.join('; ')}` };
  }

  let profile: SyscallProfile | undefined;
  if (traced && o.traceMs > 0) {
    if (o.roots.proc !== '/proc')
      notes.push('not tracing: --proc-root points at a captured tree, not this host');
    else profile = await traceWithProgress(traced.pids, o, io, notes);
  } else if (!traced) notes.push(`nothing to trace: no group used ${HOT_GROUP_CPU}% of a CPU or more`);

  let fds: Awaited<ReturnType<typeof resolveManyFds>> | undefined;
  if (profile) {
    const want = new Map<number, number[]>();
    const add = (pid: number, fd: number): void => {
      const list = want.get(pid) ?? [];
      if (list.length < FDS_PER_PID && !list.includes(fd)) list.push(fd);
      want.set(pid, list);
    };
    for (const f of profile.fds) add(f.pid, f.fd);
    // The /proc sampler cannot see fds of a spinning thread; it names the non-blocking ones instead.
    for (const pp of profile.procSampling?.perPid ?? [])
      for (const fd of pp.nonBlockingFds ?? []) add(pp.pid, fd);
    // Loaded only when there is a profile: `triage --no-trace` pays for neither module.
    fds = await (await import('../collect/fds.js')).resolveManyFds(o.roots, want);
  }
  const findings = runRules({ snapshot: snap, profile, fds, selfPid: self });
  return {
    schema: 'procsleuth.triage/1',
    takenAt: snap.takenAt,
    host: snap.host,
    limits: snap.limits,
    sockstat: snap.sockstat,
    tcp: snap.tcp,
    hotGroups: groups.slice(0, 5).map((g) => ({
      label: g.label,
      comm: g.comm,
      pids: g.pids,
      count: g.count,
      cpuPercent: g.cpuPercent,
      rssBytes: g.rssBytes,
    })),
    traced,
    profile,
    findings,
    problems: snap.problems,
    timings: snap.timings,
    notes,
  };
}

/** Traces with a progress line on a TTY; Ctrl-C ends the window early (the tracer detaches cleanly). */
async function traceWithProgress(
  pids: number[],
  o: TriageOptions,
  io: CliIO,
  notes: string[],
): Promise<SyscallProfile | undefined> {
  const ac = new AbortController();
  const onSig = (): void => ac.abort();
  process.once('SIGINT', onSig);
  const started = Date.now();
  const tick =
    io.isTTY && process.stderr.isTTY
      ? setInterval(() => {
          const s = Math.min(o.traceMs, Date.now() - started) / 1000;
          io.err(`\rtracing ${pids.length} process(es) for ${o.traceMs / 1000}s … ${s.toFixed(0)}s `);
        }, 250)
      : undefined;
  try {
    const { traceWithFallback } = await import('../trace/index.js');
    return await traceWithFallback(pids, {
      durationMs: o.traceMs,
      signal: ac.signal,
      tracer: o.tracer,
      procRoot: o.roots.proc,
      sysRoot: o.roots.sys,
    });
  } catch (err) {
    if (!(err instanceof ProcsleuthError) || o.tracer !== undefined) throw err;
    notes.push(`no syscall profile: ${err.message}`);
    return undefined;
  } finally {
    if (tick) {
      clearInterval(tick);
      io.err('\r\u001b[K');
    }
    process.removeListener('SIGINT', onSig);
  }
}
