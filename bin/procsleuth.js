#!/usr/bin/env node
/*
 * One-shot commands start from the esbuild bundle (scripts/bundle.mjs) when it is at least as new as
 * the tsc output: Node then loads a handful of files instead of every module of the command's import
 * graph (measured 20–50 ms less for snapshot and triage). Commands that locate files next to their
 * own module (record, serve, report start workers and read assets that way) always run from dist/.
 */
import { statSync } from 'node:fs';
import { URL } from 'node:url';

const ONE_SHOT = new Set(['triage', 'trace', 'snapshot', 'ps', 'sockets', 'pmap', 'fds']);
const args = process.argv.slice(2);
const first = args[0];
const command = first === undefined || first.startsWith('-') ? 'triage' : first;

function bundleIsFresh() {
  try {
    const bundle = statSync(new URL('../dist/bundle/main.js', import.meta.url)).mtimeMs;
    return bundle >= statSync(new URL('../dist/cli/main.js', import.meta.url)).mtimeMs;
  } catch {
    return false;
  }
}

const { main } =
  ONE_SHOT.has(command) && !process.env.PROCSLEUTH_NO_BUNDLE && bundleIsFresh()
    ? await import('../dist/bundle/main.js')
    : await import('../dist/cli/main.js');

process.exitCode = await main(args);
