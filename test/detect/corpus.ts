/**
 * The labelled corpus of real scenario processes for `leaks` and `spikes`: every case runs at once while
 * the real recorder (a separate process, as in production) samples the whole machine at an accelerated
 * interval; then the commands judge the record and each case is scored against its label. The test suite
 * runs it short (test/detect/corpus.test.ts); bench/detect-corpus.ts runs it longer and adds the
 * synthetic five-day corpus.
 */
import { connect, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { parsePidStat, USER_HZ } from '../../src/procfs/pid-stat.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScenario, type RunningScenario } from '../helpers/scenarios.js';
import { sleep, startCli } from '../record/helpers.js';
import { RecordReader, Store } from '../../src/store/index.js';
import { leaksFromRecord } from '../../src/cli/leaks.js';
import { spikesFromRecord } from '../../src/cli/spikes.js';
import { scanCpuSeries } from '../../src/record/series.js';
import { metricInfo, type LeaksDocument, type Suspect } from '../../src/detect/leaks.js';
import type { SpikesDocument } from '../../src/detect/spikes.js';

export type Label =
  { leak: true; resource: 'memory' | 'descriptors'; view: 'process' | 'group' } | { leak: false };

export interface CaseResult {
  name: string;
  label: Label;
  pids: number[];
  /** For the group view: a string only this case's group label contains. */
  groupMarker?: string;
  /** Leak suspects on this case's entities: `resource` → verdict. */
  flagged: { resource: string; metric: string; verdict: 'leak' | 'watch'; kind: string; shape: string }[];
  firstSampleMs?: number;
}

export interface CorpusRun {
  dir: string;
  db: string;
  intervalMs: number;
  cases: CaseResult[];
  leaks: LeaksDocument;
  spikes: SpikesDocument;
  spike: {
    pids: number[];
    startMs: number;
    sampleTimesMs: number[];
    /** Mean CPU each worker got after the burn began (a saturated machine gives it little). */
    achievedPercent: number[];
  };
  cleanup(): void;
}

interface Running {
  name: string;
  label: Label;
  groupMarker?: string;
  pids(): number[];
  stop(): Promise<void>;
}

const memLeak = async (name: string, label: Label, args: string[]): Promise<Running> => {
  const s = await startScenario('mem-leak', args);
  return { name, label, pids: () => [s.pid], stop: () => s.stop() };
};

/**
 * Runs the corpus for `seconds` of recording at `intervalMs`. Sizes are chosen so every leak is clear
 * within ~20 s at 100 ms (the shortened run) and the no-leak shapes are as large.
 */
export async function runRealCorpus(o: { seconds: number; intervalMs: number }): Promise<CorpusRun> {
  const dir = mkdtempSync(join(tmpdir(), 'procsleuth-corpus-'));
  const db = join(dir, 'record.db');
  const sec = o.seconds;
  const ticks = Math.round((sec * 1000) / 100); // scenario ticks are 100 ms
  const running: Running[] = [];
  const sockets: Socket[] = [];
  let stopping = false;
  const timers: NodeJS.Timeout[] = [];
  try {
    running.push(
      await memLeak('steady leak', { leak: true, resource: 'memory', view: 'process' }, [
        '--mode',
        'steady',
        '--kib',
        '128',
      ]),
    );
    // +96 KiB per 600 ms under 2 MiB that comes and goes every 300 ms (out of step with the sampling)
    running.push(
      await memLeak('slow leak under a fast sawtooth', { leak: true, resource: 'memory', view: 'process' }, [
        '--mode',
        'sawtooth-leak',
        '--kib',
        '2048',
        '--period',
        '2',
        '--leak-kib',
        '96',
        '--interval-ms',
        '300',
      ]),
    );
    running.push(
      await memLeak('sawtooth with a rising floor', { leak: true, resource: 'memory', view: 'process' }, [
        '--mode',
        'sawtooth-leak',
        '--kib',
        '256',
        '--period',
        '10',
        '--leak-kib',
        '192',
      ]),
    );
    running.push(
      await memLeak('sawtooth without leak', { leak: false }, [
        '--mode',
        'sawtooth',
        '--kib',
        '256',
        '--period',
        '10',
      ]),
    );
    // warms up over the first third, then flat
    running.push(
      await memLeak('warm-up to a plateau', { leak: false }, [
        '--mode',
        'plateau',
        '--kib',
        '128',
        '--cap-kib',
        String(Math.round((128 * ticks) / 3)),
      ]),
    );
    running.push(
      await memLeak('one step', { leak: false }, [
        '--mode',
        'step',
        '--step-after',
        String(Math.round(ticks * 0.4)),
        '--step-kib',
        '16384',
      ]),
    );
    running.push(
      await memLeak('slow leak under random noise', { leak: true, resource: 'memory', view: 'process' }, [
        '--mode',
        'noise-leak',
        '--kib',
        '1024',
        '--base-kib',
        '4096',
        '--leak-kib',
        '96',
        '--period',
        '2',
        '--interval-ms',
        '200',
      ]),
    );
    running.push(
      await memLeak('flat noise', { leak: false }, [
        '--mode',
        'noise',
        '--kib',
        '1024',
        '--base-kib',
        '4096',
      ]),
    );
    const fd = await startScenario('fd-leak', ['--limit', '4096', '--open', '16', '--interval-ms', '250']);
    running.push({
      name: 'fd leak',
      label: { leak: true, resource: 'descriptors', view: 'process' },
      pids: () => [fd.pid],
      stop: () => fd.stop(),
    });
    const cw = await startScenario('close-wait-server', []);
    running.push({
      name: 'CLOSE_WAIT leak',
      label: { leak: true, resource: 'descriptors', view: 'process' },
      pids: () => [cw.pid],
      stop: () => cw.stop(),
    });
    // a leaking daemon its supervisor restarts every 2 s (20 samples: each run alone is too short to judge)
    const restartArgs = ['--mode', 'steady', '--kib', '256', '--max-kib', '1048576'];
    let current: RunningScenario<'mem-leak'> = await startScenario('mem-leak', restartArgs);
    const restartPids = [current.pid];
    const restartLoop = (async () => {
      while (!stopping) {
        await sleep(2000);
        if (stopping) break;
        await current.stop();
        current = await startScenario('mem-leak', restartArgs);
        restartPids.push(current.pid);
      }
    })();
    running.push({
      name: 'leak restarted every 2 s',
      label: { leak: true, resource: 'memory', view: 'group' },
      groupMarker: '--max-kib',
      pids: () => restartPids,
      stop: async () => {
        stopping = true;
        await restartLoop;
        await current.stop();
      },
    });

    const rec = startCli([
      'record',
      '--interval',
      `${o.intervalMs}ms`,
      '--pass',
      `${o.intervalMs}ms`,
      '--db',
      db,
      '--log-level',
      'info',
    ]);
    await rec.waitFor((l) => l.event === 'start', 30_000);
    // CPU spike in three workers at a known time, a third of the way in
    const spin = await startScenario('spin', [
      '--threads',
      '3',
      '--procs',
      '1',
      '--delay-ms',
      String(Math.round((sec * 1000) / 3)),
    ]);
    const delayMs = Math.round((sec * 1000) / 3);
    // Each worker burns from its fork + the delay: its start time (ticks since boot) against the uptime
    // read at the same moment gives the wall time of the fork to ~20 ms.
    const uptimeMs = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000;
    const nowMs = Date.now();
    const forkMs = Math.min(
      ...spin.info.pids.map((pid) => {
        const st = parsePidStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        return nowMs - uptimeMs + (st.startTimeTicks * 1000) / USER_HZ;
      }),
    );
    running.push({
      name: 'cpu spike',
      label: { leak: false },
      pids: () => [spin.pid, ...spin.info.pids],
      stop: () => spin.stop(),
    });
    // CLOSE_WAIT: a client connects and hangs up every 600 ms
    timers.push(
      setInterval(() => {
        const s = connect(cw.info.port, '127.0.0.1', () => s.end());
        s.on('error', () => undefined);
        sockets.push(s);
      }, 600),
    );
    await sleep(sec * 1000);
    timers.forEach((t) => clearInterval(t));
    rec.child.kill('SIGTERM');
    const exit = await rec.exited;
    if (exit.code !== 0)
      throw new Error(`recorder exited ${String(exit.code)}: ${rec.stderr().slice(-2000)}`);
    for (const r of running) await r.stop();
    for (const s of sockets) s.destroy();

    const store = Store.open(db, { mode: 'read' });
    let leaks: LeaksDocument;
    let spikes: SpikesDocument;
    let sampleTimesMs: number[];
    const achieved: number[] = [];
    try {
      const reader = new RecordReader(store);
      leaks = leaksFromRecord(reader, { dbPath: db, procRoot: '/proc', sysRoot: '/sys' });
      spikes = spikesFromRecord(reader, { dbPath: db });
      scanCpuSeries(reader, {}, (c) => {
        if (c.entity.kind !== 'process' || !spin.info.pids.includes(c.entity.pid ?? -1)) return;
        let sum = 0;
        let k = 0;
        for (let i = 0; i < c.tMs.length; i++) {
          if (c.tMs[i]! > forkMs + delayMs && Number.isFinite(c.percent[i]!)) {
            sum += c.percent[i]!;
            k++;
          }
        }
        achieved.push(k > 0 ? sum / k : 0);
      });
      sampleTimesMs = (
        store.db.prepare('SELECT t_ms FROM samples ORDER BY id').raw(true).all() as [number][]
      ).map((r) => r[0]);
    } finally {
      store.close();
    }
    const startMs = forkMs + delayMs;
    return {
      dir,
      db,
      intervalMs: o.intervalMs,
      cases: running.map((r) => score(r, leaks)),
      leaks,
      spikes,
      spike: { pids: spin.info.pids, startMs, sampleTimesMs, achievedPercent: achieved },
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    stopping = true;
    timers.forEach((t) => clearInterval(t));
    for (const r of running) await r.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function score(r: Running, doc: LeaksDocument): CaseResult {
  const pids = new Set(r.pids());
  const mine = (s: Suspect): boolean =>
    (s.entity.kind === 'process' && pids.has(s.entity.pid ?? -1)) ||
    (s.entity.kind === 'group' && r.groupMarker !== undefined && s.entity.label.includes(r.groupMarker));
  return {
    name: r.name,
    label: r.label,
    pids: [...pids],
    ...(r.groupMarker ? { groupMarker: r.groupMarker } : {}),
    flagged: doc.suspects.filter(mine).map((s) => ({
      resource: metricInfo(s.metric).resource,
      metric: s.metric,
      verdict: s.verdict,
      kind: s.entity.kind,
      shape: s.shape,
    })),
  };
}

/** Was the labelled leak found (a 'leak' verdict of the right resource in the right view)? */
export function detected(c: CaseResult): boolean {
  if (!c.label.leak) return false;
  const l = c.label;
  return c.flagged.some((f) => f.verdict === 'leak' && f.resource === l.resource && f.kind === l.view);
}

/** 'leak' verdicts on this case that its label does not explain (false alarms). */
export function falseAlarms(c: CaseResult): CaseResult['flagged'] {
  const l = c.label;
  return c.flagged.filter((f) => f.verdict === 'leak' && !(l.leak && f.resource === l.resource));
}

/** Onset error in samples of each spin worker's first spike after the burn began (undefined: none found). */
export function spikeOnsetErrors(run: CorpusRun): (number | undefined)[] {
  const times = run.spike.sampleTimesMs;
  const idx = (ms: number): number => {
    let k = 0;
    while (k < times.length && times[k]! <= ms) k++;
    return k; // samples at or before ms
  };
  const expected = idx(run.spike.startMs); // the first sample after the start
  return run.spike.pids.map((pid) => {
    const s = run.spikes.spikes.find(
      (x) => x.entity.kind === 'process' && x.entity.pid === pid && x.persistent,
    );
    if (!s) return undefined;
    return Math.abs(idx(s.onsetMs) - 1 - expected);
  });
}
