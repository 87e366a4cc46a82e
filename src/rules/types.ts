/**
 * A rule reads a snapshot (and the syscall profile, when one was taken) and returns findings. Rules are
 * pure: no I/O, no clock. Each lives in its own file and is registered in ./index.ts.
 */
import type { Snapshot } from '../collect/types.js';
import type { ProcessGroup } from '../collect/group.js';
import type { ResolvedFd } from '../collect/fds.js';
import type { SyscallProfile } from '../trace/types.js';

export type Severity = 'critical' | 'warning' | 'info';

export const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export interface Finding {
  rule: string;
  severity: Severity;
  title: string;
  /** What is wrong, in plain words a person on call understands. */
  summary: string;
  pids: number[];
  /** The numbers the finding rests on, with units in the names. */
  evidence: Record<string, unknown>;
  /** What to run to see it yourself. */
  command: string;
  /** What to do next. */
  next: string;
}

export interface RuleInput {
  snapshot: Snapshot;
  profile?: SyscallProfile | undefined;
  /** fds the profile named, resolved: pid → fd → what it is. */
  fds?: ReadonlyMap<number, ReadonlyMap<number, ResolvedFd>> | undefined;
  /** Our own pid: never a suspect. */
  selfPid?: number | undefined;
}

export type Rule = (input: RuleInput) => Finding[];

/** What `triage --json` prints (schema procsleuth.triage/1). */
export interface TriageReport {
  schema: 'procsleuth.triage/1';
  takenAt: string;
  host: Snapshot['host'];
  limits: Snapshot['limits'];
  sockstat: Snapshot['sockstat'];
  tcp: Snapshot['tcp'];
  hotGroups: Pick<ProcessGroup, 'label' | 'comm' | 'pids' | 'count' | 'cpuPercent' | 'rssBytes'>[];
  traced: { pids: number[]; reason: string } | undefined;
  profile: SyscallProfile | undefined;
  findings: Finding[];
  problems: Snapshot['problems'];
  timings: Snapshot['timings'];
  notes: string[];
}
