/**
 * Starting a worker thread on one of our modules, from dist/ (plain JS) or from the TypeScript sources
 * (tests, tsx). Node 20 does not carry the tsx loader into a worker from `execArgv` (an inherited
 * `--import tsx` even breaks registering it again), so a worker started from the sources runs an eval'd
 * bootstrap that registers tsx first. Its ESM entry is used: the CommonJS twin fails to load under a
 * parent's tsx hooks.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** The module `base` beside the caller (`self` = its import.meta.url), with the caller's extension. */
export function siblingModule(self: string, base: string): string {
  return new URL(`./${base}${self.endsWith('.ts') ? '.ts' : '.js'}`, self).href;
}

/** A JS expression, for an eval'd worker bootstrap, that settles once modules like `self` can load. */
export function loaderReady(self: string): string {
  if (!self.endsWith('.ts')) return 'Promise.resolve()';
  return `import(${JSON.stringify(tsxEsmApi(self))}).then((t) => t.register())`;
}

function tsxEsmApi(from: string): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return pathToFileURL(
      createRequire(from)
        .resolve('tsx/esm/api')
        .replace(/\.cjs$/, '.mjs'),
    ).href;
  }
}
