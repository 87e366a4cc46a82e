/**
 * Runs the leaks and spikes commands as a real process before src/cli/main.ts registers them:
 * `node --import tsx test/detect/cli-entry.ts leaks …`. Exit codes and stderr match main.ts.
 */
import { formatError } from '../../src/cli/main.js';
import { leaksCommand } from '../../src/cli/leaks.js';
import { spikesCommand } from '../../src/cli/spikes.js';
import type { CliIO } from '../../src/cli/command.js';

const io: CliIO = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: false,
  env: process.env,
};
const [name, ...rest] = process.argv.slice(2);
const cmd = name === 'leaks' ? leaksCommand : name === 'spikes' ? spikesCommand : undefined;
if (!cmd) {
  process.stderr.write('usage: cli-entry.ts leaks|spikes …\n');
  process.exitCode = 2;
} else {
  try {
    process.exitCode = await cmd.run(rest, io);
  } catch (err) {
    process.stderr.write(formatError(err) + '\n');
    process.exitCode = 2;
  }
}
