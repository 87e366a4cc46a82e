/**
 * The command table. The only code that touches argv, stdout and exit codes (DESIGN.md): commands are
 * `(args, io) → exit code`; errors thrown below are turned into a message and exit code 2 here.
 */
import { ProcsleuthError } from '../util/errors.js';
import { toolVersion, type Command, type CliIO } from './command.js';

/**
 * Commands load lazily: a one-shot command pays Node's module loading for what it runs only (the
 * recorder's SQLite addon, the tracers and the rules cost ~100 ms to load that `sockets` never uses).
 */
interface Entry {
  summary: string;
  load: () => Promise<Command>;
}

export const commands = {
  triage: {
    summary: 'the whole checklist in seconds: what burns CPU, a syscall profile, findings (default command)',
    load: async () => (await import('./triage.js')).triageCommand,
  },
  trace: {
    summary: 'the syscall profile of a process or group: per syscall and per fd, fds resolved',
    load: async () => (await import('./trace.js')).traceCommand,
  },
  snapshot: {
    summary: 'read the whole host once: load, memory, limits, sockets, every process',
    load: async () => (await import('./snapshot.js')).snapshotCommand,
  },
  ps: {
    summary: 'top processes by CPU, RSS, PSS or fds; --group folds workers of one daemon',
    load: async () => (await import('./ps.js')).psCommand,
  },
  sockets: {
    summary: 'TCP states with the top remote addresses per state and the owning processes',
    load: async () => (await import('./sockets.js')).socketsCommand,
  },
  pmap: {
    summary: 'every mapping of a process with its kind and RSS, and the pmap -x / -d totals',
    load: async () => (await import('./pmap.js')).pmapCommand,
  },
  fds: {
    summary: 'every fd of a process resolved: files, pipes, sockets with endpoints, state and peer',
    load: async () => (await import('./fds.js')).fdsCommand,
  },
  record: {
    summary: 'record every process every interval into SQLite, cheaply, for days',
    load: async () => (await import('./record.js')).recordCommand,
  },
  history: {
    summary: 'a recorded series with a sparkline: a process, a group of workers, or a process tree',
    load: async () => (await import('./history.js')).historyCommand,
  },
  leaks: {
    summary:
      'leak suspects from the record: memory, fds, sockets, CLOSE_WAIT, threads — per run, group and tree',
    load: async () => (await import('./leaks.js')).leaksCommand,
  },
  spikes: {
    summary: 'CPU spike onsets from the record, with the processes whose onsets coincide',
    load: async () => (await import('./spikes.js')).spikesCommand,
  },
  report: {
    summary: 'an HTML report with charts from the record and a triage; --bundle for a vendor',
    load: async () => (await import('./report.js')).reportCommand,
  },
  serve: {
    summary: 'a live dashboard of the record in the browser, with a JSON API under /api/',
    load: async () => (await import('./serve.js')).serveCommand,
  },
} satisfies Record<string, Entry>;

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
    io.out(`${toolVersion()}\n`);
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
  try {
    const cmd: Command = await commands[name as CommandName].load();
    if (rest.includes('-h') || rest.includes('--help')) {
      io.out(`${cmd.usage}\n`);
      return 0;
    }
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
