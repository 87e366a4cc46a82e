/**
 * Runs `report` and `serve` as a real process before src/cli/main.ts registers them:
 * `node --import tsx test/report/cli-entry.ts report …`. Exit codes and stderr match main.ts.
 */
import { formatError } from '../../src/cli/main.js';
import type { CliIO, Command } from '../../src/cli/command.js';

const io: CliIO = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: false,
  env: process.env,
};
const [name, ...rest] = process.argv.slice(2);
let cmd: Command | undefined;
if (name === 'report') cmd = (await import('../../src/cli/report.js')).reportCommand;
else if (name === 'serve') cmd = (await import('../../src/cli/serve.js')).serveCommand;
else if (name === 'record') cmd = (await import('../../src/cli/record.js')).recordCommand;
if (!cmd) {
  process.stderr.write('usage: cli-entry.ts report|serve|record …\n');
  process.exitCode = 2;
} else {
  try {
    process.exitCode = await cmd.run(rest, io);
  } catch (err) {
    process.stderr.write(formatError(err) + '\n');
    process.exitCode = 2;
  }
}
