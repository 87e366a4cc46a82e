/** Shared shape of the time-wait, syn-recv and last-ack rules: an abnormal count with the top remotes. */
import type { Snapshot, TcpState } from '../collect/types.js';
import type { Finding, Severity } from './types.js';

export function stateFinding(
  s: Snapshot,
  rule: string,
  state: TcpState,
  severity: Severity,
  title: string,
  summary: string,
  command: string,
  next: string,
  extra: Record<string, unknown> = {},
): Finding {
  return {
    rule,
    severity,
    title,
    summary,
    pids: [],
    evidence: {
      [state]: s.tcp.states[state],
      ...extra,
      topRemotes: (s.tcp.remotes[state] ?? []).slice(0, 10),
      fromThisHost: s.tcp.localRemotes[state],
    },
    command,
    next,
  };
}
