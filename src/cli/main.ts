/**
 * The command table. The only code that touches argv, stdout and exit codes (DESIGN.md): commands are
 * `(args, io) → exit code`; errors thrown below are turned into a message and exit code 2 here.
 */
import { ProcsleuthError } from '../util/errors.js';
import type { Command, CliIO } from './command.js';
import { snapshotCommand } from './snapshot.js';
import { psCommand } from './ps.js';
import { socketsCommand } from './sockets.js';
import { pmapCommand } from './pmap.js';
import { fdsCommand } from './fds.js';
import { triageCommand } from './triage.js';
import { traceCommand } from './trace.js';
import { recordCommand } from './record.js';
import { historyCommand } from './history.js';

export const commands = {
  triage: triageCommand,
  trace: traceCommand,
  snapshot: snapshotCommand,
  ps: psCommand,
  sockets: socketsCommand,
  pmap: pmapCommand,
  fds: fdsCommand,
  record: recordCommand,
  history: historyCommand,
} satisfies Record<string, Command>;

type CommandName = keyof typeof commands;

export const DEFAULT_COMMAND: CommandName = 'triage';

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    'usage: procsleuth [command] [options]',
    '',
    'commands:',
    ...lines,
    '',
    'common options:',
    '  --json              one JSON document (schema procsleuth.<command>/<version>)',
    '  --proc-root DIR     read /proc from DIR (env PROCSLEUTH_PROC_ROOT)',
    '  --sys-root DIR      read /sys from DIR (env PROCSLEUTH_SYS_ROOT)',
    '  -h, --help          help for a command',
    '',
    'exit codes: 0 nothing wrong, 1 a warning or critical finding, 2 error',
  ].join('\n');
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const first = argv[0];
  if (first === '-h' || first === '--help' || first === 'help') {
    io.out(usage() + '\n');
    return 0;
  }
  if (first === '--version' || first === '-V') {
    io.out(`${await version()}\n`);
    return 0;
  }
  let name: string = DEFAULT_COMMAND;
  let rest = argv;
  if (first !== undefined && !first.startsWith('-')) {
    name = first;
    rest = argv.slice(1);
  }
  if (!Object.hasOwn(commands, name)) {
    io.err(`procsleuth: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  const cmd: Command = commands[name as CommandName];
  if (rest.includes('-h') || rest.includes('--help')) {
    io.out(`${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    io.err(formatError(err) + '\n');
    return 2;
  }
}

export function formatError(err: unknown): string {
  if (err instanceof ProcsleuthError) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    const hint = err.code === 'USAGE' ? '\nrun "procsleuth <command> --help" for usage' : '';
    return `procsleuth: ${err.message}${err.code === 'PARSE' ? '' : cause}${hint}`;
  }
  if (err instanceof Error) return `procsleuth: internal error: ${err.stack ?? err.message}`;
  return `procsleuth: internal error: ${String(err)}`;
}

function processIO(): CliIO {
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
  };
}

async function version(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
