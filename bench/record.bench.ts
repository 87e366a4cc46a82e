/**
 * Issue 4, "Cheap and small": `procsleuth record --interval 1s` side by side with `atop -w FILE 1` and
 * `pidstat -u -r -d -h 1`, all three running over the same window on the bench state (1,000 extra
 * processes, 20,000 connections; or, with --no-state, 1,000 sleepers this bench starts itself).
 *
 * Per round: start the three, let them warm up (WARMUP_S: node start-up and the recorder's first full
 * sample, atop's first sample), then measure over WINDOW_S:
 * - CPU % of one core, from utime+stime in /proc/PID/stat of each recorder (steady state), and also
 *   over the whole run including start-up;
 * - bytes on disk per process-sample: the growth of our database (pages in use, WAL included) and of
 *   atop's raw file over the window, divided by samples × processes; and the same over the whole run;
 * - RSS (VmRSS at the end of the window) of each.
 * Medians over the rounds (`--runs N`, default 3) and ratios are printed and written to
 * bench/out/record.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { OUT_DIR, REPO_ROOT, defineBench, machineInfo, writeResult, type BenchContext } from './harness.js';
import { countProcesses } from './state.js';
import { startScenario } from '../test/helpers/scenarios.js';

const WARMUP_S = 5;
const WINDOW_S = 60;
const USER_HZ = 100;

interface Sample {
  name: string;
  cpuPercent: number;
  cpuPercentWholeRun: number;
  rssMiB: number;
  bytesPerProcessSample: number | undefined;
  bytesPerProcessSampleWholeRun: number | undefined;
  /** Ours only: the whole run again after the recent tier was moved to the per-process tables. */
  bytesPerProcessSampleCompacted?: number | undefined;
}

/** What the recorder does every 10 minutes: move the recent tier into the per-process tables. */
function compactAll(path: string): void {
  const db = new Database(path);
  try {
    db.transaction(() => {
      for (const t of ['proc', 'sock']) {
        db.exec(`INSERT OR REPLACE INTO ${t}_raw SELECT * FROM ${t}_recent ORDER BY proc, sample`);
        db.exec(`DELETE FROM ${t}_recent`);
      }
    })();
  } finally {
    db.close();
  }
}

function ticks(pid: number): number {
  const t = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function dbBytes(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    const pages =
      Number(db.pragma('page_count', { simple: true })) -
      Number(db.pragma('freelist_count', { simple: true }));
    return pages * Number(db.pragma('page_size', { simple: true }));
  } finally {
    db.close();
  }
}

function dbSamples(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function fileBytes(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** How to start our recorder: the built CLI (`npm run build`). */
function recorderArgv(db: string): string[] {
  return [resolve(REPO_ROOT, 'bin/procsleuth.js'), 'record', '--interval', '1s', '--db', db];
}

function start(cmd: string, args: string[], out: string): ChildProcess {
  const fd = openSync(out, 'w');
  const c = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return c;
}

async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise<void>((r) => c.once('close', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function round(ctx: BenchContext, r: number): Promise<Sample[]> {
  const dir = mkdtempSync(join(tmpdir(), 'procsleuth-record-bench-'));
  const db = join(dir, 'record.db');
  const atopFile = join(dir, 'atop.raw');
  const started = Date.now();
  const ours = start(process.execPath, recorderArgv(db), join(dir, 'ours.log'));
  const atop = start('atop', ['-w', atopFile, '1'], join(dir, 'atop.log'));
  const pidstat = start('pidstat', ['-u', '-r', '-d', '-h', '1'], join(dir, 'pidstat.txt'));
  const all = { 'procsleuth record': ours, 'atop -w FILE 1': atop, 'pidstat -u -r -d -h 1': pidstat };
  try {
    await sleep(WARMUP_S * 1000);
    for (const [n, c] of Object.entries(all))
      if (c.exitCode !== null) throw new Error(`${n} exited early (${c.exitCode}); see ${dir}`);
    const procs0 = countProcesses();
    const t0 = Object.fromEntries(Object.entries(all).map(([n, c]) => [n, ticks(c.pid ?? -1)]));
    const ourBytes0 = dbBytes(db);
    const ourSamples0 = dbSamples(db);
    const atopBytes0 = fileBytes(atopFile);
    const w0 = Date.now();
    await sleep(WINDOW_S * 1000);
    const w1 = Date.now();
    const t1 = Object.fromEntries(Object.entries(all).map(([n, c]) => [n, ticks(c.pid ?? -1)]));
    const rss = Object.fromEntries(Object.entries(all).map(([n, c]) => [n, rssMiB(c.pid ?? -1)]));
    const ourBytes1 = dbBytes(db);
    const ourSamples1 = dbSamples(db);
    const atopBytes1 = fileBytes(atopFile);
    const procs = (procs0 + countProcesses()) / 2;
    const windowS = (w1 - w0) / 1000;
    const wholeS = (w1 - started) / 1000;
    const pct = (n: string, a: Record<string, number>, b: Record<string, number>, s: number): number =>
      (((b[n] ?? 0) - (a[n] ?? 0)) / USER_HZ / s) * 100;
    const zero = Object.fromEntries(Object.keys(all).map((n) => [n, 0]));
    const out: Sample[] = Object.keys(all).map((n) => ({
      name: n,
      cpuPercent: pct(n, t0, t1, windowS),
      cpuPercentWholeRun: pct(n, zero, t1, wholeS),
      rssMiB: rss[n] ?? NaN,
      bytesPerProcessSample: undefined,
      bytesPerProcessSampleWholeRun: undefined,
    }));
    const o = out[0]!;
    o.bytesPerProcessSample = (ourBytes1 - ourBytes0) / ((ourSamples1 - ourSamples0) * procs);
    o.bytesPerProcessSampleWholeRun = ourBytes1 / (ourSamples1 * procs);
    const a = out[1]!;
    // atop writes one sample per second after its first: count them by elapsed time.
    a.bytesPerProcessSample = (atopBytes1 - atopBytes0) / (windowS * procs);
    a.bytesPerProcessSampleWholeRun = atopBytes1 / (Math.max(1, Math.round(wholeS)) * procs);
    for (const c of Object.values(all)) await stop(c);
    // The window may not have crossed a 10-minute boundary: measure after the move a long run makes.
    const samples = dbSamples(db);
    compactAll(db);
    o.bytesPerProcessSampleCompacted = dbBytes(db) / (samples * procs);
    ctx.log(
      `record: round ${r + 1}: ${out.map((s) => `${s.name} ${s.cpuPercent.toFixed(2)}%`).join(', ')}; ` +
        `bytes/process-sample ours ${o.bytesPerProcessSample.toFixed(2)} (compacted, whole run ${o.bytesPerProcessSampleCompacted.toFixed(2)}) ` +
        `atop ${a.bytesPerProcessSample.toFixed(2)}; ${procs.toFixed(0)} processes`,
    );
    return out;
  } finally {
    for (const c of Object.values(all)) await stop(c);
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

export default defineBench({
  name: 'record',
  title: 'procsleuth record vs atop -w FILE 1 and pidstat -u -r -d -h 1, 60 s at 1 s',
  needsBenchState: true,
  async run(ctx: BenchContext) {
    for (const p of ['atop', 'pidstat']) {
      if (!(process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, p))))
        ctx.log(`record: ${p} is not installed; its rows will fail`);
    }
    let sleepers: Awaited<ReturnType<typeof startScenario<'sleepers'>>> | undefined;
    if (ctx.state === undefined && countProcesses() < 1000) {
      ctx.log('record: no bench state: starting 1,000 sleeping processes');
      sleepers = await startScenario('sleepers', ['--count', '1000'], { readyTimeoutMs: 60_000 });
    }
    const runs = ctx.runs ?? 3;
    const rounds: Sample[][] = [];
    try {
      for (let r = 0; r < runs; r++) rounds.push(await round(ctx, r));
    } finally {
      await sleepers?.stop();
    }
    const names = rounds[0]?.map((s) => s.name) ?? [];
    const med = names.map((name) => {
      const xs = rounds.map((rs) => rs.find((s) => s.name === name)!);
      const m = (f: (s: Sample) => number | undefined): number | undefined => {
        const v = median(xs.map((s) => f(s) ?? NaN));
        return Number.isNaN(v) ? undefined : v;
      };
      return {
        name,
        cpuPercent: m((s) => s.cpuPercent),
        cpuPercentWholeRun: m((s) => s.cpuPercentWholeRun),
        rssMiB: m((s) => s.rssMiB),
        bytesPerProcessSample: m((s) => s.bytesPerProcessSample),
        bytesPerProcessSampleWholeRun: m((s) => s.bytesPerProcessSampleWholeRun),
        bytesPerProcessSampleCompacted: m((s) => s.bytesPerProcessSampleCompacted),
      };
    });
    const [ours, atop, pidstat] = med;
    const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
      a !== undefined && b ? a / b : undefined;
    const result = {
      schema: 'procsleuth.bench/1' as const,
      name: 'record',
      title: 'procsleuth record vs atop -w FILE 1 and pidstat -u -r -d -h 1, 60 s at 1 s',
      startedAt: new Date().toISOString(),
      runs,
      warmupSeconds: WARMUP_S,
      windowSeconds: WINDOW_S,
      machine: machineInfo(),
      state: ctx.state,
      medians: med,
      ratios: {
        cpuOursToPidstat: ratio(ours?.cpuPercent, pidstat?.cpuPercent),
        cpuOursToAtop: ratio(ours?.cpuPercent, atop?.cpuPercent),
        bytesOursToAtop: ratio(ours?.bytesPerProcessSample, atop?.bytesPerProcessSample),
        bytesWholeRunOursToAtop: ratio(
          ours?.bytesPerProcessSampleWholeRun,
          atop?.bytesPerProcessSampleWholeRun,
        ),
        bytesCompactedOursToAtop: ratio(
          ours?.bytesPerProcessSampleCompacted,
          atop?.bytesPerProcessSampleWholeRun,
        ),
      },
      rounds,
    };
    writeResult(result, ctx.outDir ?? OUT_DIR);
    const f = (x: number | undefined, d = 2): string => (x === undefined ? '-' : x.toFixed(d));
    const lines = [
      `${result.title} — median of ${runs} rounds (${WINDOW_S} s window after ${WARMUP_S} s warm-up)`,
      'recorder                 CPU % (window)  CPU % (whole run)  RSS MiB  bytes/proc-sample (window)  (whole run)',
      ...med.map(
        (s) =>
          `${s.name.padEnd(24)} ${f(s.cpuPercent).padStart(14)}  ${f(s.cpuPercentWholeRun).padStart(17)}  ${f(s.rssMiB, 1).padStart(7)}  ${f(s.bytesPerProcessSample).padStart(26)}  ${f(s.bytesPerProcessSampleWholeRun).padStart(11)}`,
      ),
      `ratios: CPU ours/pidstat ${f(result.ratios.cpuOursToPidstat)}×, ours/atop ${f(result.ratios.cpuOursToAtop)}×; ` +
        `bytes ours/atop ${f(result.ratios.bytesOursToAtop)}× (whole run ${f(result.ratios.bytesWholeRunOursToAtop)}×, ` +
        `whole run compacted ${f(ours?.bytesPerProcessSampleCompacted)} B = ${f(result.ratios.bytesCompactedOursToAtop)}×)`,
      `  machine: ${result.machine.cpus} cpus, ${result.machine.processCount} processes, tcp inuse ${String(result.machine.tcpInuse)}`,
      `  → bench/out/record.json`,
    ];
    process.stdout.write(lines.join('\n') + '\n\n');
    return result;
  },
});
