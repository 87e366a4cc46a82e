import { collectFds } from '../collect/fds.js';
import { renderFds } from '../report/text-fds.js';
import { commonOptions, parse, pidArg, printJson, rootsFrom, type Command } from './command.js';

export const fdsCommand: Command = {
  summary: 'every fd of a process resolved: files, pipes, sockets with endpoints, state and peer',
  usage: `usage: procsleuth fds PID [--no-peers] [--json]

Like ls -la /proc/PID/fd, lsof -p PID and ss -p together: each fd with what it is. Sockets show
protocol, endpoints and TCP state; unix sockets their path and the process at the other end;
pipes the process at the other end. --no-peers skips the walk over every process's fds.`,
  async run(args, io) {
    const { values, positionals } = parse(args, { ...commonOptions, 'no-peers': { type: 'boolean' } }, true);
    const report = await collectFds(rootsFrom(values, io.env), pidArg(positionals[0]), {
      peers: values['no-peers'] !== true,
    });
    if (values.json) printJson(io, report);
    else io.out(renderFds(report) + '\n');
    return 0;
  },
};
