/**
 * cpu-hog: processes and groups burning CPU over the snapshot window, with user against system time.
 * A group (same executable and arguments) is what matters when twelve workers each burn a core.
 */
import { groupProcesses } from '../collect/group.js';
import type { Finding, Rule } from './types.js';
import { who } from './util.js';

/** Percent of ONE core. */
const PROCESS_WARN = 80;
/** Percent of ALL cores for a group. */
const GROUP_WARN_SHARE = 0.5;
const GROUP_CRIT_SHARE = 0.8;

export const cpuHog: Rule = ({ snapshot: s, selfPid }) => {
  const procs = s.processes.filter((p) => p.pid !== selfPid && p.cpuPercent !== undefined);
  const capacity = s.host.cpus * 100;
  const out: Finding[] = [];
  const reported = new Set<number>();
  for (const g of groupProcesses(procs)) {
    const cpu = g.cpuPercent ?? 0;
    const members = procs.filter((p) => g.pids.includes(p.pid));
    const hot = members.filter((p) => (p.cpuPercent ?? 0) >= PROCESS_WARN);
    const share = cpu / capacity;
    if (share < GROUP_WARN_SHARE && hot.length === 0) continue;
    const sys = members.reduce((n, p) => n + (p.cpuSystemPercent ?? 0), 0);
    const sysShare = cpu > 0 ? sys / cpu : 0;
    const severity = share >= GROUP_CRIT_SHARE ? 'critical' : 'warning';
    const top = [...members].sort((a, b) => (b.cpuPercent ?? 0) - (a.cpuPercent ?? 0));
    for (const p of members) reported.add(p.pid);
    const many = members.length > 1;
    out.push({
      rule: 'cpu-hog',
      severity,
      title: many
        ? `${members.length} × ${g.comm} burn ${cpu.toFixed(0)}% CPU`
        : `${who(top[0] ?? { pid: 0, comm: g.comm })} burns ${cpu.toFixed(0)}% CPU`,
      summary:
        `${many ? `${members.length} processes of ${g.label}` : g.label} used ${cpu.toFixed(0)}% CPU over ${Math.round(s.cpuWindowMs)} ms ` +
        `(${(share * 100).toFixed(0)}% of all ${s.host.cpus} CPUs), ${(sysShare * 100).toFixed(0)}% of it in the kernel. ` +
        (sysShare >= 0.5
          ? 'Mostly system time: the process lives in syscalls — look at the syscall profile (busy-poll).'
          : 'Mostly user time: the process computes — a profiler (perf top -p) shows where.'),
      pids: members.map((p) => p.pid),
      evidence: {
        group: g.label,
        processes: members.length,
        cpuPercent: Math.round(cpu * 10) / 10,
        cpuSharePercentOfHost: Math.round(share * 1000) / 10,
        systemTimeSharePercent: Math.round(sysShare * 1000) / 10,
        perProcess: top
          .slice(0, 12)
          .map((p) => ({ pid: p.pid, cpuPercent: p.cpuPercent, cpuSystemPercent: p.cpuSystemPercent })),
      },
      command: `top -p ${top
        .slice(0, 20)
        .map((p) => p.pid)
        .join(',')}   # or: pidstat -u -p ${top[0]?.pid ?? ''} 1`,
      next: sysShare >= 0.5 ? `procsleuth trace --group '${g.comm}'` : `perf top -p ${top[0]?.pid ?? ''}`,
    });
  }
  return out;
};
