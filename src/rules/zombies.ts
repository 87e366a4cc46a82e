/** zombies: exited children nobody reaps, grouped by the parent that should call wait(). */
import type { Finding, Rule } from './types.js';

const WARN = 20;
const CRIT = 500;

export const zombies: Rule = ({ snapshot: s }) => {
  const byParent = new Map<number, number[]>();
  for (const p of s.processes)
    if (p.state === 'Z') byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p.pid]);
  const out: Finding[] = [];
  for (const [ppid, kids] of byParent) {
    if (kids.length < WARN) continue;
    const parent = s.processes.find((p) => p.pid === ppid);
    out.push({
      rule: 'zombies',
      severity: kids.length >= CRIT ? 'critical' : 'warning',
      title: `${kids.length} zombie children of ${parent ? `${parent.comm}[${ppid}]` : `pid ${ppid}`}`,
      summary: `${kids.length} children of ${parent?.comm ?? `pid ${ppid}`} have exited but their parent never collected them (wait()). Each holds a pid; enough of them exhaust pid_max and fork() fails.`,
      pids: [ppid, ...kids.slice(0, 50)],
      evidence: { parent: ppid, parentComm: parent?.comm, zombies: kids.length, sample: kids.slice(0, 20) },
      command: `ps -o pid,ppid,stat,comm --ppid ${ppid} | head`,
      next: `the parent's SIGCHLD handling is broken; restarting ${parent?.comm ?? 'the parent'} reaps them (init adopts them)`,
    });
  }
  return out;
};
