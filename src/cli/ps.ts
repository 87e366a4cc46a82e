import { collectSnapshot } from '../collect/snapshot.js';
import { groupProcesses } from '../collect/group.js';
import { UsageError } from '../util/errors.js';
import { renderGroups, renderProcesses, sortGroups, sortProcesses, type SortKey } from '../report/text-ps.js';
import {
  commonOptions,
  durationMs,
  intOption,
  parse,
  printJson,
  rootsFrom,
  type Command,
} from './command.js';

const SORT_KEYS = ['cpu', 'rss', 'pss', 'fds', 'swap', 'threads', 'sockets'] as const;

export const psCommand: Command = {
  summary: 'top processes by CPU, RSS, PSS or fds; --group folds workers of one daemon',
  usage: `usage: procsleuth ps [--sort cpu|rss|pss|fds|swap|threads|sockets] [--group] [--top N|--all] [--json]

CPU is measured over a short window (--cpu-window, default 250ms), not averaged over the
process's lifetime as ps does. --group folds processes of the same executable and arguments.`,
  async run(args, io) {
    const { values } = parse(args, {
      ...commonOptions,
      sort: { type: 'string' },
      group: { type: 'boolean' },
      top: { type: 'string' },
      all: { type: 'boolean' },
      'cpu-window': { type: 'string' },
    });
    const sort = (values.sort ?? 'cpu') as SortKey;
    if (!(SORT_KEYS as readonly string[]).includes(sort))
      throw new UsageError(`--sort must be one of ${SORT_KEYS.join(', ')}; got "${values.sort}"`);
    const top = values.all ? Infinity : intOption(values.top, 'top', 20, 1);
    const snap = await collectSnapshot({
      roots: rootsFrom(values, io.env),
      cpuWindowMs: durationMs(values['cpu-window'], 'cpu-window', 250),
      pss: sort === 'pss' || values.json === true,
      sockets: true,
    });
    if (values.group) {
      const groups = sortGroups(groupProcesses(snap.processes), sort).slice(0, top);
      if (values.json)
        printJson(io, {
          schema: 'procsleuth.ps/1',
          takenAt: snap.takenAt,
          sort,
          grouped: true,
          groups,
          problems: snap.problems,
        });
      else io.out(renderGroups(groups) + '\n');
    } else {
      const procs = sortProcesses(snap.processes, sort).slice(0, top);
      if (values.json)
        printJson(io, {
          schema: 'procsleuth.ps/1',
          takenAt: snap.takenAt,
          sort,
          grouped: false,
          processes: procs,
          problems: snap.problems,
        });
      else io.out(renderProcesses(procs) + '\n');
    }
    if (
      !values.json &&
      (snap.problems.denied.length > 0 || snap.problems.vanished > 0 || snap.problems.skipped.length > 0)
    )
      io.err(problemLine(snap.problems) + '\n');
    return 0;
  },
};

export function problemLine(p: { vanished: number; denied: unknown[]; skipped: unknown[] }): string {
  const parts: string[] = [];
  if (p.vanished) parts.push(`${p.vanished} process(es) exited while being read`);
  if (p.denied.length)
    parts.push(
      `${p.denied.length} process(es) partly unreadable (permission denied; run as root to see all)`,
    );
  if (p.skipped.length) parts.push(`${p.skipped.length} process(es) skipped: malformed /proc files`);
  return `note: ${parts.join('; ')}`;
}
