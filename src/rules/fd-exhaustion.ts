/** fd-exhaustion: a process's open fds near its RLIMIT_NOFILE; the host's file-nr near file-max. */
import type { Finding, Rule } from './types.js';
import { level, pct, who } from './util.js';

const PROCESS_WARN = 0.8;
const PROCESS_CRIT = 0.95;
/** Tiny limits fill up without meaning a leak: need at least this many fds open to speak (triage reads limits only from here up). */
export const FD_EXHAUSTION_MIN_FDS = 64;
const HOST_WARN = 0.7;
const HOST_CRIT = 0.9;

export const fdExhaustion: Rule = ({ snapshot: s }) => {
  const out: Finding[] = [];
  for (const p of s.processes) {
    if (
      p.fdCount === undefined ||
      typeof p.fdLimit !== 'number' ||
      p.fdLimit === 0 ||
      p.fdCount < FD_EXHAUSTION_MIN_FDS
    )
      continue;
    const ratio = p.fdCount / p.fdLimit;
    const sev = level(ratio, PROCESS_WARN, PROCESS_CRIT);
    if (!sev) continue;
    out.push({
      rule: 'fd-exhaustion',
      severity: sev,
      title: `${who(p)} holds ${p.fdCount} of ${p.fdLimit} fds (${pct(ratio)})`,
      summary: `${who(p)} has ${p.fdCount} files open against a limit (RLIMIT_NOFILE) of ${p.fdLimit}. When it reaches the limit, open(), socket() and accept() fail with EMFILE ("Too many open files"). Either it leaks fds or the limit is too low for its load.`,
      pids: [p.pid],
      evidence: {
        fdCount: p.fdCount,
        fdLimit: p.fdLimit,
        usedPercent: Math.round(ratio * 1000) / 10,
        sockets: p.sockets,
      },
      command: `ls -la /proc/${p.pid}/fd | awk '{print $NF}' | sed 's/:.*//' | sort | uniq -c | sort -rn | head; grep 'open files' /proc/${p.pid}/limits`,
      next: `procsleuth fds ${p.pid} shows what the fds are; procsleuth record then procsleuth leaks tells a leak (growing) from a plateau`,
    });
  }
  const l = s.limits;
  if (l.fileNrAllocated !== undefined && typeof l.fileMax === 'number' && l.fileMax > 0) {
    const ratio = l.fileNrAllocated / l.fileMax;
    const sev = level(ratio, HOST_WARN, HOST_CRIT);
    if (sev) {
      const top = [...s.processes].sort((a, b) => (b.fdCount ?? 0) - (a.fdCount ?? 0)).slice(0, 5);
      out.push({
        rule: 'fd-exhaustion',
        severity: sev,
        title: `host file handles ${l.fileNrAllocated} of ${l.fileMax} (${pct(ratio)})`,
        summary: `The kernel has ${l.fileNrAllocated} file handles allocated against fs.file-max ${l.fileMax}. At the limit every process gets ENFILE ("Too many open files in system").`,
        pids: top.map((p) => p.pid),
        evidence: {
          fileNrAllocated: l.fileNrAllocated,
          fileMax: l.fileMax,
          topHolders: top.map((p) => ({ pid: p.pid, comm: p.comm, fdCount: p.fdCount })),
        },
        command: 'sysctl fs.file-nr fs.file-max',
        next: 'find the process whose fd count grows (procsleuth ps --sort fds)',
      });
    }
  }
  return out;
};
