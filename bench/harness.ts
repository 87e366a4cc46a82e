/**
 * Times whole commands the way a person would, so procsleuth and its peers are compared on the same
 * footing: process start-up included, output sent to /dev/null.
 *
 * - Every command runs under test/scenarios/time-exec.c, which reports wall time from fork to exit and
 *   the user+sys CPU of the command and every descendant it waited for, in microseconds (GNU time
 *   prints hundredths, too coarse for 20 ms commands), plus peak RSS.
 * - A candidate is one command, or several run one after the other and summed ("ps, then ss -tanp":
 *   what a person types). Commands are argv arrays; a shell appears only where the peer itself is a
 *   shell pipeline, as `['bash', '-c', script]`.
 * - Warm-up rounds are discarded. Then each round runs every candidate once, the starting candidate
 *   rotating from round to round, so drifting machine noise (page cache, a cron job, another helper's
 *   test) hits all candidates alike rather than whichever ran last.
 * - Reported per candidate: median, p90 and min of wall and CPU time, and their ratios to the baseline
 *   candidate's medians. Results go to bench/out/<name>.json (schema procsleuth.bench/1).
 *
 * A candidate whose program or required file is missing is reported as missing (with the reason), not
 * as a crash, so the peers can be timed before procsleuth is built.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileScenario } from '../test/helpers/scenarios.js';
import { countProcesses, readSockstat, type BenchStateInfo } from './state.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(BENCH_DIR, '..');
export const OUT_DIR = join(BENCH_DIR, 'out');

export interface Candidate {
  name: string;
  /** One command, or several run sequentially whose times are summed. Argv arrays, never shell strings. */
  commands: string[][];
  /** Files (relative to the repo root) that must exist, e.g. `dist/cli/main.js`. */
  requires?: string[];
  /** Exit codes that count as success (default [0]); lsof, for one, exits 1 on harmless warnings. */
  okExitCodes?: number[];
  note?: string;
}

export interface BenchSpec {
  name: string;
  title?: string;
  candidates: Candidate[];
  /** Name of the candidate the ratios are computed against. */
  baseline: string;
  runs?: number;
  warmup?: number;
  /** Whether bench/run.ts must put the machine in the bench state first (default true). */
  needsBenchState?: boolean;
}

/** A bench that is not "time these commands" (e.g. a recorder's CPU over a minute). */
export interface CustomBench {
  name: string;
  title?: string;
  needsBenchState?: boolean;
  run(ctx: BenchContext): Promise<unknown>;
}

export type BenchDefinition = BenchSpec | CustomBench;

export interface BenchContext {
  runs: number | undefined;
  warmup: number | undefined;
  outDir: string;
  state: BenchStateInfo | undefined;
  log: (line: string) => void;
}

export function defineBench<T extends BenchDefinition>(d: T): T {
  return d;
}

/**
 * With PROCSLEUTH_BENCH_BEFORE=DIR (a built checkout of an earlier commit, e.g. from `git archive`),
 * the same procsleuth command from there as one more candidate, so a change is timed before and after
 * in the same run, under the same load.
 */
export function beforeCandidate(name: string, args: string[], okExitCodes?: number[]): Candidate[] {
  const dir = process.env['PROCSLEUTH_BENCH_BEFORE'];
  if (!dir) return [];
  const bin = join(resolve(dir), 'bin', 'procsleuth.js');
  return [
    {
      name: `${name} (before: ${dir})`,
      commands: [['node', bin, ...args]],
      requires: [bin],
      ...(okExitCodes ? { okExitCodes } : {}),
    },
  ];
}

export function isCustomBench(d: BenchDefinition): d is CustomBench {
  return typeof (d as CustomBench).run === 'function';
}

export interface Sample {
  wallMs: number;
  cpuMs: number;
  userMs: number;
  sysMs: number;
  maxRssKib: number;
  exitCodes: (number | null)[];
}

export interface Stats {
  median: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
}

export interface CandidateResult {
  name: string;
  commands: string[][];
  note?: string;
  available: boolean;
  /** Why it was not run (missing program or file). */
  missing?: string;
  /** Set when a run exited with a code outside okExitCodes; its times are still reported. */
  failed?: string;
  samples: Sample[];
  wallMs?: Stats;
  cpuMs?: Stats;
  maxRssKib?: number;
  /** Candidate median ÷ baseline median: 2 means twice as slow as the baseline. */
  wallRatioToBaseline?: number;
  cpuRatioToBaseline?: number;
}

export interface BenchResult {
  schema: 'procsleuth.bench/1';
  name: string;
  title?: string;
  startedAt: string;
  durationMs: number;
  runs: number;
  warmup: number;
  /** The baseline asked for, and the one used (the first available candidate when it is missing). */
  baseline: { requested: string; used: string | undefined };
  machine: MachineInfo;
  state: BenchStateInfo | undefined;
  results: CandidateResult[];
}

export interface MachineInfo {
  hostname: string;
  kernel: string;
  cpus: number;
  node: string;
  loadavg: string;
  processCount: number;
  tcpInuse?: number;
  tcpTw?: number;
}

export function stats(xs: readonly number[]): Stats | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
  const mid = s.length / 2;
  const median =
    s.length % 2 === 1 ? (s[Math.floor(mid)] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
  return {
    median,
    p90: at(0.9), // nearest rank
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

/** The order of round `r`: every candidate once, starting one further along each round. */
export function roundOrder(n: number, r: number): number[] {
  return Array.from({ length: n }, (_, i) => (i + r) % n);
}

/** Why a candidate cannot run here, or undefined when it can. */
export function missingReason(c: Candidate, root = REPO_ROOT): string | undefined {
  for (const f of c.requires ?? []) {
    if (!existsSync(resolve(root, f))) return `${f} does not exist (not built yet?)`;
  }
  for (const argv of c.commands) {
    const prog = argv[0];
    if (prog === undefined) return 'empty command';
    if (findProgram(prog) === undefined) return `${prog} is not installed (not on PATH)`;
  }
  return undefined;
}

function findProgram(prog: string): string | undefined {
  if (prog.includes('/')) {
    const p = isAbsolute(prog) ? prog : resolve(REPO_ROOT, prog);
    return existsSync(p) ? p : undefined;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, prog))) return join(dir, prog);
  }
  return undefined;
}

interface TimeExecReport {
  wallUs: number;
  userUs: number;
  sysUs: number;
  maxRssKib: number;
  exitCode: number;
  signal: number;
  execErrno: number;
  execError: string;
}

/**
 * The environment candidates run in. NODE_EXTRA_CA_CERTS is dropped: Node parses that bundle at every
 * start (measured 80 ms on this VM, whose sandbox sets it; `node -e 0` takes 30 ms without it), a cost
 * of the machine's configuration that a typical server does not have and the peer tools never pay.
 * PROCSLEUTH_BENCH_KEEP_ENV=1 keeps it, to measure a machine that sets it.
 */
export function benchEnv(): NodeJS.ProcessEnv {
  if (process.env['PROCSLEUTH_BENCH_KEEP_ENV'] === '1') return process.env;
  const env = { ...process.env };
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

/**
 * One whole command, timed by time-exec: wall, CPU (user + system of every thread) and peak RSS. Throws
 * unless it exits with one of `okExitCodes` (default 0).
 */
export async function timeWhole(
  argv: readonly string[],
  okExitCodes: readonly number[] = [0],
): Promise<{ wallMs: number; cpuMs: number; maxRssMb: number }> {
  const { report: r, stderr } = await timeCommand(argv);
  if (r.execErrno !== 0) throw new Error(`${argv[0]}: ${r.execError}`);
  if (r.signal !== 0 || !okExitCodes.includes(r.exitCode))
    throw new Error(`${argv.join(' ')} failed (exit ${r.exitCode}, signal ${r.signal}): ${stderr}`);
  return { wallMs: r.wallUs / 1000, cpuMs: (r.userUs + r.sysUs) / 1000, maxRssMb: r.maxRssKib / 1024 };
}

/** Runs one command under time-exec; stdout goes to /dev/null, stderr is kept (the last 4 KiB). */
export async function timeCommand(
  argv: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<{ report: TimeExecReport; stderr: string }> {
  const timer = await compileScenario('time-exec');
  return new Promise((res, rej) => {
    const child = spawn(timer, argv, {
      cwd: REPO_ROOT,
      env: benchEnv(),
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let report = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      stderr = (stderr + s).slice(-4096);
    });
    child.stdio[3]?.on('data', (b: Buffer) => (report += b.toString('utf8')));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (err) => {
      clearTimeout(t);
      rej(err);
    });
    child.once('close', () => {
      clearTimeout(t);
      try {
        res({ report: JSON.parse(report) as TimeExecReport, stderr });
      } catch {
        rej(
          new Error(`time-exec gave no report for ${argv.join(' ')} (killed after the timeout?): ${stderr}`),
        );
      }
    });
  });
}

async function runCandidate(c: Candidate): Promise<{ sample: Sample; error?: string }> {
  const sample: Sample = { wallMs: 0, cpuMs: 0, userMs: 0, sysMs: 0, maxRssKib: 0, exitCodes: [] };
  let error: string | undefined;
  const ok = c.okExitCodes ?? [0];
  for (const argv of c.commands) {
    const { report, stderr } = await timeCommand(argv);
    sample.wallMs += report.wallUs / 1000;
    sample.userMs += report.userUs / 1000;
    sample.sysMs += report.sysUs / 1000;
    sample.maxRssKib = Math.max(sample.maxRssKib, report.maxRssKib);
    const code = report.signal !== 0 ? null : report.exitCode;
    sample.exitCodes.push(code);
    if (report.execErrno !== 0) error ??= `${argv[0] ?? ''}: ${report.execError}`;
    else if (code === null || !ok.includes(code)) {
      const how = code === null ? `signal ${report.signal}` : `exit ${code}`;
      error ??= `${argv.join(' ')}: ${how}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
    }
  }
  sample.cpuMs = sample.userMs + sample.sysMs;
  return { sample, error };
}

export async function runBench(
  spec: BenchSpec,
  opts: {
    runs?: number;
    warmup?: number;
    outDir?: string;
    state?: BenchStateInfo;
    log?: (line: string) => void;
  } = {},
): Promise<BenchResult> {
  const runs = opts.runs ?? spec.runs ?? 7;
  const warmup = opts.warmup ?? spec.warmup ?? 1;
  const log = opts.log ?? ((): void => undefined);
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const results: CandidateResult[] = spec.candidates.map((c) => {
    const missing = missingReason(c);
    const r: CandidateResult = {
      name: c.name,
      commands: c.commands,
      available: missing === undefined,
      samples: [],
    };
    if (c.note !== undefined) r.note = c.note;
    if (missing !== undefined) {
      r.missing = missing;
      log(`${spec.name}: ${c.name}: MISSING — ${missing}`);
    }
    return r;
  });
  const live = spec.candidates.flatMap((c, i) => (results[i]?.available ? [{ c, r: results[i] }] : []));

  for (let round = -warmup; round < runs; round++) {
    for (const i of roundOrder(live.length, round + warmup)) {
      const entry = live[i];
      if (entry === undefined) continue;
      const { sample, error } = await runCandidate(entry.c);
      if (round < 0) continue;
      entry.r.samples.push(sample);
      if (error !== undefined) entry.r.failed ??= error;
    }
    log(
      `${spec.name}: ${round < 0 ? `warm-up ${round + warmup + 1}/${warmup}` : `run ${round + 1}/${runs}`} done`,
    );
  }

  for (const r of results) {
    const wall = stats(r.samples.map((s) => s.wallMs));
    const cpu = stats(r.samples.map((s) => s.cpuMs));
    if (wall !== undefined) r.wallMs = wall;
    if (cpu !== undefined) r.cpuMs = cpu;
    if (r.samples.length > 0) r.maxRssKib = Math.max(...r.samples.map((s) => s.maxRssKib));
  }
  const base =
    results.find((r) => r.name === spec.baseline && r.wallMs !== undefined) ??
    results.find((r) => r.wallMs !== undefined);
  if (base?.wallMs !== undefined && base.cpuMs !== undefined) {
    for (const r of results) {
      if (r.wallMs === undefined || r.cpuMs === undefined) continue;
      r.wallRatioToBaseline = r.wallMs.median / base.wallMs.median;
      r.cpuRatioToBaseline = base.cpuMs.median > 0 ? r.cpuMs.median / base.cpuMs.median : undefined;
    }
  }

  const result: BenchResult = {
    schema: 'procsleuth.bench/1',
    name: spec.name,
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    runs,
    warmup,
    baseline: { requested: spec.baseline, used: base?.name },
    machine: machineInfo(),
    state: opts.state,
    results,
  };
  if (spec.title !== undefined) result.title = spec.title;
  writeResult(result, opts.outDir ?? OUT_DIR);
  return result;
}

export function writeResult(result: { name: string }, outDir = OUT_DIR): string {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `${result.name}.json`);
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
  return path;
}

export function machineInfo(): MachineInfo {
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch {
      return '';
    }
  };
  return {
    hostname: hostname(),
    kernel: read('/proc/sys/kernel/osrelease'),
    cpus: cpus().length,
    node: process.version,
    loadavg: read('/proc/loadavg').split(' ').slice(0, 3).join(' '),
    processCount: countProcesses(),
    ...readSockstat(),
  };
}

const ms = (x: number | undefined): string =>
  x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
const ratio = (x: number | undefined): string => (x === undefined ? '-' : `${x.toFixed(2)}×`);

/** A plain-text table: one row per candidate, times in ms, ratios to the baseline. */
export function formatTable(r: BenchResult): string {
  const head = [
    'candidate',
    'wall med',
    'p90',
    'min',
    'cpu med',
    'p90',
    'maxRSS MiB',
    'wall ÷ base',
    'cpu ÷ base',
  ];
  const rows = r.results.map((c) => {
    if (!c.available) return [c.name, `MISSING: ${c.missing ?? ''}`];
    return [
      c.name + (c.name === r.baseline.used ? ' (baseline)' : ''),
      ms(c.wallMs?.median),
      ms(c.wallMs?.p90),
      ms(c.wallMs?.min),
      ms(c.cpuMs?.median),
      ms(c.cpuMs?.p90),
      c.maxRssKib === undefined ? '-' : (c.maxRssKib / 1024).toFixed(0),
      ratio(c.wallRatioToBaseline),
      ratio(c.cpuRatioToBaseline),
    ];
  });
  const full = rows.filter((row) => row.length === head.length);
  const width = head.map((h, i) => Math.max(h.length, ...full.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string =>
    row.length === head.length
      ? row.map((cell, i) => (i === 0 ? cell.padEnd(width[i] ?? 0) : cell.padStart(width[i] ?? 0))).join('  ')
      : row.join('  ');
  const out = [
    `${r.title ?? r.name} — ${r.runs} runs after ${r.warmup} warm-up, times in ms` +
      (r.baseline.used !== r.baseline.requested
        ? ` (baseline "${r.baseline.requested}" missing: ratios against "${r.baseline.used ?? 'nothing'}")`
        : ''),
    line(head),
    ...rows.map(line),
  ];
  for (const c of r.results) if (c.failed !== undefined) out.push(`  ! ${c.name} failed: ${c.failed}`);
  out.push(
    `  machine: ${r.machine.cpus} cpus, ${r.machine.processCount} processes, tcp inuse ${String(r.machine.tcpInuse)}, ` +
      `tw ${String(r.machine.tcpTw)}, load ${r.machine.loadavg}`,
  );
  return out.join('\n');
}
