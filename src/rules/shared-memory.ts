/**
 * shared-memory: large shared anonymous mappings (`/dev/zero (deleted)`, SysV shm, memfd) per process.
 * They do not show in a process's anonymous memory, are easy to miss in `top`, and stay allocated
 * until every process unmaps them (SysV segments even after).
 */
import type { Finding, Rule } from './types.js';
import { mib, who } from './util.js';

/** Mapped shared memory worth mentioning (triage reads maps only of processes with this much address space). */
export const SHARED_MEMORY_MIN_BYTES = 256 * 1024 ** 2;
/** Resident share of total memory that makes it a warning. */
const WARN_SHARE = 0.25;
const CRIT_SHARE = 0.5;

export const sharedMemory: Rule = ({ snapshot: s }) => {
  const out: Finding[] = [];
  const total = s.host.memTotalBytes;
  for (const p of s.processes) {
    const mapped = p.shmMappedBytes ?? 0;
    if (mapped < SHARED_MEMORY_MIN_BYTES) continue;
    const resident = p.shmemRssBytes ?? 0;
    const share = total > 0 ? resident / total : 0;
    out.push({
      rule: 'shared-memory',
      severity: share >= CRIT_SHARE ? 'critical' : share >= WARN_SHARE ? 'warning' : 'info',
      title: `${who(p)} maps ${mib(mapped)} of shared memory (${mib(resident)} resident)`,
      summary: `${who(p)} has ${mib(mapped)} of shared anonymous memory mapped (/dev/zero (deleted), SysV shm or memfd), ${mib(resident)} of it resident — ${(share * 100).toFixed(1)}% of RAM. This memory is counted as "shared", not as the process's own, so top and ps understate it; host-wide shmem is ${mib(s.host.shmemBytes ?? 0)}.`,
      pids: [p.pid],
      evidence: {
        shmMappedBytes: mapped,
        shmemRssBytes: resident,
        memTotalBytes: total,
        hostShmemBytes: s.host.shmemBytes,
        rssBytes: p.rssBytes,
        pssBytes: p.pssBytes,
      },
      command: `pmap -x ${p.pid} | grep -E 'zero|SYSV|memfd'; ipcs -m`,
      next: `procsleuth pmap ${p.pid} lists the mappings; if it grows over time (procsleuth leaks), it is a shared-memory leak`,
    });
  }
  return out;
};
