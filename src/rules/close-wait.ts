/**
 * close-wait: sockets in CLOSE_WAIT piling up in one process. The peer has closed; only the application
 * can finish the close, so a pile-up means the application never calls close() — a socket leak.
 */
import type { Finding, Rule } from './types.js';
import { who } from './util.js';

const WARN = 20;
const CRIT = 500;

export const closeWait: Rule = ({ snapshot: s }) => {
  const out: Finding[] = [];
  const remotes = s.tcp.remotes.CLOSE_WAIT ?? [];
  for (const p of s.processes) {
    const n = p.sockets?.tcp.CLOSE_WAIT ?? 0;
    if (n < WARN) continue;
    out.push({
      rule: 'close-wait',
      severity: n >= CRIT || (typeof p.fdLimit === 'number' && n >= p.fdLimit / 2) ? 'critical' : 'warning',
      title: `${who(p)} holds ${n} sockets in CLOSE_WAIT`,
      summary: `${n} TCP connections of ${who(p)} were closed by the other side but never by the application: the program does not call close() after the peer hangs up. They hold fds (${p.fdCount ?? '?'} of ${p.fdLimit ?? '?'} used) and memory until the process exits.`,
      pids: [p.pid],
      evidence: {
        closeWait: n,
        fdCount: p.fdCount,
        fdLimit: p.fdLimit,
        sockets: p.sockets?.tcp,
        hostCloseWait: s.tcp.states.CLOSE_WAIT,
        topRemotes: remotes.slice(0, 10),
        fromThisHost: s.tcp.localRemotes.CLOSE_WAIT,
      },
      command: `ss -tanp state close-wait | grep 'pid=${p.pid},' | head`,
      next: `a socket leak in ${p.comm}: procsleuth record + procsleuth leaks shows its growth rate; the vendor needs the code path that misses close() on EOF/error`,
    });
  }
  return out;
};
