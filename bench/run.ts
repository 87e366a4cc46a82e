/**
 * `npm run bench [-- NAME ...] [--runs N] [--warmup N] [--no-state] [--list]`
 *
 * Runs every bench/*.bench.ts (or the ones named: `snapshot` picks bench/snapshot.bench.ts). Each
 * file's default export is a bench definition from bench/harness.ts (a list of candidate commands, or
 * a custom `run(ctx)`). When any selected bench needs the bench state, it is set up once before the
 * first and torn down after the last — unless `bench/state.ts up` already put it in place, in which
 * case it is reused and left up. `--no-state` runs on the machine as it is.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { BENCH_DIR, OUT_DIR, formatTable, isCustomBench, runBench, type BenchDefinition } from './harness.js';
import { readStateFile, setupBenchState, type BenchState, type BenchStateInfo } from './state.js';

const log = (l: string): void => void process.stderr.write(`bench: ${l}\n`);

function isDefinition(x: unknown): x is BenchDefinition {
  if (typeof x !== 'object' || x === null) return false;
  const d = x as Record<string, unknown>;
  return typeof d.name === 'string' && (typeof d.run === 'function' || Array.isArray(d.candidates));
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      warmup: { type: 'string' },
      'no-state': { type: 'boolean' },
      list: { type: 'boolean' },
    },
  });
  const files = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
  if (values.list === true) {
    process.stdout.write(files.map((f) => f.replace(/\.bench\.ts$/, '')).join('\n') + '\n');
    return 0;
  }
  const wanted = positionals.map((p) => p.replace(/^bench\//, '').replace(/\.bench\.ts$/, ''));
  const unknown = wanted.filter((w) => !files.includes(`${w}.bench.ts`));
  if (unknown.length > 0) {
    log(
      `no such bench: ${unknown.join(', ')} (have: ${files.map((f) => f.replace(/\.bench\.ts$/, '')).join(', ')})`,
    );
    return 2;
  }
  const selected = wanted.length > 0 ? wanted.map((w) => `${w}.bench.ts`) : files;
  const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));

  const benches: { file: string; def: BenchDefinition }[] = [];
  for (const file of selected) {
    const mod = (await import(pathToFileURL(join(BENCH_DIR, file)).href)) as { default?: unknown };
    if (!isDefinition(mod.default)) {
      log(`${file}: skipped, its default export is not a bench definition (see bench/harness.ts)`);
      continue;
    }
    benches.push({ file, def: mod.default });
  }

  let owned: BenchState | undefined;
  let state: BenchStateInfo | undefined;
  if (values['no-state'] !== true && benches.some((b) => b.def.needsBenchState !== false)) {
    state = readStateFile();
    if (state !== undefined) {
      log('reusing the bench state started by "bench/state.ts up"');
    } else {
      owned = await setupBenchState({ log });
      state = owned.info;
    }
  }
  const stopOnSignal = (): void => {
    void (owned?.teardown() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  let failures = 0;
  try {
    for (const { file, def } of benches) {
      log(`${file}: ${def.title ?? def.name}`);
      try {
        if (isCustomBench(def)) {
          await def.run({ runs: num(values.runs), warmup: num(values.warmup), outDir: OUT_DIR, state, log });
        } else {
          const r = await runBench(def, {
            runs: num(values.runs),
            warmup: num(values.warmup),
            state: def.needsBenchState === false ? undefined : state,
            log,
          });
          process.stdout.write(formatTable(r) + `\n  → ${join('bench/out', `${r.name}.json`)}\n\n`);
        }
      } catch (err) {
        failures++;
        log(`${file}: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
  } finally {
    await owned?.teardown();
  }
  return failures > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
