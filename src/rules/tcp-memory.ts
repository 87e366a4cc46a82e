/**
 * tcp-memory: TCP buffer memory (sockstat "mem", in pages) against tcp_mem [min pressure max].
 * Above "pressure" the kernel shrinks socket buffers; above "max" it refuses allocations and drops.
 */
import type { Rule } from './types.js';

const NEAR_PRESSURE = 0.8;

export const tcpMemory: Rule = ({ snapshot: s }) => {
  const mem = s.sockstat.tcp?.memPages;
  const lim = s.limits.tcpMemPages;
  if (mem === undefined || !lim) return [];
  const [min, pressure, max] = lim;
  let severity: 'critical' | 'warning' | 'info' | undefined;
  if (mem >= max) severity = 'critical';
  else if (mem >= pressure) severity = 'warning';
  else if (mem >= pressure * NEAR_PRESSURE) severity = 'info';
  if (!severity) return [];
  const page = s.host.pageSizeBytes;
  const top = [...s.processes]
    .filter((p) => (p.sockets?.tcpTotal ?? 0) > 0)
    .sort((a, b) => (b.sockets?.tcpTotal ?? 0) - (a.sockets?.tcpTotal ?? 0))
    .slice(0, 5);
  return [
    {
      rule: 'tcp-memory',
      severity,
      title: `TCP memory ${mem} pages, ${severity === 'critical' ? 'above tcp_mem max' : severity === 'warning' ? 'above tcp_mem pressure' : 'near tcp_mem pressure'}`,
      summary:
        `Socket buffers hold ${mem} pages (${Math.round((mem * page) / 1024 ** 2)} MiB) against tcp_mem ${min} ${pressure} ${max}. ` +
        (severity === 'critical'
          ? 'Above max the kernel refuses new buffer memory: connections stall and packets drop ("TCP: out of memory").'
          : 'Above pressure the kernel squeezes every socket buffer: throughput falls on all connections.') +
        ' Usually sockets with unread data (a slow reader) or many orphans.',
      pids: top.map((p) => p.pid),
      evidence: {
        memPages: mem,
        tcpMemPages: lim,
        orphan: s.sockstat.tcp?.orphan,
        inuse: s.sockstat.tcp?.inuse,
        topSocketHolders: top.map((p) => ({ pid: p.pid, comm: p.comm, tcp: p.sockets?.tcpTotal })),
      },
      command:
        'cat /proc/net/sockstat; sysctl net.ipv4.tcp_mem; ss -tmn | sort -k2 -rn | head   # Recv-Q/Send-Q',
      next: 'find sockets with large Recv-Q (the application is not reading) or Send-Q (the peer is not reading)',
    },
  ];
};
