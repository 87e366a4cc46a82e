/**
 * `report` over five days at one minute for 1,000 processes: target under 10 s (issue 6). The record is
 * written once through the real RecordWriter by test/report/gen.ts (most processes idle, a tenth busy
 * each sample, planted memory, fd and CLOSE_WAIT leakers, a CPU spike, host series with a daily cycle)
 * and cached under the temp dir, keyed by the generator's version here.
 *
 * Each round times the whole command, `node bin/procsleuth.js report --db … --out …`, as a fresh
 * process: wall time, CPU time and peak RSS (from /usr/bin/time when present, else from the child's
 * rusage as Node reports it). `--no-triage` leaves out the snapshot of this host, which the record does
 * not need; a round with the triage is timed too unless `--no-triage-only` is given. Medians of
 * `--rounds` (default 3).
 *
 *   node --import tsx bench/report-speed.ts [--processes 1000] [--days 5] [--rounds 3] [--compare DIR]
 *
 * `--compare DIR` also times DIR/bin/procsleuth.js (another checkout, built), interleaved round by round
 * with this one, so both see the same load.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateRecord } from '../test/report/gen.js';
import { timeWhole } from './harness.js';

const GEN_VERSION = 2; // 2: the writer restates gauges every RESTATE_EVERY samples
const REPO = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    processes: { type: 'string' },
    days: { type: 'string' },
    rounds: { type: 'string' },
    compare: { type: 'string' },
    'no-triage-only': { type: 'boolean' },
  },
});
const PROCS = Number(args.processes ?? 1000);
const DAYS = Number(args.days ?? 5);
const ROUNDS = Number(args.rounds ?? 3);
const INTERVAL_MS = 60_000;
const SAMPLES = Math.round((DAYS * 86_400_000) / INTERVAL_MS);

const dir = join(tmpdir(), 'procsleuth-bench');
mkdirSync(dir, { recursive: true });
const db = join(dir, `report-speed-v${GEN_VERSION}-${PROCS}p-${DAYS}d.db`);
if (!existsSync(db)) {
  const tmp = `${db}.tmp`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  console.log(
    `generating ${PROCS} processes × ${SAMPLES} samples = ${((PROCS * SAMPLES) / 1e6).toFixed(2)} M process-samples …`,
  );
  const t0 = performance.now();
  // A fixed start keeps the cached record the same whatever day it was generated on.
  generateRecord(tmp, {
    processes: PROCS,
    samples: SAMPLES,
    intervalMs: INTERVAL_MS,
    startMs: Date.UTC(2025, 0, 6),
  });
  renameSync(tmp, db);
  console.log(`  written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
console.log(`record ${db}: ${(statSync(db).size / 1e6).toFixed(0)} MB`);

interface Run {
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
}

async function once(bin: string, extra: string[]): Promise<Run> {
  const out = join(dir, `report-speed-${process.pid}.html`);
  const t = await timeWhole([process.execPath, bin, 'report', '--db', db, '--out', out, ...extra]);
  const html = statSync(out).size;
  rmSync(out, { force: true });
  if (html < 10_000) throw new Error(`report too small: ${html} bytes`);
  return t;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const bins: [string, string][] = [['this checkout', join(REPO, 'bin/procsleuth.js')]];
if (args.compare) bins.push([args.compare, join(resolve(args.compare), 'bin/procsleuth.js')]);
const variants: [string, string[]][] = [['--no-triage', ['--no-triage']]];
if (!args['no-triage-only']) variants.push(['with triage of this host', []]);
const runs = new Map<string, Run[]>();
// Interleaved, so a change in the machine's load hits every variant alike.
for (let i = 0; i < ROUNDS; i++)
  for (const [variant, extra] of variants)
    for (const [name, bin] of bins) {
      const key = `${name}, ${variant}`;
      if (!runs.has(key)) runs.set(key, []);
      runs.get(key)!.push(await once(bin, extra));
    }

const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`report, ${DAYS} days at one minute, ${PROCS} processes; ${ROUNDS} rounds; load now ${load}`);
for (const [name, rs] of runs) {
  const wall = median(rs.map((r) => r.wallMs));
  console.log(
    `  ${name}: median ${(wall / 1000).toFixed(2)} s wall, ${(median(rs.map((r) => r.cpuMs)) / 1000).toFixed(2)} s CPU, ` +
      `peak RSS ${Math.max(...rs.map((r) => r.maxRssMb)).toFixed(0)} MB  (walls ${rs.map((r) => (r.wallMs / 1000).toFixed(2)).join(', ')})  ` +
      `target < 10 s ${wall < 10_000 ? 'met' : 'MISSED'}`,
  );
}
