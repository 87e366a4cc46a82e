/**
 * time-wait: TIME_WAIT is normal after active closes; it becomes a problem when it eats the ephemeral
 * port range (connect() fails with EADDRNOTAVAIL) — judged against ip_local_port_range per remote.
 */
import type { Rule } from './types.js';
import { stateFinding } from './tcp-state-count.js';

const PORT_SHARE_WARN = 0.5;
const PORT_SHARE_CRIT = 0.9;

export const timeWait: Rule = ({ snapshot: s }) => {
  const n = s.tcp.states.TIME_WAIT;
  const range = s.limits.ipLocalPortRange;
  if (!range || n === 0) return [];
  const ports = range[1] - range[0] + 1;
  // Ports are per (source, destination) pair: the busiest remote is the one that runs out first.
  const busiest = Math.max(s.tcp.remotes.TIME_WAIT?.[0]?.count ?? 0, s.tcp.localRemotes.TIME_WAIT ?? 0);
  const share = busiest / ports;
  if (share < PORT_SHARE_WARN) return [];
  return [
    stateFinding(
      s,
      'time-wait',
      'TIME_WAIT',
      share >= PORT_SHARE_CRIT ? 'critical' : 'warning',
      `${n} sockets in TIME_WAIT; ${busiest} toward one peer (${Math.round(share * 100)}% of ${ports} local ports)`,
      `This host closes connections first and reconnects fast: ${busiest} TIME_WAIT sockets toward one remote use ${Math.round(share * 100)}% of the ephemeral port range (${range[0]}-${range[1]}). When it is used up, connect() fails with EADDRNOTAVAIL.`,
      "ss -tan state time-wait | awk '{print $4}' | cut -d: -f1 | sort | uniq -c | sort -rn | head; sysctl net.ipv4.ip_local_port_range net.ipv4.tcp_tw_reuse",
      'reuse connections (keep-alive, pooling); net.ipv4.tcp_tw_reuse=1 helps outgoing connections',
      { ipLocalPortRange: range, busiestRemoteCount: busiest },
    ),
  ];
};
