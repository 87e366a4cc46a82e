import { collectSockets } from '../collect/sockets.js';
import { TCP_STATES, type TcpState } from '../collect/types.js';
import { UsageError } from '../util/errors.js';
import { renderSockets } from '../report/text-sockets.js';
import { commonOptions, intOption, parse, printJson, rootsFrom, type Command } from './command.js';

export const DEFAULT_STATES: TcpState[] = ['ESTABLISHED', 'SYN_RECV', 'TIME_WAIT', 'LAST_ACK', 'CLOSE_WAIT'];

export const socketsCommand: Command = {
  summary: 'TCP states with the top remote addresses per state and the owning processes',
  usage: `usage: procsleuth sockets [--top N] [--state S ...] [--include-local] [--no-owners] [--json]

For ESTABLISHED, SYN_RECV, TIME_WAIT, LAST_ACK and CLOSE_WAIT (or the --state given, repeatable,
e.g. --state close-wait) prints the top N (default 10) remote addresses with counts, side by
side, and the processes owning those sockets. The host's own addresses are left out unless
--include-local. --no-owners skips the walk of every process's fds (cheaper on huge hosts).`,
  async run(args, io) {
    const { values } = parse(args, {
      ...commonOptions,
      top: { type: 'string' },
      state: { type: 'string', multiple: true },
      'include-local': { type: 'boolean' },
      'no-owners': { type: 'boolean' },
    });
    const states = values.state?.length ? values.state.map(stateArg) : DEFAULT_STATES;
    const top = intOption(values.top, 'top', 10, 1);
    const report = await collectSockets({
      roots: rootsFrom(values, io.env),
      states,
      top,
      includeLocal: values['include-local'] === true,
      owners: values['no-owners'] !== true,
    });
    if (values.json) printJson(io, report);
    else io.out(renderSockets(report) + '\n');
    return 0;
  },
};

export function stateArg(s: string): TcpState {
  const norm = s
    .toUpperCase()
    .replace(/-/g, '_')
    .replace(/^SYN_RECEIVED$/, 'SYN_RECV');
  if ((TCP_STATES as readonly string[]).includes(norm)) return norm as TcpState;
  throw new UsageError(`unknown TCP state "${s}"; one of ${TCP_STATES.join(', ')}`);
}
