import { collectSnapshot } from '../collect/snapshot.js';
import { renderSnapshot } from '../report/text-snapshot.js';
import { commonOptions, durationMs, parse, printJson, rootsFrom, type Command } from './command.js';
import { colours, useColour } from '../util/format.js';

export const snapshotCommand: Command = {
  summary: 'read the whole host once: load, memory, limits, sockets, every process',
  usage: `usage: procsleuth snapshot [--json] [--cpu-window 250ms] [--no-pss] [--proc-root DIR] [--sys-root DIR]

Reads /proc once and prints the host, kernel limits, sockstat, TCP states with the top remote
addresses, and the top processes. --json prints everything (schema procsleuth.snapshot/1).`,
  async run(args, io) {
    const { values } = parse(args, {
      ...commonOptions,
      'cpu-window': { type: 'string' },
      'no-pss': { type: 'boolean' },
    });
    const snap = await collectSnapshot({
      roots: rootsFrom(values, io.env),
      cpuWindowMs: durationMs(values['cpu-window'], 'cpu-window', 250),
      pss: values['no-pss'] !== true,
    });
    if (values.json) printJson(io, snap);
    else io.out(renderSnapshot(snap, colours(useColour(io.isTTY, io.env))) + '\n');
    return 0;
  },
};
