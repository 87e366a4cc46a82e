import { collectSnapshot } from '../collect/snapshot.js';
import { groupProcesses } from '../collect/group.js';
import { resolveManyFds } from '../collect/fds.js';
import { traceWithFallback } from '../trace/index.js';
import { renderProfile } from '../report/text-profile.js';
import { UsageError } from '../util/errors.js';
import { commonOptions, intOption, parse, pidArg, printJson, rootsFrom, type Command } from './command.js';

export const traceCommand: Command = {
  summary: 'the syscall profile of a process or group: per syscall and per fd, fds resolved',
  usage: `usage: procsleuth trace PID [PID ...] | --group NAME  [--seconds 5] [--tracer bpf|bpftrace|perf|strace|proc] [--json]

Counts the syscalls of the processes for a few seconds — per syscall the count, rate, errors by
errno and time spent; per fd the calls made on it, with the fd resolved to what it is. --group
takes every process whose command name (comm) or group label contains NAME. Ctrl-C ends early.`,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        ...commonOptions,
        group: { type: 'string' },
        seconds: { type: 'string' },
        tracer: { type: 'string' },
      },
      true,
    );
    const roots = rootsFrom(values, io.env);
    let pids = positionals.map((p) => pidArg(p));
    if (values.group !== undefined) {
      const snap = await collectSnapshot({
        roots,
        cpuWindowMs: 0,
        pss: false,
        maps: false,
        fds: false,
        sockets: false,
      });
      const name = values.group;
      const g = groupProcesses(snap.processes.filter((p) => p.pid !== process.pid && !p.kernelThread)).filter(
        (x) => x.comm === name || x.label.includes(name),
      );
      pids = [...pids, ...g.flatMap((x) => x.pids)];
      if (pids.length === 0) throw new UsageError(`--group ${JSON.stringify(name)}: no process matches`);
    }
    if (pids.length === 0) throw new UsageError('trace wants a PID or --group NAME');
    const ac = new AbortController();
    const onSig = (): void => ac.abort();
    process.once('SIGINT', onSig);
    try {
      const profile = await traceWithFallback(pids, {
        durationMs: intOption(values.seconds, 'seconds', 5, 1) * 1000,
        signal: ac.signal,
        tracer: values.tracer,
        procRoot: roots.proc,
        sysRoot: roots.sys,
      });
      const want = new Map<number, number[]>();
      for (const f of profile.fds.slice(0, 64)) want.set(f.pid, [...(want.get(f.pid) ?? []), f.fd]);
      const fds = await resolveManyFds(roots, want);
      if (values.json)
        printJson(io, {
          schema: 'procsleuth.trace/1',
          profile,
          fds: Object.fromEntries([...fds].map(([pid, m]) => [pid, [...m.values()]])),
        });
      else io.out(renderProfile(profile, fds) + '\n');
      return 0;
    } finally {
      process.removeListener('SIGINT', onSig);
    }
  },
};
