/** orphans: TCP sockets no process holds any more (closed but not finished) against tcp_max_orphans. */
import type { Rule } from './types.js';
import { level, pct } from './util.js';

const WARN = 0.5;
const CRIT = 0.9;

export const orphans: Rule = ({ snapshot: s }) => {
  const n = s.sockstat.tcp?.orphan;
  const max = s.limits.tcpMaxOrphans;
  if (n === undefined || !max) return [];
  const ratio = n / max;
  const sev = level(ratio, WARN, CRIT);
  if (!sev) return [];
  const fin = s.tcp.states;
  return [
    {
      rule: 'orphans',
      severity: sev,
      title: `${n} orphaned TCP sockets (${pct(ratio)} of tcp_max_orphans ${max})`,
      summary: `${n} TCP sockets were closed by their process but are still finishing (FIN_WAIT, LAST_ACK, CLOSING). Past tcp_max_orphans (${max}) the kernel resets them at once and logs "too many orphaned sockets"; each also holds memory.`,
      pids: [],
      evidence: {
        orphan: n,
        tcpMaxOrphans: max,
        finWait1: fin.FIN_WAIT1,
        finWait2: fin.FIN_WAIT2,
        lastAck: fin.LAST_ACK,
        closing: fin.CLOSING,
        topLastAckRemotes: s.tcp.remotes.LAST_ACK?.slice(0, 5),
      },
      command:
        'cat /proc/net/sockstat; sysctl net.ipv4.tcp_max_orphans; ss -tan state fin-wait-1 state last-ack | head',
      next: 'find the peers that do not acknowledge (top remote addresses in FIN_WAIT1/LAST_ACK)',
    },
  ];
};
