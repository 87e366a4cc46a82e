/**
 * `leaks` over five days at one minute for 1,000 processes (7.2 M process-samples): target < 5 s and
 * < 500 MB RSS. The record is generated through the real RecordWriter (one transaction per sample, the
 * recorder's own encoding) and cached under the temp dir, keyed by the generator's version.
 *
 * The machine it imitates: pid 1, 39 services each with a root process and 24 workers (40 trees, 40
 * groups of workers). Of the workers, 60 % are idle (levels change about hourly, a few CPU ticks now
 * and then), 35 % are busy (memory noise and CPU every minute, fds moving), 5 % leak memory or fds.
 *
 *   node --import tsx bench/leaks-speed.ts [--processes 1000] [--days 5] [--rounds 3] [--compare DIR]
 *
 * Prints the generation time, then medians of `--rounds` runs measured two ways: leaksFromRecord alone
 * in a fresh Node process, and the whole command through bin/procsleuth.js (wall, CPU of every thread,
 * peak RSS). `--compare DIR` also times DIR/bin/procsleuth.js (another checkout, built), interleaved
 * with this one, so both see the same load.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ar1Gen, writeRecord, type SynthProc } from '../test/detect/synth.js';
import { mulberry32 } from '../src/detect/random.js';
import { timeWhole } from './harness.js';

const GEN_VERSION = 4; // 4: the writer restates gauges every RESTATE_EVERY samples
const REPO = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    processes: { type: 'string' },
    days: { type: 'string' },
    child: { type: 'string' },
    rounds: { type: 'string' },
    compare: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds ?? 3);

if (args.child) {
  // the measured run, in a fresh process
  const { RecordReader, Store } = await import('../src/store/index.js');
  const { leaksFromRecord } = await import('../src/cli/leaks.js');
  const t0 = performance.now();
  const store = Store.open(args.child, { mode: 'read' });
  const doc = leaksFromRecord(new RecordReader(store), { dbPath: args.child, noLiveLimits: true });
  store.close();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage();
  const json = JSON.stringify(doc);
  console.log(
    JSON.stringify({
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      suspects: doc.suspects.length,
      leaks: doc.suspects.filter((s) => s.verdict === 'leak').length,
      scanned: doc.scanned,
      jsonBytes: json.length,
    }),
  );
  process.exit(0);
}

const PROCS = Number(args.processes ?? 1000);
const DAYS = Number(args.days ?? 5);
const N = Math.round((DAYS * 86_400_000) / 60_000);
const MiB = 1024 * 1024;

function machine(): SynthProc[] {
  const rng = mulberry32(42);
  const procs: SynthProc[] = [
    {
      pid: 1,
      comm: 'systemd',
      exe: '/sbin/init',
      argv: ['/sbin/init'],
      ppid: 0,
      from: 0,
      to: N,
      values: () => ({
        rssBytes: 12 * MiB,
        anonBytes: 4 * MiB,
        pssBytes: 6 * MiB,
        fds: 120,
        threads: 1,
        cpuTicks: 0,
      }),
    },
  ];
  const services = 39;
  const perService = Math.max(1, Math.ceil((PROCS - 1) / services) - 1);
  let pid = 100;
  for (let s = 0; s < services && procs.length < PROCS; s++) {
    const exe = `/opt/svc${s}/bin/daemon${s}`;
    const root = pid++;
    procs.push({
      pid: root,
      comm: `daemon${s}`,
      exe,
      argv: [exe, '--master'],
      ppid: 1,
      from: 0,
      to: N,
      values: () => ({
        rssBytes: 30 * MiB,
        anonBytes: 10 * MiB,
        pssBytes: 15 * MiB,
        fds: 40,
        threads: 2,
        cpuTicks: 0,
      }),
    });
    for (let w = 0; w < perService && procs.length < PROCS; w++) {
      const kind = rng();
      const seed = pid * 7 + 1;
      const base = (50 + rng() * 400) * MiB;
      const me = pid++;
      let values: SynthProc['values'];
      if (kind < 0.6) {
        // idle: a level that changes about once an hour
        const r = mulberry32(seed);
        let level = base;
        let ticks = 0;
        values = (i) => {
          if (i % 60 === 0) level = base + Math.floor(r() * 8) * 4096;
          if (i % 17 === 0) ticks += 1;
          return {
            rssBytes: level + 8 * MiB,
            anonBytes: level,
            pssBytes: level + 2 * MiB,
            fds: 24,
            threads: 4,
            cpuTicks: ticks,
          };
        };
      } else if (kind < 0.95) {
        // busy: memory noise and CPU every minute, fds moving
        const e = ar1Gen(0.8, 2 * MiB, seed);
        const r = mulberry32(seed + 1);
        let ticks = 0;
        values = () => {
          const m = base + e();
          ticks += 600 + Math.floor(r() * 600);
          return {
            rssBytes: m + 8 * MiB,
            anonBytes: m,
            pssBytes: m + 2 * MiB,
            fds: 30 + Math.floor(r() * 10),
            threads: 8,
            cpuTicks: ticks,
          };
        };
      } else {
        // leaking: memory (half) or fds (half)
        const e = ar1Gen(0.8, 2 * MiB, seed);
        const memLeak = kind < 0.975;
        let ticks = 0;
        values = (i) => {
          const m = base + e() + (memLeak ? i * 0.02 * MiB : 0);
          ticks += 300;
          return {
            rssBytes: m + 8 * MiB,
            anonBytes: m,
            pssBytes: m + 2 * MiB,
            fds: 30 + (memLeak ? 0 : Math.floor(i / 90)),
            threads: 8,
            cpuTicks: ticks,
          };
        };
      }
      procs.push({
        pid: me,
        comm: `worker${s}`,
        exe,
        argv: [exe, '--worker', String(w)],
        ppid: root,
        from: 0,
        to: N,
        values,
      });
    }
  }
  return procs;
}

const dir = join(tmpdir(), 'procsleuth-bench');
mkdirSync(dir, { recursive: true });
const db = join(dir, `leaks-speed-v${GEN_VERSION}-${PROCS}p-${DAYS}d.db`);
if (!existsSync(db)) {
  const procs = machine();
  const tmp = `${db}.tmp`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  console.log(
    `generating ${procs.length} processes × ${N} samples = ${((procs.length * N) / 1e6).toFixed(2)} M process-samples …`,
  );
  const ms = writeRecord(tmp, { samples: N, intervalMs: 60_000, startMs: Date.UTC(2025, 0, 6), procs });
  renameSync(tmp, db);
  console.log(`  written in ${(ms / 1000).toFixed(1)} s`);
}
console.log(`record ${db}: ${(statSync(db).size / 1e6).toFixed(0)} MB`);

function child(argv: string[]): { wallMs: number; out: string; err: string; status: number | null } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, argv, { cwd: REPO, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { wallMs: performance.now() - t0, out: r.stdout, err: r.stderr, status: r.status };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// 1. leaksFromRecord alone, in a fresh process (CPU and peak RSS of that whole process).
const runs: {
  ms: number;
  cpuMs: number;
  maxRssMb: number;
  suspects: number;
  leaks: number;
  scanned: unknown;
}[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const r = child(['--import', 'tsx', 'bench/leaks-speed.ts', '--child', db]);
  if (r.status !== 0) throw new Error(r.err);
  runs.push(JSON.parse(r.out.trim().split('\n').pop()!) as (typeof runs)[number]);
}
const mid = runs[0]!;
console.log(
  `leaksFromRecord: median of ${ROUNDS} ${(median(runs.map((r) => r.ms)) / 1000).toFixed(2)} s wall (all: ${runs.map((r) => (r.ms / 1000).toFixed(2)).join(', ')}), ` +
    `${(median(runs.map((r) => r.cpuMs)) / 1000).toFixed(2)} s CPU (whole child process, every thread), peak RSS ${Math.max(...runs.map((r) => r.maxRssMb)).toFixed(0)} MB`,
);
console.log(`  suspects ${mid.suspects} (${mid.leaks} leaks); scanned ${JSON.stringify(mid.scanned)}`);

// 2. The whole command, `node bin/procsleuth.js leaks --db … --json`, timed by time-exec (wall, user +
// system CPU of every thread, peak RSS); with --compare, another checkout's command in turn.
const bins: [string, string][] = [['this checkout', join(REPO, 'bin/procsleuth.js')]];
if (args.compare) bins.push([args.compare, join(resolve(args.compare), 'bin/procsleuth.js')]);
const whole = new Map<string, { wallMs: number; cpuMs: number; rssMb: number }[]>(bins.map(([n]) => [n, []]));
for (let i = 0; i < ROUNDS; i++) {
  for (const [name, bin] of bins) {
    // exit code 1: leaks were found
    const t = await timeWhole([process.execPath, bin, 'leaks', '--db', db, '--json'], [0, 1]);
    whole.get(name)!.push({ wallMs: t.wallMs, cpuMs: t.cpuMs, rssMb: t.maxRssMb });
  }
}
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `whole command (node bin/procsleuth.js leaks --json), median of ${ROUNDS}, interleaved; load now ${load}:`,
);
for (const [name, rs] of whole) {
  const wall = median(rs.map((r) => r.wallMs));
  const rss = Math.max(...rs.map((r) => r.rssMb));
  console.log(
    `  ${name}: ${(wall / 1000).toFixed(2)} s wall (${rs.map((r) => (r.wallMs / 1000).toFixed(2)).join(', ')}), ` +
      `${(median(rs.map((r) => r.cpuMs)) / 1000).toFixed(2)} s CPU, peak RSS ${rss.toFixed(0)} MB; ` +
      `targets < 5 s ${wall < 5000 ? 'met' : 'MISSED'}, < 500 MB ${rss < 500 ? 'met' : 'MISSED'}`,
  );
}
