/**
 * The labelled detection corpus (`npm run bench:detect`): precision, recall, false alarms per 1,000
 * process-days, delay to detection, and the onset error of CPU spikes.
 *
 * 1. Real scenario processes under the real recorder at 100 ms (test/detect/corpus.ts): steady leak,
 *    slow leak under a fast sawtooth, slow leak under random noise, sawtooth with a rising floor, sawtooth without leak, warm-up to a plateau,
 *    one step, flat noise, CLOSE_WAIT leak, fd leak, a leak restarted every 2 s, a CPU spike in three
 *    workers at a known time. `--real-seconds` (default 60) sets how long.
 * 2. Synthetic five days at one minute, written through RecordWriter: leaks injected at known samples
 *    and rates (from the start, late, under a sawtooth, an fd staircase) and the same shapes without
 *    (flat, sawtooth, plateau, one step, daily cycle), `--seeds` of each (default 30); plus groups of
 *    workers whose CPU jumps at a known sample.
 *
 * Scored per (entity, resource): a 'leak' verdict on a labelled leak of that resource in the labelled
 * view is a true positive; any other 'leak' verdict on a corpus entity is a false alarm. 'watch' is
 * neither. Delay: the shortest prefix of the series (stepped by 1/50 of it) on which the verdict is
 * already 'leak', measured from the leak's start.
 *
 *   node --import tsx bench/detect-corpus.ts [--real-seconds 60] [--seeds 30] [--no-real]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { judgeSeries, metricInfo, type Suspect } from '../src/detect/leaks.js';
import { mulberry32, timesMs } from '../src/detect/random.js';
import { RecordReader, Store } from '../src/store/index.js';
import { leaksFromRecord } from '../src/cli/leaks.js';
import { spikesFromRecord } from '../src/cli/spikes.js';
import { scanLevelSeries } from '../src/record/series.js';
import { stopAllScenarios } from '../test/helpers/scenarios.js';
import { detected, falseAlarms, runRealCorpus, spikeOnsetErrors } from '../test/detect/corpus.js';
import { shapeSeries, writeRecord, type Shape, type SynthProc } from '../test/detect/synth.js';

const { values: args } = parseArgs({
  options: {
    'real-seconds': { type: 'string' },
    seeds: { type: 'string' },
    'no-real': { type: 'boolean' },
  },
});
const REAL_SECONDS = Number(args['real-seconds'] ?? 60);
const SEEDS = Number(args.seeds ?? 30);
const MiB = 1024 * 1024;
const DAY = 86_400_000;

interface Tally {
  tp: number;
  fn: number;
  fp: number;
  negatives: number;
  /** Process-days of entities whose label is "no leak". */
  cleanDays: number;
  delaysMs: number[];
  onsetErrors: number[];
  spikesMissed: number;
}
const all: Tally = {
  tp: 0,
  fn: 0,
  fp: 0,
  negatives: 0,
  cleanDays: 0,
  delaysMs: [],
  onsetErrors: [],
  spikesMissed: 0,
};
const perSet: Record<string, Tally> = {};
const rows: string[] = [];

function tally(set: string): Tally {
  return (perSet[set] ??= {
    tp: 0,
    fn: 0,
    fp: 0,
    negatives: 0,
    cleanDays: 0,
    delaysMs: [],
    onsetErrors: [],
    spikesMissed: 0,
  });
}
function add(set: string, f: (t: Tally) => void): void {
  f(all);
  f(tally(set));
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
}

/** Shortest prefix (from `startIdx`) judged 'leak'; undefined if never. */
function delayTo(t: Float64Array, v: Float64Array, metric: string, startIdx: number): number | undefined {
  const n = v.length;
  const step = Math.max(1, Math.floor(n / 50));
  for (let end = Math.max(startIdx + 24, 24); end <= n; end += step) {
    const s = judgeSeries({
      entity: { kind: 'process', key: 'x', label: 'x' },
      metric,
      tMs: t.subarray(0, end),
      values: v.subarray(0, end),
    });
    if (s?.verdict === 'leak') return t[end - 1]! - t[startIdx]!;
  }
  return undefined;
}

// ---- 1. real processes ------------------------------------------------------------------------------

async function real(): Promise<void> {
  console.log(`real scenario processes: ${REAL_SECONDS} s under the recorder at 100 ms …`);
  const run = await runRealCorpus({ seconds: REAL_SECONDS, intervalMs: 100 });
  try {
    // the series of each case's processes, for the delay
    const series = new Map<number, Map<string, { t: Float64Array; v: Float64Array }>>();
    const pids = new Set(run.cases.flatMap((c) => c.pids));
    const store = Store.open(run.db, { mode: 'read' });
    try {
      scanLevelSeries(new RecordReader(store), { noLiveLimits: true }, (s) => {
        if (s.entity.kind !== 'process' || !pids.has(s.entity.pid ?? -1)) return;
        const m = series.get(s.entity.pid!) ?? new Map();
        series.set(s.entity.pid!, m);
        m.set(s.metric, { t: s.tMs.slice(), v: s.values.slice() });
      });
    } finally {
      store.close();
    }
    const days = (run.leaks.samples * run.intervalMs) / DAY;
    for (const c of run.cases) {
      const fa = falseAlarms(c);
      add('real', (t) => (t.fp += fa.length));
      if (c.label.leak) {
        const ok = detected(c);
        add('real', (t) => (ok ? t.tp++ : t.fn++));
        let delay: number | undefined;
        if (ok && c.label.view === 'process') {
          const hit = c.flagged.find((f) => f.verdict === 'leak' && f.kind === 'process')!;
          const s = series.get(c.pids[0]!)?.get(hit.metric);
          if (s) delay = delayTo(s.t, s.v, hit.metric, 0);
          if (delay !== undefined) add('real', (t) => t.delaysMs.push(delay!));
        }
        rows.push(
          `  real   ${c.name.padEnd(30)} leak   ${ok ? 'found ' : 'MISSED'}${delay !== undefined ? `  after ${(delay / 1000).toFixed(1)} s (${Math.round(delay / run.intervalMs)} samples)` : ''}${fa.length ? `  false alarms: ${JSON.stringify(fa)}` : ''}`,
        );
      } else {
        add('real', (t) => {
          t.negatives++;
          t.cleanDays += days * c.pids.length;
        });
        rows.push(
          `  real   ${c.name.padEnd(30)} none   ${fa.length ? `FALSE ALARM ${JSON.stringify(fa)}` : 'quiet'}`,
        );
      }
    }
    const errs = spikeOnsetErrors(run);
    for (const e of errs) add('real', (t) => (e === undefined ? t.spikesMissed++ : t.onsetErrors.push(e)));
    rows.push(
      `  real   cpu spike (3 workers)          onset errors ${JSON.stringify(errs)} samples; workers got ${run.spike.achievedPercent.map((p) => p.toFixed(0)).join('/')} % CPU`,
    );
    const ev = run.spikes.events.find((e) => e.members.some((m) => run.spike.pids.includes(m.pid ?? -1)));
    if (ev) rows.push(`         "${ev.summary}"`);
  } finally {
    run.cleanup();
    await stopAllScenarios();
  }
}

// ---- 2. synthetic five days -------------------------------------------------------------------------

const LEAK_SHAPES: Shape[] = ['leak', 'late-leak', 'sawtooth-leak'];
const CLEAN_SHAPES: Shape[] = ['flat', 'sawtooth', 'plateau', 'step', 'daily'];

async function synthetic(): Promise<void> {
  const n = 7200;
  const iv = 60_000;
  const t = timesMs(n, iv, Date.UTC(2025, 0, 6));
  const rng = mulberry32(7);
  interface Label {
    shape: Shape | 'fd-staircase' | 'fd-flat';
    leak: boolean;
    metric: string;
    onset: number;
    values: Float64Array;
  }
  const labels = new Map<number, Label>();
  const procs: SynthProc[] = [];
  let pid = 1000;
  const push = (
    shape: Label['shape'],
    leak: boolean,
    metric: 'anon' | 'fds',
    values: Float64Array,
    onset = 0,
  ): void => {
    const me = pid++;
    labels.set(me, { shape, leak, metric, onset, values });
    const exe = `/usr/bin/${shape}-${me}`;
    procs.push({
      pid: me,
      comm: shape.slice(0, 15),
      exe,
      argv: [exe],
      ppid: 1,
      from: 0,
      to: n,
      values:
        metric === 'anon'
          ? (i) => ({ rssBytes: values[i]! + 8 * MiB, anonBytes: values[i]!, fds: 20 })
          : (i) => ({ rssBytes: 40 * MiB, anonBytes: 30 * MiB, fds: values[i]! }),
    });
  };
  for (let s = 0; s < SEEDS; s++) {
    const base = (100 + rng() * 900) * MiB;
    // 36 MiB … 360 MiB over five days, under AR(1) noise of σ ≈ 3.3 MiB
    const rate = (0.005 + rng() * 0.045) * MiB;
    const noise = 2 * MiB;
    const onset = Math.floor(n * (0.2 + rng() * 0.5));
    for (const shape of [...LEAK_SHAPES, ...CLEAN_SHAPES]) {
      const v = shapeSeries({
        shape,
        n,
        base,
        rate,
        noise,
        seed: 1000 * s + shape.length * 31 + 7,
        onset,
        intervalMs: iv,
      });
      push(shape, LEAK_SHAPES.includes(shape), 'anon', v, shape === 'late-leak' ? onset : 0);
    }
    // an fd leak in bursts (a few fds every few hours) and an fd count that churns without growing
    const r2 = mulberry32(s + 99);
    let fds = 40;
    const stair = Float64Array.from({ length: n }, (_, i) => {
      if (i % 240 === 0 && i > 0) fds += 1 + Math.floor(r2() * 3);
      return fds + (r2() < 0.3 ? Math.floor(r2() * 4) : 0);
    });
    push('fd-staircase', true, 'fds', stair);
    const churn = Float64Array.from({ length: n }, () => 40 + Math.floor(r2() * 8));
    push('fd-flat', false, 'fds', churn);
  }
  // CPU: groups of 8 workers whose CPU jumps from ~2 % to ~85 % at a known sample
  const spikeAt = new Map<string, number>();
  const groups = Math.max(5, Math.floor(SEEDS / 3));
  for (let g = 0; g < groups; g++) {
    const at = Math.floor(n * (0.2 + 0.6 * rng()));
    const exe = `/opt/nd${g}/networkingd`;
    spikeAt.set(exe, at);
    for (let w = 0; w < 8; w++) {
      const r3 = mulberry32(g * 100 + w);
      let ticks = 0;
      const ticksAt = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        ticks += (i >= at ? 5100 : 120) + Math.floor(r3() * 60);
        ticksAt[i] = ticks;
      }
      procs.push({
        pid: pid++,
        comm: 'networkingd',
        exe,
        argv: [exe, '--worker'],
        ppid: 1,
        from: 0,
        to: n,
        values: (i) => ({ rssBytes: 50 * MiB, anonBytes: 40 * MiB, fds: 30, cpuTicks: ticksAt[i]! }),
      });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'procsleuth-detect-corpus-'));
  const db = join(dir, 'synthetic.db');
  try {
    console.log(`synthetic: ${procs.length} processes × ${n} samples (five days at one minute) …`);
    const wms = writeRecord(db, { samples: n, intervalMs: iv, startMs: t[0]!, procs });
    console.log(`  written in ${(wms / 1000).toFixed(1)} s`);
    const store = Store.open(db, { mode: 'read' });
    const r = new RecordReader(store);
    const t0 = performance.now();
    const doc = leaksFromRecord(r, { dbPath: db, noLiveLimits: true });
    const leakMs = performance.now() - t0;
    const spikes = spikesFromRecord(r, { dbPath: db });
    store.close();
    console.log(`  leaks took ${(leakMs / 1000).toFixed(2)} s`);
    const byPid = new Map<number, Suspect[]>();
    for (const s of doc.suspects) {
      if (s.entity.kind !== 'process') continue;
      byPid.set(s.entity.pid!, [...(byPid.get(s.entity.pid!) ?? []), s]);
    }
    const perShape = new Map<
      string,
      { n: number; found: number; fa: number; watch: number; delays: number[] }
    >();
    for (const [p, l] of labels) {
      const st = perShape.get(l.shape) ?? { n: 0, found: 0, fa: 0, watch: 0, delays: [] };
      perShape.set(l.shape, st);
      st.n++;
      const sus = byPid.get(p) ?? [];
      const res = metricInfo(l.metric).resource;
      const hit = sus.some((s) => s.verdict === 'leak' && metricInfo(s.metric).resource === res);
      const fa = sus.filter(
        (s) => s.verdict === 'leak' && !(l.leak && metricInfo(s.metric).resource === res),
      ).length;
      if (sus.some((s) => s.verdict === 'watch')) st.watch++;
      st.fa += fa;
      add('synthetic', (x) => (x.fp += fa));
      if (l.leak) {
        add('synthetic', (x) => (hit ? x.tp++ : x.fn++));
        if (hit) {
          st.found++;
          const d = delayTo(t, l.values, l.metric, l.onset);
          if (d !== undefined) {
            st.delays.push(d);
            add('synthetic', (x) => x.delaysMs.push(d));
          }
        }
      } else {
        add('synthetic', (x) => {
          x.negatives++;
          x.cleanDays += 5;
        });
      }
    }
    for (const [shape, st] of perShape) {
      const leak = labels.get([...labels].find(([, l]) => l.shape === shape)![0])!.leak;
      rows.push(
        `  synth  ${shape.padEnd(30)} ${leak ? 'leak ' : 'none '}  ${leak ? `found ${st.found}/${st.n}` : `quiet ${st.n - st.fa}/${st.n}`}${st.watch ? `, watch ${st.watch}` : ''}${st.fa && leak ? `, false alarms ${st.fa}` : ''}${st.delays.length ? `, delay median ${(quantile(st.delays, 0.5) / 3_600_000).toFixed(1)} h p90 ${(quantile(st.delays, 0.9) / 3_600_000).toFixed(1)} h` : ''}`,
      );
    }
    // spikes: every worker's onset against the known sample
    let found = 0;
    for (const [exe, at] of spikeAt) {
      const mine = spikes.spikes.filter(
        (s) => s.entity.kind === 'process' && (s.entity.cmdline ?? '').startsWith(exe),
      );
      for (const s of mine) {
        // the rate at sample `at` is the first over a whole interval at the new level
        add('synthetic', (x) => x.onsetErrors.push(Math.abs(s.onsetIndex - at)));
        found++;
      }
      add('synthetic', (x) => (x.spikesMissed += Math.max(0, 8 - mine.length)));
    }
    const ev = spikes.events.filter((e) => e.processes === 8).length;
    rows.push(
      `  synth  cpu spikes (${spikeAt.size} groups × 8)       found ${found}/${spikeAt.size * 8}; ${ev} events of 8 workers`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(name: string, t: Tally): void {
  const precision = t.tp + t.fp > 0 ? t.tp / (t.tp + t.fp) : NaN;
  const recall = t.tp + t.fn > 0 ? t.tp / (t.tp + t.fn) : NaN;
  const fa = t.cleanDays > 0 ? (t.fp / t.cleanDays) * 1000 : NaN;
  const h = (ms: number): string =>
    ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 3_600_000).toFixed(1)} h`;
  console.log(
    `${name.padEnd(10)} precision ${precision.toFixed(3)}  recall ${recall.toFixed(3)}  (TP ${t.tp}, FN ${t.fn}, FP ${t.fp})  ` +
      `false alarms ${fa.toFixed(2)} per 1,000 clean process-days  delay median ${h(quantile(t.delaysMs, 0.5))} p90 ${h(quantile(t.delaysMs, 0.9))}  ` +
      `spike onset error max ${t.onsetErrors.length ? Math.max(...t.onsetErrors) : NaN} samples (median ${quantile(t.onsetErrors, 0.5)}), missed ${t.spikesMissed}`,
  );
}

if (!args['no-real']) await real();
await synthetic();
console.log('\nper case:');
for (const r of rows) console.log(r);
console.log('');
for (const [k, t] of Object.entries(perSet)) report(k, t);
report('overall', all);
const precision = all.tp / Math.max(1, all.tp + all.fp);
const recall = all.tp / Math.max(1, all.tp + all.fn);
const maxOnset = all.onsetErrors.length ? Math.max(...all.onsetErrors) : Infinity;
console.log(
  `targets: precision ≥ 0.97 ${precision >= 0.97 ? 'met' : 'MISSED'}; recall ≥ 0.95 ${recall >= 0.95 ? 'met' : 'MISSED'}; ` +
    `no false alarm on the no-leak scenarios ${all.fp === 0 ? 'met' : `MISSED (${all.fp})`}; onset within 2 samples ${maxOnset <= 2 ? 'met' : 'MISSED'}`,
);
