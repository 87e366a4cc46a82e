import type { ResolvedFd } from '../collect/fds.js';
import type { SyscallProfile } from '../trace/types.js';
import { table, truncate } from '../util/format.js';

const errs = (e: Record<string, number>): string =>
  Object.entries(e)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

const ms = (ns: number | undefined): string => (ns === undefined ? '-' : (ns / 1e6).toFixed(1));

/** A sampling tracer counts only while attached: say how much of the window that was. */
function span(p: SyscallProfile): string {
  const sm = p.sampling;
  if (!sm) return `${(p.durationMs / 1000).toFixed(1)} s`;
  const share =
    sm.duty >= 0.995
      ? 'all of it'
      : `${(sm.duty * 100).toFixed(sm.duty < 0.1 ? 1 : 0)}% of it in ${sm.bursts} bursts`;
  return `${(sm.windowMs / 1000).toFixed(1)} s window, traced ${share}`;
}

export function renderProfile(
  p: SyscallProfile,
  fds?: ReadonlyMap<number, ReadonlyMap<number, ResolvedFd>>,
  top = 12,
): string {
  const unit = p.unit === 'calls' ? 'calls' : 'samples';
  const out: string[] = [];
  out.push(
    `syscall profile: ${p.backend}, ${p.pids.length} process(es), ${span(p)}, ${p.totalCalls.toLocaleString('en-US')} ${unit}` +
      ` — cost to the traced process: ${p.overhead.description}${p.overhead.measuredSlowdown ? ` (measured ${p.overhead.measuredSlowdown.toFixed(2)}× slower)` : ''}`,
  );
  if (p.syscalls.length) {
    out.push(
      table(
        ['SYSCALL', unit.toUpperCase(), 'PER SEC', 'ERRORS', 'TIME ms', 'BLOCKED'],
        p.syscalls
          .slice(0, top)
          .map((s) => [
            s.name,
            s.count.toLocaleString('en-US'),
            Math.round(s.ratePerSec).toLocaleString('en-US'),
            errs(s.errors) || '-',
            ms(s.totalTimeNs),
            s.blockedCalls === undefined ? '-' : String(s.blockedCalls),
          ]),
        ['left', 'right', 'right', 'left', 'right', 'right'],
      ),
    );
  }
  if (p.fds.length) {
    out.push('');
    out.push(
      table(
        ['PID', 'FD', 'PER SEC', 'CALLS', 'WHAT'],
        p.fds.slice(0, top).map((f) => {
          const r = fds?.get(f.pid)?.get(f.fd);
          const calls = f.calls
            .slice(0, 3)
            .map((c) => `${c.name} ${c.count}${Object.keys(c.errors).length ? ` (${errs(c.errors)})` : ''}`)
            .join('; ');
          return [
            String(f.pid),
            String(f.fd),
            Math.round(f.ratePerSec).toLocaleString('en-US'),
            truncate(calls, 60),
            truncate(r?.target ?? f.target ?? '?', 70),
          ];
        }),
        ['right', 'right', 'right', 'left', 'left'],
      ),
    );
  }
  const ps = p.procSampling;
  if (ps) {
    out.push('');
    for (const pp of ps.perPid.slice(0, top)) {
      const th = ps.threads.filter((t) => t.pid === pp.pid);
      const samples = th.reduce((n, t) => n + t.samples, 0);
      const running = th.reduce((n, t) => n + t.runningSamples, 0);
      out.push(
        `  pid ${pp.pid}: runnable in ${samples ? Math.round((running / samples) * 100) : 0}% of ${samples} samples; ` +
          `${Math.round(pp.readSyscallsPerSec ?? 0).toLocaleString('en-US')} read syscalls/s; non-blocking fds ${pp.nonBlockingFds?.join(', ') || 'none'}`,
      );
    }
  }
  for (const n of p.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
