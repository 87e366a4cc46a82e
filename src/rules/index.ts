/** The triage rules, one per file, in an explicit registry (no import side effects). */
import type { Finding, Rule, RuleInput } from './types.js';
import { SEVERITY_ORDER } from './types.js';
import { load } from './load.js';
import { cpuHog } from './cpu-hog.js';
import { busyPoll } from './busy-poll.js';
import { fdExhaustion } from './fd-exhaustion.js';
import { tcpMemory } from './tcp-memory.js';
import { orphans } from './orphans.js';
import { closeWait } from './close-wait.js';
import { timeWait } from './time-wait.js';
import { synRecv } from './syn-recv.js';
import { lastAck } from './last-ack.js';
import { sharedMemory } from './shared-memory.js';
import { memoryPressure } from './memory-pressure.js';
import { zombies } from './zombies.js';
import { threads } from './threads.js';

export const rules = {
  load,
  'cpu-hog': cpuHog,
  'busy-poll': busyPoll,
  'fd-exhaustion': fdExhaustion,
  'tcp-memory': tcpMemory,
  orphans,
  'close-wait': closeWait,
  'time-wait': timeWait,
  'syn-recv': synRecv,
  'last-ack': lastAck,
  'shared-memory': sharedMemory,
  'memory-pressure': memoryPressure,
  zombies,
  threads,
} satisfies Record<string, Rule>;

export type RuleName = keyof typeof rules;

/** Runs every rule; a rule that throws is a bug, reported as a finding rather than hiding the others. */
export function runRules(input: RuleInput, only?: readonly RuleName[]): Finding[] {
  const out: Finding[] = [];
  for (const [name, rule] of Object.entries(rules) as [RuleName, Rule][]) {
    if (only && !only.includes(name)) continue;
    try {
      out.push(...rule(input));
    } catch (err) {
      out.push({
        rule: name,
        severity: 'info',
        title: `rule ${name} failed`,
        summary: `internal error in rule ${name}: ${err instanceof Error ? err.message : String(err)}`,
        pids: [],
        evidence: {},
        command: '',
        next: 'report this as a bug in procsleuth',
      });
    }
  }
  return sortFindings(out);
}

export function sortFindings(fs: Finding[]): Finding[] {
  return [...fs].sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.rule.localeCompare(b.rule),
  );
}
