/**
 * The leak and spike decisions on synthetic series (known shapes, seeded), on synthetic records written
 * through the real RecordWriter, the CSV input, and the two commands run as real processes.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeWaitSignature,
  judgeRuns,
  judgeSeries,
  quickGrowth,
  ratchet,
  rankSuspects,
  runStats,
  signTestP,
  type EntityRef,
  type LeaksDocument,
  type Suspect,
} from '../../src/detect/leaks.js';
import { coincidentEvents, findSpikes, type SpikesDocument } from '../../src/detect/spikes.js';
import { timesMs } from '../../src/detect/random.js';
import {
  csvEntity,
  parseSeriesCsv,
  parseTimestamp,
  scanLevelSeries,
  type ScanOptions,
} from '../../src/record/series.js';
import { PROC_SERIES, RecordReader, Store, runMaintenance } from '../../src/store/index.js';
import { leaksFromRecord } from '../../src/cli/leaks.js';
import { spikesFromRecord } from '../../src/cli/spikes.js';
import { renderLeaksText, renderSpikesText } from '../../src/report/text-leaks.js';
import { ParseError } from '../../src/util/errors.js';
import { validate } from '../helpers/schema.js';
import { shapeSeries, writeRecord, type Shape, type SynthProc } from './synth.js';

const MiB = 1024 * 1024;
const REPO = resolve(import.meta.dirname, '../..');
const entity = (label: string): EntityRef => ({ kind: 'process', key: `p:${label}`, label, pid: 1 });

function judge(shape: Shape, seed: number, n = 7200, intervalMs = 60_000): Suspect | undefined {
  const values = shapeSeries({
    shape,
    n,
    base: 500 * MiB,
    rate: 0.02 * MiB,
    noise: 2 * MiB,
    seed,
    intervalMs,
  });
  return judgeSeries({ entity: entity(shape), metric: 'anon', tMs: timesMs(n, intervalMs), values });
}

describe('quickGrowth (the pre-filter)', () => {
  it('drops constant, falling and short series; keeps a leak and a sawtooth with a rising floor', () => {
    expect(quickGrowth(new Float64Array(100).fill(5))).toBe(false);
    expect(quickGrowth(Float64Array.from({ length: 100 }, (_, i) => 100 - i))).toBe(false);
    expect(quickGrowth(Float64Array.from({ length: 10 }, (_, i) => i))).toBe(false);
    expect(quickGrowth(Float64Array.from({ length: 100 }, (_, i) => i))).toBe(true);
    for (let seed = 1; seed <= 20; seed++) {
      const v = shapeSeries({
        shape: 'sawtooth-leak',
        n: 2000,
        base: 100,
        rate: 0.05,
        noise: 1,
        seed,
        intervalMs: 100,
      });
      expect(quickGrowth(v)).toBe(true);
    }
  });
});

describe('ratchet', () => {
  it('a count that only rises, all through: yes; a warm-up, one step, or churn: no', () => {
    const up = Float64Array.from({ length: 90 }, (_, i) => 10 + Math.floor(i / 5));
    expect(ratchet(up)).toMatchObject({ matches: true, steps: 17, undone: 0 });
    expect(ratchet(Float64Array.from({ length: 90 }, (_, i) => 10 + Math.min(20, i))).matches).toBe(false);
    expect(ratchet(Float64Array.from({ length: 90 }, (_, i) => (i < 45 ? 10 : 30))).matches).toBe(false);
    expect(
      ratchet(Float64Array.from({ length: 90 }, (_, i) => 10 + Math.floor(i / 5) + (i % 2))),
    ).toMatchObject({
      matches: false,
    });
  });
});

describe('signTestP', () => {
  it('matches binom.test(k, m, alternative = "greater") in R', () => {
    expect(signTestP(7, 7)).toBeCloseTo(0.0078125, 10); // 1/128
    expect(signTestP(9, 10)).toBeCloseTo(0.01074219, 7);
    expect(signTestP(5, 10)).toBeCloseTo(0.6230469, 7);
    expect(signTestP(0, 5)).toBe(1);
    expect(signTestP(0, 0)).toBe(1);
  });
});

describe('closeWaitSignature', () => {
  const t = timesMs(60, 1000);
  it('a staircase that is never undone, the oldest socket held long: a leak', () => {
    const v = Float64Array.from({ length: 60 }, (_, i) => Math.min(12, Math.floor(i / 4)));
    const s = closeWaitSignature(t, v);
    expect(s).toMatchObject({ matches: true, count: 12, steps: 12, undone: 0 });
    // the first socket arrived at 4 s and none ever left
    expect(s.oldestAgeMs).toBe(55_000);
  });
  it('churn (each arrival closed soon after) is not', () => {
    const v = Float64Array.from({ length: 60 }, (_, i) => (i % 3 === 1 ? 2 : 0));
    expect(closeWaitSignature(t, v).matches).toBe(false);
  });
  it('a burst at the very end is not old yet', () => {
    const v = Float64Array.from({ length: 60 }, (_, i) => (i < 55 ? 0 : i - 54));
    expect(closeWaitSignature(t, v).matches).toBe(false);
  });
});

describe('judgeSeries on five days at one minute', () => {
  // Twenty seeds per shape: the verdicts are the corpus targets in small.
  const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);
  it('finds every steady leak, sawtooth with a rising floor and late leak', () => {
    for (const shape of ['leak', 'sawtooth-leak'] as const) {
      for (const seed of SEEDS) {
        const s = judge(shape, seed);
        expect(s?.verdict, `${shape} seed ${seed}`).toBe('leak');
      }
    }
    const s = judge('leak', 3);
    expect(s?.shape).toBe('steady');
    // 0.02 MiB per minute = 1.2 MiB/h
    expect((s?.slopePerHour ?? 0) / MiB).toBeGreaterThan(1.0);
    expect((s?.slopePerHour ?? 0) / MiB).toBeLessThan(1.4);
    expect(judge('sawtooth-leak', 3)?.shape).toBe('sawtooth');
  });
  it('raises no alarm on flat noise, a sawtooth, a plateau, one step or a daily cycle', () => {
    for (const shape of ['flat', 'sawtooth', 'plateau', 'step', 'daily'] as const) {
      for (const seed of SEEDS) {
        expect(judge(shape, seed)?.verdict, `${shape} seed ${seed}`).not.toBe('leak');
      }
    }
  });
  it('projects exhaustion when a limit is known, and asks for the limit only for suspects', () => {
    const n = 1440;
    const values = shapeSeries({
      shape: 'leak',
      n,
      base: 500 * MiB,
      rate: 0.05 * MiB,
      noise: 1 * MiB,
      seed: 9,
      intervalMs: 60_000,
    });
    let asked = 0;
    const limit = () => {
      asked++;
      return { value: 1000 * MiB, name: 'memory.max', source: 'test' };
    };
    const s = judgeSeries({ entity: entity('x'), metric: 'anon', tMs: timesMs(n, 60_000), values, limit });
    expect(asked).toBe(1);
    expect(s?.limit?.name).toBe('memory.max');
    // ~572 MiB at the end, 3 MiB/h: about 140 h to go (peaks sit a little above the floor)
    const hours = (Date.parse(s?.exhaustsAt ?? '') - (n - 1) * 60_000) / 3_600_000;
    expect(hours).toBeGreaterThan(100);
    expect(hours).toBeLessThan(160);
    const flat = shapeSeries({
      shape: 'flat',
      n,
      base: 500 * MiB,
      rate: 0,
      noise: 1 * MiB,
      seed: 9,
      intervalMs: 60_000,
    });
    asked = 0;
    judgeSeries({ entity: entity('y'), metric: 'anon', tMs: timesMs(n, 60_000), values: flat, limit });
    expect(asked).toBe(0);
  });
  it('a few fds more over days is not a leak report', () => {
    const n = 7200;
    const v = Float64Array.from({ length: n }, (_, i) => 20 + (i > 2000 ? 1 : 0) + (i > 5000 ? 1 : 0));
    const s = judgeSeries({ entity: entity('fd'), metric: 'fds', tMs: timesMs(n, 60_000), values: v });
    expect(s?.verdict).not.toBe('leak');
  });
});

describe('judgeRuns (a group whose runs each grow)', () => {
  const runsOf = (f: (age: number, run: number) => number, runs = 10, len = 20) =>
    Array.from({ length: runs }, (_, r) => {
      const t = timesMs(len, 100, r * len * 100);
      const v = Float64Array.from({ length: len }, (_, a) => f(a, r));
      return runStats(t, v)!;
    });
  const g: EntityRef = { kind: 'group', key: 'g:1', label: 'restarty' };
  it('every run growing all through: a leak, shape per-run', () => {
    const s = judgeRuns(
      g,
      'anon',
      runsOf((a, r) => 50 * MiB + a * 0.5 * MiB + ((r * 7919) % 13) * 1000),
    );
    expect(s).toMatchObject({ verdict: 'leak', shape: 'per-run' });
    expect(s?.evidence.runs).toMatchObject({ count: 10, growing: 10 });
    // 0.5 MiB per 100 ms = 18 GiB/h
    expect((s?.slopePerHour ?? 0) / MiB).toBeCloseTo(18_000, -2);
  });
  it('a warm-up in every run (grows, then flat) is not', () => {
    expect(
      judgeRuns(
        g,
        'anon',
        runsOf((a) => 50 * MiB + Math.min(a, 6) * MiB),
      ),
    ).toBeUndefined();
  });
  it('a step after start in every run is not', () => {
    expect(
      judgeRuns(
        g,
        'anon',
        runsOf((a) => 50 * MiB + (a >= 5 ? 10 * MiB : 0)),
      ),
    ).toBeUndefined();
  });
  it('noise is not, and too few runs prove nothing', () => {
    expect(
      judgeRuns(
        g,
        'anon',
        runsOf((a, r) => 50 * MiB + (((a * 31 + r * 17) % 11) - 5) * 100_000),
      ),
    ).toBeUndefined();
    expect(
      judgeRuns(
        g,
        'anon',
        runsOf((a) => 50 * MiB + a * MiB, 3),
      ),
    ).toBeUndefined();
  });
});

describe('rankSuspects', () => {
  it('one suspect per entity and resource, the most specific metric; leaks first', () => {
    const mk = (label: string, metric: string, verdict: 'leak' | 'watch', confidence = 0.99): Suspect => ({
      entity: entity(label),
      metric,
      unit: 'bytes',
      verdict,
      confidence,
      slopePerHour: 1,
      slopePerHourInterval: [0.5, 1.5],
      shape: 'steady',
      exhaustsAt: null,
      exhaustsRange: null,
      limit: null,
      alsoGrowing: [],
      evidence: {} as Suspect['evidence'],
    });
    const out = rankSuspects([
      mk('a', 'rss', 'leak'),
      mk('a', 'anon', 'leak'),
      mk('b', 'fds', 'watch'),
      mk('a', 'fds', 'leak'),
    ]);
    expect(out.map((s) => `${s.entity.label}/${s.metric}/${s.verdict}`)).toEqual([
      'a/anon/leak',
      'a/fds/leak',
      'b/fds/watch',
    ]);
    expect(out[0]?.alsoGrowing).toEqual(['rss']);
  });
});

describe('findSpikes and coincidentEvents', () => {
  it('finds the onset to the sample, the levels before and after, and gathers workers', () => {
    const n = 600;
    const t = timesMs(n, 1000);
    const spikes = [0, 1, 2, 3].flatMap((w) => {
      const v = Float64Array.from(
        { length: n },
        (_, i) => (i >= 300 + (w % 2) ? 92 : 1) + ((i * 7 + w) % 5) - 2,
      );
      v[0] = NaN; // no rate at the first sample
      return findSpikes({
        entity: {
          kind: 'process',
          key: `p:${w}`,
          label: `w${w}`,
          pid: 100 + w,
          comm: 'nd',
          group: '/opt/nd/networkingd',
        },
        tMs: t,
        percent: v,
      });
    });
    expect(spikes).toHaveLength(4);
    for (const s of spikes) {
      expect(Math.abs(s.onsetIndex - 300)).toBeLessThanOrEqual(1);
      expect(s.before).toBeCloseTo(1, 0);
      expect(s.after).toBeCloseTo(92, 0);
      expect(s.persistent).toBe(true);
    }
    const ev = coincidentEvents(spikes);
    expect(ev).toHaveLength(1);
    expect(ev[0]?.summary).toMatch(
      /^4 workers of \/opt\/nd\/networkingd went from 1(\.\d)? % to 92 % CPU at 00:05:0\d and stayed$/,
    );
  });
  it('an idle process with blips, and a busy one that stays busy, have no spike', () => {
    const n = 500;
    const t = timesMs(n, 1000);
    const idle = Float64Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 3 : 0));
    const busy = Float64Array.from({ length: n }, (_, i) => 80 + ((i * 13) % 9) - 4);
    expect(findSpikes({ entity: entity('idle'), tMs: t, percent: idle })).toEqual([]);
    expect(findSpikes({ entity: entity('busy'), tMs: t, percent: busy })).toEqual([]);
  });
  it('a burst that ends is reported as not persistent', () => {
    const n = 400;
    const v = Float64Array.from({ length: n }, (_, i) => (i >= 100 && i < 160 ? 70 : 2));
    const s = findSpikes({ entity: entity('burst'), tMs: timesMs(n, 1000), percent: v });
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ onsetIndex: 100, persistent: false });
  });
});

describe('CSV input', () => {
  it('parses ISO-8601 and epoch seconds, quoted names, a header; sorts by time', () => {
    const csv = [
      'timestamp,series,value',
      '2025-01-01T00:01:00Z,"process:12:a,b/rss",200',
      '1735689600,"process:12:a,b/rss",100',
      '2025-01-01 00:02:00+00:00,other,5',
      '',
      '1735689720.5,"say ""hi""",1e3',
    ].join('\r\n');
    const s = parseSeriesCsv(csv);
    expect(s.map((x) => x.name)).toEqual(['process:12:a,b/rss', 'other', 'say "hi"']);
    expect([...s[0]!.tMs]).toEqual([1735689600000, 1735689660000]);
    expect([...s[0]!.values]).toEqual([100, 200]);
    expect(s[1]!.tMs[0]).toBe(Date.UTC(2025, 0, 1, 0, 2));
    expect(s[2]!.values[0]).toBe(1000);
    expect(csvEntity('process:12:a,b/rss')).toEqual({
      entity: { kind: 'series', key: 's:process:12:a,b', label: 'process:12:a,b', pid: 12, comm: 'a,b' },
      metric: 'rss',
    });
    expect(csvEntity('my series').metric).toBe('value');
  });
  it('names the line and the token of what it cannot read', () => {
    const err = (text: string): ParseError => {
      try {
        parseSeriesCsv(text);
      } catch (e) {
        if (e instanceof ParseError) return e;
        throw e;
      }
      throw new Error('no error');
    };
    expect(err('timestamp,series,value\n2025-01-01T00:00:00Z,a,1\nyesterday,a,2').message).toBe(
      '<text>:line 3: timestamp is neither ISO-8601 nor epoch seconds near "yesterday"',
    );
    expect(err('1,a,1\n2,a,12x').message).toBe('<text>:line 2: value is not a finite number near "12x"');
    expect(err('1,a,1,4').message).toMatch(/^<text>:line 1: expected 3 fields .* near "1,a,1,4"$/);
    expect(err('1,"a,1').message).toMatch(/line 1: unterminated quoted field/);
    expect(err('1,,1').message).toMatch(/line 1: empty series name/);
    expect(err('1,a,').message).toMatch(/line 1: value is not a finite number/);
    expect(err('').message).toMatch(/no data rows/);
    expect(err('time,name,value\n1,a,1').message).toMatch(/line 1: expected 3 fields|timestamp is neither/);
    expect(err('timestamp,foo,value\n1,a,1').message).toMatch(
      /line 1: the header must be timestamp,series,value/,
    );
    expect(err('2025-13-45T99:00:00Z,a,1').message).toMatch(/line 1: timestamp/);
    expect(
      parseTimestamp(
        '99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999e9',
      ),
    ).toBeUndefined();
  });
});

// ---- synthetic records through the real writer, read back by the commands -----------------------

describe('leaks and spikes on a synthetic record', () => {
  let dir: string;
  let db: string;
  const N = 720;
  const START = Date.UTC(2025, 0, 1);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'procsleuth-leaks-'));
    db = join(dir, 'record.db');
    const leak = shapeSeries({
      shape: 'leak',
      n: N,
      base: 200 * MiB,
      rate: 0.05 * MiB,
      noise: 0.5 * MiB,
      seed: 1,
      intervalMs: 60_000,
    });
    const flat = shapeSeries({
      shape: 'flat',
      n: N,
      base: 200 * MiB,
      rate: 0,
      noise: 0.5 * MiB,
      seed: 2,
      intervalMs: 60_000,
    });
    const procs: SynthProc[] = [
      {
        pid: 1,
        comm: 'init',
        exe: '/sbin/init',
        argv: ['/sbin/init'],
        ppid: 0,
        from: 0,
        to: N,
        values: () => ({ rssBytes: 10 * MiB, anonBytes: 5 * MiB, fds: 50 }),
      },
      {
        pid: 100,
        comm: 'leaky',
        exe: '/usr/bin/leaky',
        argv: ['leaky'],
        ppid: 1,
        from: 0,
        to: N,
        values: (i) => ({
          rssBytes: leak[i]! + 10 * MiB,
          anonBytes: leak[i]!,
          fds: 10 + Math.floor(i / 30),
          cpuTicks: i * 60,
        }),
      },
      {
        pid: 101,
        comm: 'flat',
        exe: '/usr/bin/flat',
        argv: ['flat'],
        ppid: 1,
        from: 0,
        to: N,
        values: (i) => ({ rssBytes: flat[i]! + 10 * MiB, anonBytes: flat[i]!, fds: 10, cpuTicks: i * 3000 }),
      },
      {
        pid: 102,
        comm: 'server',
        exe: '/usr/bin/server',
        argv: ['server'],
        ppid: 1,
        from: 0,
        to: N,
        values: (i) => ({
          rssBytes: 20 * MiB,
          anonBytes: 10 * MiB,
          fds: 12 + Math.floor(i / 40),
          closeWait: Math.floor(i / 40),
        }),
      },
    ];
    // a leaking daemon its supervisor restarts every 20 minutes: each run alone is too short to judge
    for (let r = 0; r < 36; r++) {
      procs.push({
        pid: 200 + r,
        comm: 'restarty',
        exe: '/usr/bin/restarty',
        argv: ['restarty', '--port', String(9000 + r)],
        ppid: 1,
        from: r * 20,
        to: r * 20 + 20,
        values: (i) => ({
          rssBytes: 50 * MiB + (i - r * 20) * 0.5 * MiB,
          anonBytes: 40 * MiB + (i - r * 20) * 0.5 * MiB,
          fds: 10,
        }),
      });
    }
    // five workers of one daemon go from 1 % to 92 % at sample 400
    for (let k = 0; k < 5; k++) {
      procs.push({
        pid: 300 + k,
        comm: 'worker',
        exe: '/opt/nd/networkingd',
        argv: ['/opt/nd/networkingd', '-w', String(k)],
        ppid: 1,
        from: 0,
        to: N,
        values: (i) => ({
          rssBytes: 30 * MiB,
          anonBytes: 20 * MiB,
          fds: 10,
          cpuTicks: i < 400 ? i * 60 : 400 * 60 + (i - 400) * 5520,
        }),
      });
    }
    writeRecord(db, { samples: N, intervalMs: 60_000, startMs: START, procs });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const open = <T>(f: (r: RecordReader) => T): T => {
    const s = Store.open(db, { mode: 'read' });
    try {
      return f(new RecordReader(s));
    } finally {
      s.close();
    }
  };

  it('leaks: the leaking process, the fd and CLOSE_WAIT leak, the restarted group; nothing else', () => {
    const doc = open((r) => leaksFromRecord(r, { dbPath: db, noLiveLimits: true, now: START }));
    expect(validate('leaks', doc)).toEqual([]);
    expect(doc).toMatchObject({
      schema: 'procsleuth.leaks/1',
      samples: N,
      scanned: { processes: 45, groups: 2 },
    });
    const leaks = doc.suspects.filter((s) => s.verdict === 'leak');
    const names = leaks
      .map((s) => `${s.entity.kind}:${s.entity.comm ?? s.entity.label}/${s.metric}/${s.shape}`)
      .sort();
    expect(names).toEqual([
      'group:restarty/anon/per-run',
      'process:leaky/anon/steady',
      'process:leaky/fds/stepwise',
      'process:server/close_wait/stepwise',
    ]);
    const anon = leaks.find((s) => s.entity.comm === 'leaky' && s.metric === 'anon')!;
    expect(anon.entity).toMatchObject({ kind: 'process', pid: 100, startTimeTicks: 1000, cmdline: 'leaky' });
    expect(anon.alsoGrowing).toEqual(['rss']);
    // 3 MiB/h; the host has 8 GiB available and no swap
    expect(anon.slopePerHour / MiB).toBeCloseTo(3, 0);
    expect(anon.limit).toMatchObject({ name: 'MemAvailable+SwapFree', value: expect.any(Number) });
    expect(anon.exhaustsAt).not.toBeNull();
    const cw = leaks.find((s) => s.metric === 'close_wait')!;
    expect(cw.evidence.closeWait).toMatchObject({ count: 17, undone: 0 });
    expect(cw.alsoGrowing.sort()).toEqual(['fds', 'sockets']);
    // the tree of init is explained by its children's leaks and dropped
    expect(doc.suspects.filter((s) => s.entity.kind === 'tree' && s.verdict === 'leak')).toEqual([]);
    const text = renderLeaksText(doc);
    expect(text).toMatch(/^leaks: 4 leaks, \d+ to watch, in the record /);
    expect(text).toMatch(/LEAK {3}process 100 leaky \(leaky\)\n {7}anon grows [23]\.\dM\/h \[/);
    expect(text).toMatch(/reaches MemAvailable\+SwapFree \(8\.\dG\) in [\d.]+ d/);
    expect(text).toMatch(/36 of 36 runs grew/);
  });

  /** Every series scanLevelSeries emits, copied (process series are views of reused buffers). */
  const scanAll = (path: string, o: ScanOptions): string[] => {
    const s = Store.open(path, { mode: 'read' });
    try {
      const out: string[] = [];
      scanLevelSeries(new RecordReader(s), { noLiveLimits: true, ...o }, (x) => {
        const limit = x.limit?.();
        out.push(
          JSON.stringify([x.entity, x.metric, x.runsOf?.key, [...x.tMs], [...x.values].map(String), limit]),
        );
      });
      return out;
    } finally {
      s.close();
    }
  };

  it('the decoding worker emits exactly what this thread does, in the same order', () => {
    const here = scanAll(db, { worker: false });
    expect(here.length).toBeGreaterThan(100);
    expect(scanAll(db, { worker: true })).toEqual(here);
    expect(scanAll(db, { worker: true, sinceMs: START + 300 * 60_000 })).toEqual(
      scanAll(db, { worker: false, sinceMs: START + 300 * 60_000 }),
    );
  });

  it('a worker that cannot start (its database gone) leaves the scan to this thread, same series', () => {
    const gone = join(dir, 'gone.db');
    copyFileSync(db, gone);
    const s = Store.open(gone, { mode: 'read' });
    try {
      rmSync(gone); // this connection still reads it; the worker's open fails
      const out: string[] = [];
      scanLevelSeries(new RecordReader(s), { noLiveLimits: true, worker: true }, (x) => {
        out.push(JSON.stringify([x.entity, x.metric, x.runsOf?.key, [...x.tMs], [...x.values].map(String)]));
      });
      const here = scanAll(db, { worker: false }).map((line) => {
        const [e, m, g, t, v] = JSON.parse(line) as unknown[];
        return JSON.stringify([e, m, g, t, v]);
      });
      expect(out).toEqual(here);
    } finally {
      s.close();
    }
  });

  it('after retention folded the old half into buckets: bucket floors, then raw samples, both ways', () => {
    const folded = join(dir, 'folded.db');
    copyFileSync(db, folded);
    const w = Store.open(folded, { mode: 'write' });
    try {
      runMaintenance(w, { nowMs: START + N * 60_000, retentionMs: (N / 2) * 60_000 });
    } finally {
      w.close();
    }
    const here = scanAll(folded, { worker: false });
    expect(scanAll(folded, { worker: true })).toEqual(here);
    const s = Store.open(folded, { mode: 'read' });
    try {
      const r = new RecordReader(s);
      const t = r.timeline();
      expect(t.firstRaw).toBeGreaterThan(20);
      const leaky = r.processesByPid(100)[0]!;
      const mins = s.db
        .prepare(`SELECT bucket, anon_kib_min FROM proc_10m WHERE proc = ? ORDER BY bucket`)
        .raw(true)
        .all(leaky.id) as [number, number | null][];
      let anon: Float64Array | undefined;
      scanLevelSeries(r, { noLiveLimits: true, worker: false }, (x) => {
        if (x.entity.pid === 100 && x.metric === 'anon') anon = x.values.slice();
      });
      // a bucket point is the bucket's floor (a NULL min carries the one before); raw points follow
      let carried = NaN;
      for (let i = 0; i < t.firstRaw; i++) {
        const m = mins.find(([b]) => b === t.bucket[i]);
        if (m && m[1] !== null) carried = m[1] * 1024;
        expect(anon?.[i]).toBe(carried);
      }
      const raw = r.decode(PROC_SERIES, leaky.id, ['anon_kib'], t, [t.firstRaw, t.length - 1]);
      expect([...(anon?.subarray(t.firstRaw) ?? [])]).toEqual([...raw.values[0]!].map((v) => v * 1024));
    } finally {
      s.close();
    }
  });

  it('--since cuts the window: before the leak was big, and after the workers spiked', () => {
    const doc = open((r) =>
      leaksFromRecord(r, { dbPath: db, noLiveLimits: true, sinceMs: START + 700 * 60_000 }),
    );
    expect(doc.samples).toBe(20);
    expect(doc.suspects.filter((s) => s.verdict === 'leak' && s.entity.kind === 'process')).toEqual([]);
  });

  it('spikes: five workers together, onset exact, the group too', () => {
    const doc: SpikesDocument = open((r) => spikesFromRecord(r, { dbPath: db, now: START }));
    expect(validate('spikes', doc)).toEqual([]);
    expect(doc.events).toHaveLength(1);
    expect(doc.events[0]).toMatchObject({
      processes: 5,
      group: '/opt/nd/networkingd -w #',
      persistent: true,
      before: 1,
      after: 92,
    });
    expect(doc.events[0]?.summary).toBe(
      '5 workers of /opt/nd/networkingd -w # went from 1 % to 92 % CPU at 06:41:00 and stayed',
    );
    const proc = doc.spikes.filter((s) => s.entity.kind === 'process');
    expect(proc).toHaveLength(5);
    // the rate at sample 401 is the first over a whole minute of spinning
    for (const s of proc) expect(s.onsetIndex).toBe(401);
    expect(doc.spikes.find((s) => s.entity.kind === 'group')).toMatchObject({ before: 5, after: 460 });
    expect(renderSpikesText(doc)).toMatch(
      /together:\n {2}5 workers of \/opt\/nd\/networkingd -w # went from/,
    );
  });

  const cli = (args: string[]) =>
    spawnSync(process.execPath, [join(REPO, 'bin/procsleuth.js'), ...args], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('the commands as real processes: JSON, exit codes, --input and its errors', () => {
    const r = cli(['leaks', '--db', db, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1); // a leak was found
    const doc = JSON.parse(r.stdout) as LeaksDocument;
    expect(validate('leaks', doc)).toEqual([]);
    expect(doc.suspects.some((s) => s.entity.pid === 100 && s.verdict === 'leak')).toBe(true);
    const sp = cli(['spikes', '--db', db]);
    expect(sp.status).toBe(1);
    expect(sp.stdout).toMatch(/5 workers of/);

    const csv = join(dir, 'series.csv');
    const rows = ['timestamp,series,value'];
    for (let i = 0; i < 600; i++) {
      const t = START / 1000 + i * 60;
      rows.push(`${t},app/rss,${100 * MiB + i * 0.1 * MiB + ((i * 7919) % 13) * 20_000}`);
      rows.push(`${new Date(t * 1000).toISOString()},db/rss,${300 * MiB + ((i * 104729) % 17) * 50_000}`);
    }
    writeFileSync(csv, rows.join('\n') + '\n');
    const c = cli(['leaks', '--input', csv, '--json']);
    expect(c.status).toBe(1);
    const cd = JSON.parse(c.stdout) as LeaksDocument;
    expect(validate('leaks', cd)).toEqual([]);
    expect(cd.source).toEqual({ kind: 'csv', file: csv });
    expect(cd.suspects.map((s) => `${s.entity.label}/${s.metric}/${s.verdict}`)).toEqual(['app/rss/leak']);

    writeFileSync(csv, 'timestamp,series,value\n1735689600,a,1\n1735689660,a,one\n');
    const bad = cli(['leaks', '--input', csv]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`procsleuth: ${csv}:line 3: value is not a finite number near "one"\n`);
    const none = cli(['leaks', '--db', join(dir, 'missing.db')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/^procsleuth: /);
    const usage = cli(['leaks', '--bogus']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--bogus/);
  }, 60_000);
});
