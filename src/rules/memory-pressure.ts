/** memory-pressure: MemAvailable low, swap in use under pressure (PSI), OOM kills since boot. */
import type { Finding, Rule } from './types.js';
import { mib } from './util.js';

const AVAIL_WARN = 0.1;
const AVAIL_CRIT = 0.05;
const PSI_MEM_WARN = 10;
const PSI_MEM_CRIT = 30;

export const memoryPressure: Rule = ({ snapshot: s }) => {
  const h = s.host;
  const out: Finding[] = [];
  const avail = h.memAvailableBytes;
  const psi = h.pressure?.memory;
  const swapUsed =
    h.swapTotalBytes !== undefined && h.swapFreeBytes !== undefined
      ? h.swapTotalBytes - h.swapFreeBytes
      : undefined;
  const top = [...s.processes].sort((a, b) => (b.rssBytes ?? 0) - (a.rssBytes ?? 0)).slice(0, 5);
  const evidence = {
    memTotalBytes: h.memTotalBytes,
    memAvailableBytes: avail,
    swapUsedBytes: swapUsed,
    psiMemorySomeAvg10: psi?.someAvg10,
    psiMemoryFullAvg10: psi?.fullAvg10,
    oomKills: h.oomKills,
    topRss: top.map((p) => ({ pid: p.pid, comm: p.comm, rssBytes: p.rssBytes, swapBytes: p.swapBytes })),
  };
  const share = avail !== undefined ? avail / h.memTotalBytes : undefined;
  const stalled = psi?.someAvg10 ?? 0;
  let sev: 'critical' | 'warning' | undefined;
  if ((share !== undefined && share < AVAIL_CRIT) || stalled >= PSI_MEM_CRIT) sev = 'critical';
  else if ((share !== undefined && share < AVAIL_WARN) || stalled >= PSI_MEM_WARN) sev = 'warning';
  if (sev) {
    out.push({
      rule: 'memory-pressure',
      severity: sev,
      title: `memory low: ${mib(avail ?? 0)} available of ${mib(h.memTotalBytes)}`,
      summary: `Only ${share !== undefined ? (share * 100).toFixed(1) : '?'}% of memory is available${stalled ? `, and tasks stalled on memory ${stalled.toFixed(0)}% of the last 10 s` : ''}${swapUsed ? `; ${mib(swapUsed)} of swap in use` : ''}. The kernel is reclaiming cache and will swap or OOM-kill next.`,
      pids: top.map((p) => p.pid),
      evidence,
      command: 'free -m; cat /proc/pressure/memory; procsleuth ps --sort rss',
      next: 'find the process that grows (procsleuth record, then procsleuth leaks)',
    });
  }
  if (h.oomKills !== undefined && h.oomKills > 0) {
    out.push({
      rule: 'memory-pressure',
      severity: 'warning',
      title: `${h.oomKills} OOM kill${h.oomKills === 1 ? '' : 's'} since boot`,
      summary: `The kernel's out-of-memory killer has killed ${h.oomKills} process${h.oomKills === 1 ? '' : 'es'} since boot (/proc/vmstat oom_kill). The kernel log names the victims.`,
      pids: [],
      evidence,
      command: "dmesg -T | grep -iE 'killed process|out of memory'",
      next: 'see which process was killed and whether it grew before (procsleuth leaks)',
    });
  }
  return out;
};
