/** threads: thread counts out of proportion — a thread leak or a pool gone wild. */
import type { Finding, Rule } from './types.js';
import { who } from './util.js';

/** Threads per CPU that no sane pool needs. */
const PER_CPU_WARN = 256;
const ABS_WARN = 1_000;
const ABS_CRIT = 10_000;

export const threads: Rule = ({ snapshot: s }) => {
  const out: Finding[] = [];
  const warnAt = Math.max(ABS_WARN, PER_CPU_WARN * s.host.cpus);
  for (const p of s.processes) {
    if (p.threads < warnAt) continue;
    out.push({
      rule: 'threads',
      severity: p.threads >= ABS_CRIT ? 'critical' : 'warning',
      title: `${who(p)} runs ${p.threads} threads`,
      summary: `${who(p)} has ${p.threads} threads on a ${s.host.cpus}-CPU host. Each holds a stack (VSZ ${Math.round(p.vszBytes / 1024 ** 2)} MiB) and kernel memory; the count usually means a thread leak or an unbounded pool.`,
      pids: [p.pid],
      evidence: { threads: p.threads, cpus: s.host.cpus, vszBytes: p.vszBytes, rssBytes: p.rssBytes },
      command: `ls /proc/${p.pid}/task | wc -l; ps -L -o tid,stat,wchan:32,comm -p ${p.pid} | sort -k3 | uniq -c -f2 | sort -rn | head`,
      next: 'record it: a count that only grows is a leak (procsleuth leaks)',
    });
  }
  return out;
};
