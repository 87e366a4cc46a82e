/** last-ack: we closed after the peer did and wait for its final ACK; a pile-up means peers vanish or a middlebox drops. */
import type { Rule } from './types.js';
import { stateFinding } from './tcp-state-count.js';

const WARN = 128;
const CRIT = 2048;

export const lastAck: Rule = ({ snapshot: s }) => {
  const n = s.tcp.states.LAST_ACK;
  if (n < WARN) return [];
  return [
    stateFinding(
      s,
      'last-ack',
      'LAST_ACK',
      n >= CRIT ? 'critical' : 'warning',
      `${n} sockets waiting in LAST_ACK`,
      `${n} connections were closed by both sides but the peer's final ACK never arrived. They are orphans retrying their FIN: peers that disappeared, or a firewall dropping the end of connections.`,
      "ss -tan state last-ack | awk '{print $5}' | cut -d: -f1 | sort | uniq -c | sort -rn | head",
      'look at the top remote addresses and the path to them',
    ),
  ];
};
