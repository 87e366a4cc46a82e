import { collectPmap } from '../collect/pmap-report.js';
import { renderPmap } from '../report/text-pmap.js';
import { commonOptions, parse, pidArg, printJson, rootsFrom, type Command } from './command.js';

export const pmapCommand: Command = {
  summary: 'every mapping of a process with its kind and RSS, and the pmap -x / -d totals',
  usage: `usage: procsleuth pmap PID [--json]

Each mapping with its kind (heap, stack, anon, file, shared-anon such as /dev/zero (deleted),
sysv-shm, memfd, vdso…) and RSS, a summary per kind, and the totals pmap -x (Kbytes, RSS, Dirty)
and pmap -d (mapped, writeable/private, shared) print, computed the same way.`,
  async run(args, io) {
    const { values, positionals } = parse(args, { ...commonOptions }, true);
    const report = collectPmap(rootsFrom(values, io.env), pidArg(positionals[0]));
    if (values.json) printJson(io, report);
    else io.out(renderPmap(report) + '\n');
    return 0;
  },
};
