import type { Snapshot } from '../collect/types.js';
import { TCP_STATES } from '../collect/types.js';
import { colours as makeColours, fixed, humanBytes, int, type Colours } from '../util/format.js';
import { renderProcesses, sortProcesses } from './text-ps.js';

const pct = (a: number | undefined, b: number | 'unlimited' | undefined): string =>
  a === undefined || b === undefined || b === 'unlimited' || b === 0 ? '-' : `${((a / b) * 100).toFixed(1)}%`;
const lim = (n: number | 'unlimited' | undefined): string => (n === 'unlimited' ? 'unlimited' : int(n));

export function renderSnapshot(s: Snapshot, c: Colours = makeColours(false), topN = 10): string {
  const h = s.host;
  const l = s.limits;
  const out: string[] = [];
  const days = Math.floor(h.uptimeSeconds / 86400);
  const hours = Math.floor((h.uptimeSeconds % 86400) / 3600);
  out.push(c.bold(`${h.hostname}  ${h.kernel}  up ${days}d ${hours}h  ${h.cpus} CPUs  ${s.takenAt}`));
  out.push(
    `load ${h.loadavg.map((x) => x.toFixed(2)).join(' ')}  (${(h.loadavg[0] / h.cpus).toFixed(2)} per CPU)  ` +
      `running ${int(h.runningTasks)}  blocked ${int(h.blockedTasks)}  tasks ${int(h.totalTasks)}`,
  );
  out.push(
    `cpu ${fixed(h.cpuPercent)}% busy (user ${fixed(h.cpuUserPercent)}%, system ${fixed(h.cpuSystemPercent)}%, ` +
      `iowait ${fixed(h.cpuIowaitPercent)}%, steal ${fixed(h.cpuStealPercent)}%) over ${Math.round(s.cpuWindowMs)} ms`,
  );
  out.push(
    `memory ${humanBytes(h.memTotalBytes)} total, ${humanBytes(h.memAvailableBytes)} available (${pct(h.memAvailableBytes, h.memTotalBytes)}), ` +
      `shmem ${humanBytes(h.shmemBytes)}, swap ${humanBytes(h.swapTotalBytes)} total ${humanBytes(
        h.swapTotalBytes !== undefined && h.swapFreeBytes !== undefined
          ? h.swapTotalBytes - h.swapFreeBytes
          : undefined,
      )} used`,
  );
  const p = h.pressure;
  if (p) {
    const f = (x: { someAvg10: number; fullAvg10: number | undefined } | undefined): string =>
      x
        ? `some ${x.someAvg10.toFixed(2)}${x.fullAvg10 !== undefined ? ` full ${x.fullAvg10.toFixed(2)}` : ''}`
        : '-';
    out.push(`pressure (avg10 %) cpu ${f(p.cpu)}  memory ${f(p.memory)}  io ${f(p.io)}`);
  }
  out.push('');
  out.push(
    `files ${int(l.fileNrAllocated)} allocated of ${lim(l.fileMax)} (fs.file-nr / fs.file-max, ${pct(l.fileNrAllocated, l.fileMax)})  nr_open ${int(l.nrOpen)}`,
  );
  const t = s.sockstat.tcp;
  if (t) {
    out.push(
      `tcp inuse ${t.inuse} orphan ${t.orphan} (max ${int(l.tcpMaxOrphans)}) tw ${t.tw} alloc ${t.alloc}  ` +
        `mem ${t.memPages} pages against tcp_mem ${l.tcpMemPages ? l.tcpMemPages.join(' ') : '-'} (min pressure max)`,
    );
  }
  out.push(
    `fin_timeout ${int(l.tcpFinTimeoutSeconds)}s  local ports ${l.ipLocalPortRange ? l.ipLocalPortRange.join('-') : '-'}  somaxconn ${int(l.somaxconn)}`,
  );
  const states = TCP_STATES.filter((st) => s.tcp.states[st] > 0).map((st) => `${st} ${s.tcp.states[st]}`);
  out.push(`tcp states: ${states.join('  ') || 'none'}`);
  for (const [state, list] of Object.entries(s.tcp.remotes)) {
    if (!list || list.length === 0) continue;
    out.push(
      `  ${state.padEnd(12)} ${list
        .slice(0, 5)
        .map((r) => `${r.address} ${r.count}`)
        .join(', ')}`,
    );
  }
  out.push('');
  out.push(c.bold(`top ${topN} of ${s.processes.length} processes by CPU`));
  out.push(renderProcesses(sortProcesses(s.processes, 'cpu').slice(0, topN)));
  const pr = s.problems;
  if (pr.vanished || pr.denied.length || pr.skipped.length || pr.hostSources.length) {
    out.push('');
    const notes: string[] = [];
    if (pr.vanished) notes.push(`${pr.vanished} process(es) exited while being read`);
    if (pr.denied.length) notes.push(`${pr.denied.length} process(es) partly unreadable (permission denied)`);
    for (const sk of pr.skipped) notes.push(`pid ${sk.pid} skipped: ${sk.reason}`);
    for (const hs of pr.hostSources) notes.push(`${hs.source} ${hs.reason}`);
    out.push(c.dim(`notes: ${notes.join('; ')}`));
  }
  return out.join('\n');
}
