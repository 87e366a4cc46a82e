/**
 * Runs the record and history commands as a real process before src/cli/main.ts registers them:
 * `node --import tsx test/record/cli-entry.ts record …`. Exit codes and stderr match main.ts.
 */
import { formatError } from '../../src/cli/main.js';
import { recordCommand } from '../../src/cli/record.js';
import { historyCommand } from '../../src/cli/history.js';
import type { CliIO } from '../../src/cli/command.js';

const io: CliIO = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: false,
  env: process.env,
};
const [name, ...rest] = process.argv.slice(2);
const cmd = name === 'record' ? recordCommand : name === 'history' ? historyCommand : undefined;
if (!cmd) {
  process.stderr.write('usage: cli-entry.ts record|history …\n');
  process.exitCode = 2;
} else {
  try {
    process.exitCode = await cmd.run(rest, io);
  } catch (err) {
    process.stderr.write(formatError(err) + '\n');
    process.exitCode = 2;
  }
}
