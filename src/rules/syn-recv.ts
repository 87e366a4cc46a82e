/** syn-recv: half-open connections piling up — a SYN flood, or an accept backlog the application drains too slowly. */
import type { Rule } from './types.js';
import { stateFinding } from './tcp-state-count.js';

const WARN = 128;
const CRIT = 1024;

export const synRecv: Rule = ({ snapshot: s }) => {
  const n = s.tcp.states.SYN_RECV + s.tcp.states.NEW_SYN_RECV;
  if (n < WARN) return [];
  return [
    stateFinding(
      s,
      'syn-recv',
      'SYN_RECV',
      n >= CRIT ? 'critical' : 'warning',
      `${n} half-open connections (SYN_RECV)`,
      `${n} connections got our SYN-ACK but never completed the handshake. Many from few addresses suggest a SYN flood; many from everywhere, a listener whose backlog (somaxconn ${s.limits.somaxconn ?? '?'}) overflows because the application accepts too slowly.`,
      "ss -tan state syn-recv | awk '{print $5}' | cut -d: -f1 | sort | uniq -c | sort -rn | head; nstat -az TcpExtListenOverflows TcpExtSyncookiesSent",
      "check net.ipv4.tcp_syncookies and the listener's accept rate",
      { somaxconn: s.limits.somaxconn },
    ),
  ];
};
