/**
 * Bundles the CLI into dist/bundle/ with esbuild (one ESM entry plus a chunk per lazily loaded
 * command), so a one-shot command loads a few files instead of every module of its import graph.
 * bin/procsleuth.js uses the bundle for the one-shot commands when it is at least as new as the tsc
 * output in dist/, so a stale bundle is never run. npm dependencies stay external (better-sqlite3
 * and its addon load from node_modules as before).
 *
 * dist/bundle/ sits two levels below the repository like dist/<layer>/, so the paths the modules
 * resolve from their own URL (../../build/Release/*.node, ../../package.json) still hold.
 *
 *   node scripts/bundle.mjs          (run after `tsc -p tsconfig.build.json`)
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  tsconfig: 'tsconfig.build.json',
  logLevel: 'warning',
});
