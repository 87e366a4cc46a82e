import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BUCKET_MS,
  PROC_SERIES,
  RecordReader,
  RecordWriter,
  SCHEMA_VERSION,
  SOCK_SERIES,
  Store,
  runMaintenance,
  type ProcessSampleInput,
  type SampleInput,
} from './index.js';
import { RESTATE_EVERY, encodeRow } from './writer.js';

const BOOT = '6a68c77a-d17a-4df8-8544-24148ed63c7e';
const BOOT2 = '11111111-d17a-4df8-8544-24148ed63c7e';
let dir: string;
let db: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-store-'));
  db = join(dir, 'record.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const RUN = { pid: 4242, hostname: 'test', version: '0.0.0', intervalMs: 1000, startedMs: 0 };

function proc(pid: number, start: number, o: Partial<ProcessSampleInput> = {}): ProcessSampleInput {
  return {
    pid,
    startTimeTicks: start,
    ppid: 1,
    comm: `p${pid}`,
    kernelThread: false,
    exe: `/usr/bin/p${pid}`,
    argv: [`p${pid}`, '--port', String(8000 + pid)],
    utimeTicks: 0,
    stimeTicks: 0,
    minorFaults: 0,
    majorFaults: 0,
    rssBytes: 4096 * 100,
    vszBytes: 4096 * 1000,
    threads: 1,
    fdCount: 4,
    ...o,
  };
}

function sample(tMs: number, processes: ProcessSampleInput[], bootId = BOOT): SampleInput {
  return {
    tMs,
    bootId,
    host: { cpu_user_ticks: tMs / 10, cpu_idle_ticks: tMs / 5, load1_x100: 5, mem_total_kib: 1000 },
    processes,
  };
}

describe('encodeRow', () => {
  it('writes a keyframe first, then only what changed, counters as increases', () => {
    const k = encodeRow(PROC_SERIES, undefined, [10, 5, 100, 0, 400, NaN, NaN, NaN, 4000, 1, 4]);
    expect(k.row).toEqual([1, 10, 5, 100, 0, 400, null, null, null, 4000, 1, 4]);
    const same = encodeRow(PROC_SERIES, k.next, [10, 5, 100, 0, 400, NaN, NaN, NaN, 4000, 1, 4]);
    expect(same.row).toBeUndefined();
    const d = encodeRow(PROC_SERIES, k.next, [13, 5, 100, 0, 404, 200, NaN, NaN, 4000, 1, 4]);
    expect(d.row).toEqual([null, 3, null, null, null, 404, 200, null, null, null, null, null]);
    expect(d.next.slice(0, 6)).toEqual([13, 5, 100, 0, 404, 200]);
  });

  it('starts a new keyframe when a counter goes backwards, keeping known gauges', () => {
    const k = encodeRow(PROC_SERIES, undefined, [10, 5, 100, 0, 400, 7, NaN, NaN, 4000, 1, 4]);
    const back = encodeRow(PROC_SERIES, k.next, [3, 5, 100, 0, 400, NaN, NaN, NaN, 4000, 1, 4]);
    expect(back.row?.[0]).toBe(1);
    expect(back.row?.[1]).toBe(3);
    expect(back.row?.[6]).toBe(7); // anon kept from the last keyframe
  });
});

describe('restating gauges', () => {
  it('encodeRow stores every known gauge again, counters stay deltas, and it is no keyframe', () => {
    const k = encodeRow(PROC_SERIES, undefined, [10, 5, 100, 0, 400, 7, NaN, NaN, 4000, 1, 4]);
    const r = encodeRow(PROC_SERIES, k.next, [12, 5, 100, 0, 400, NaN, NaN, NaN, 4000, 1, 4], true);
    // k, utime +2, stime, minflt, majflt (counters: deltas or null); rss, anon kept from before (unknown
    // now), swap and pss never known; vsz, threads, fds again
    expect(r.row).toEqual([null, 2, null, null, null, 400, 7, null, null, 4000, 1, 4]);
    expect(encodeRow(PROC_SERIES, k.next, [10, 5, 100, 0, 400, NaN, NaN, NaN, 4000, 1, 4], false).row).toBe(
      undefined,
    );
  });

  it('an idle process has its gauges stored again every RESTATE_EVERY samples, sockets at the next pass', () => {
    const store = Store.open(db, { mode: 'write' });
    const w = new RecordWriter(store, RUN);
    const N = 2 * RESTATE_EVERY + 50;
    for (let i = 0; i < N; i++) {
      const idle = proc(10, 100);
      // a socket pass every 7th sample: the restatement rarely falls on one
      if (i % 7 === 0) idle.sockets = { tcp: { ESTABLISHED: 2 }, udp: 0, unix: 1, other: 0 };
      w.append(sample(1000 * (i + 1), [idle]));
    }
    const rows = (table: string, col: string): number[] =>
      (
        store.db
          .prepare(`SELECT sample FROM ${table} WHERE ${col} IS NOT NULL ORDER BY sample`)
          .raw(true)
          .all() as [number][]
      ).map((x) => x[0]);
    const last = N; // sample ids run 1 … N
    for (const [series, col] of [
      ['proc', 'threads'],
      ['proc', 'fds'],
      ['sock', 'tcp_established'],
    ] as const) {
      const at = [...rows(`${series}_raw`, col), ...rows(`${series}_recent`, col)].sort((a, b) => a - b);
      // the first value, then a restatement (or the next socket pass after it) every RESTATE_EVERY
      expect(at.length, `${series}.${col} at ${at.join(',')}`).toBe(3);
      expect(last - at[at.length - 1]!).toBeLessThanOrEqual(RESTATE_EVERY);
    }
    store.close();
    // the series read back are unchanged by it
    const rs = Store.open(db, { mode: 'read' });
    const r = new RecordReader(rs);
    const t = r.timeline();
    const p = r.processesByPid(10)[0]!;
    const d = r.decode(PROC_SERIES, p.id, ['threads', 'fds'], t, [0, t.length - 1]);
    expect(new Set(d.values[0])).toEqual(new Set([1]));
    expect(new Set(d.values[1])).toEqual(new Set([4]));
    rs.close();
  });
});

describe('RecordWriter and RecordReader', () => {
  it('round-trips series, stores an idle process once, and tracks exits and PID reuse', () => {
    const store = Store.open(db, { mode: 'write' });
    const w = new RecordWriter(store, RUN);
    const N = 50;
    const written: { rows: number }[] = [];
    for (let i = 0; i < N; i++) {
      const ps = [
        proc(10, 100), // idle
        proc(11, 110, {
          utimeTicks: i * 3,
          stimeTicks: i,
          rssBytes: 4096 * (100 + i),
          fdCount: 4 + Math.floor(i / 10),
        }), // busy, leaking
      ];
      if (i < 20) ps.push(proc(12, 120, { ppid: 11 }));
      if (i >= 30) ps.push(proc(12, 999, { ppid: 11, comm: 'reused' })); // the same PID, a new process
      written.push(w.append(sample(1000 * (i + 1), ps)));
    }
    // The idle process wrote its keyframe and nothing after it.
    const idleRows = store.db
      .prepare(`SELECT count(*) AS n FROM proc_recent r JOIN processes p ON p.id = r.proc WHERE p.pid = 10`)
      .get() as { n: number };
    const idleRaw = store.db
      .prepare(`SELECT count(*) AS n FROM proc_raw r JOIN processes p ON p.id = r.proc WHERE p.pid = 10`)
      .get() as { n: number };
    expect(idleRows.n + idleRaw.n).toBe(1);
    store.close();

    const rs = Store.open(db, { mode: 'read' });
    const r = new RecordReader(rs);
    const t = r.timeline();
    expect(t.length).toBe(N);
    const busy = r.processesByPid(11)[0];
    expect(busy?.argv).toEqual(['p11', '--port', '8011']);
    expect(busy?.groupLabel).toBe('/usr/bin/p11 --port #');
    const range = busy ? r.aliveRange(busy, t) : undefined;
    expect(range).toEqual([0, N - 1]);
    const d = r.decode(PROC_SERIES, busy?.id, ['utime_ticks', 'rss_kib', 'fds'], t, range ?? [0, 0]);
    expect([...(d.values[0] ?? [])]).toEqual(Array.from({ length: N }, (_, i) => i * 3));
    expect([...(d.values[1] ?? [])]).toEqual(Array.from({ length: N }, (_, i) => (100 + i) * 4));
    expect(d.values[2]?.[N - 1]).toBe(4 + 4);

    const both = r.processesByPid(12);
    expect(both.map((p) => p.startTimeTicks)).toEqual([999, 120]);
    const old = both[1];
    expect(old?.endSample).not.toBeNull();
    expect(old ? r.aliveRange(old, t) : undefined).toEqual([0, 19]);
    expect(both[0] ? r.aliveRange(both[0], t) : undefined).toEqual([30, N - 1]);
    // The child's parent is the busy process's row, not just a pid.
    expect(old?.parent).toBe(busy?.id);
    expect(
      r
        .tree(busy?.id ?? -1)
        .map((p) => p.pid)
        .sort(),
    ).toEqual([11, 12, 12]);
    rs.close();
  });

  it('counts sockets by state only when measured, and keeps the last value between passes', () => {
    const store = Store.open(db, { mode: 'write' });
    const w = new RecordWriter(store, RUN);
    for (let i = 0; i < 6; i++) {
      const sockets =
        i % 2 === 0 ? { tcp: { ESTABLISHED: 3, CLOSE_WAIT: i }, udp: 1, unix: 2, other: 0 } : undefined;
      w.append(sample(1000 * (i + 1), [proc(20, 200, { sockets })]));
    }
    const r = new RecordReader(store);
    const t = r.timeline();
    const p = r.processesByPid(20)[0];
    const d = r.decode(SOCK_SERIES, p?.id, ['tcp_close_wait', 'tcp_established'], t, [0, 5]);
    expect([...(d.values[0] ?? [])]).toEqual([0, 0, 2, 2, 4, 4]);
    expect([...(d.values[1] ?? [])]).toEqual([3, 3, 3, 3, 3, 3]);
    store.close();
  });

  it('a restarted writer appends, keyframes its first sample and closes processes gone meanwhile', () => {
    let store = Store.open(db, { mode: 'write' });
    let w = new RecordWriter(store, RUN);
    for (let i = 0; i < 5; i++)
      w.append(sample(1000 * (i + 1), [proc(30, 300, { utimeTicks: i }), proc(31, 310)]));
    store.close(); // as if killed: no endRun
    store = Store.open(db, { mode: 'write' });
    w = new RecordWriter(store, { ...RUN, startedMs: 10_000 });
    for (let i = 0; i < 5; i++) w.append(sample(10_000 + 1000 * i, [proc(30, 300, { utimeTicks: 100 + i })]));
    const r = new RecordReader(store);
    const t = r.timeline();
    expect(t.length).toBe(10);
    const p30 = r.processesByPid(30);
    expect(p30).toHaveLength(1); // same identity across runs
    const d = r.decode(PROC_SERIES, p30[0]?.id, ['utime_ticks'], t, [0, 9]);
    expect([...(d.values[0] ?? [])]).toEqual([0, 1, 2, 3, 4, 100, 101, 102, 103, 104]);
    const p31 = r.processesByPid(31)[0];
    expect(p31?.endMs).toBe(5000); // ended at the last sample of the run that saw it
    expect(store.db.prepare(`SELECT count(*) AS n FROM runs`).get()).toEqual({ n: 2 });
    store.close();
  });

  it('closes processes of an earlier boot, and never matches them with this boot', () => {
    const store = Store.open(db, { mode: 'write' });
    let w = new RecordWriter(store, RUN);
    w.append(sample(1000, [proc(40, 400)], BOOT2));
    w = new RecordWriter(store, RUN);
    w.append(sample(2000, [proc(40, 400)], BOOT));
    const r = new RecordReader(store);
    const ps = r.processesByPid(40);
    expect(ps).toHaveLength(2);
    expect(ps.find((p) => p.bootId === BOOT2)?.endMs).toBe(1000);
    store.close();
  });

  it('downsamples old samples into 10-minute buckets with min, max and last', () => {
    const store = Store.open(db, { mode: 'write' });
    const w = new RecordWriter(store, RUN);
    const step = 60_000;
    const start = 100 * BUCKET_MS;
    const rss = (i: number): number => 4096 * (1000 + (i % 10 === 3 ? 500 : i));
    for (let i = 0; i < 60; i++) {
      w.append(
        sample(start + i * step, [proc(50, 500, { utimeTicks: i * 10, rssBytes: rss(i) }), proc(51, 510)]),
      );
    }
    // Keep the last 20 minutes raw: 4 buckets of 10 samples each are folded.
    const now = start + 60 * step;
    const m = runMaintenance(store, { nowMs: now, retentionMs: 20 * 60_000 });
    expect(m.cutMs).toBe(start + 4 * BUCKET_MS);
    expect(m.samplesDeleted).toBe(40);
    const r = new RecordReader(store);
    const t = r.timeline();
    expect(t.firstRaw).toBe(4);
    expect(t.length).toBe(4 + 20);
    const p = r.processesByPid(50)[0];
    const range = p ? r.aliveRange(p, t) : undefined;
    expect(range).toEqual([0, 23]);
    const d = r.decode(PROC_SERIES, p?.id, ['utime_ticks', 'rss_kib'], t, range ?? [0, 0]);
    // bucket 0 holds samples 0..9: last utime 90, rss max at i=3 (1500 pages), min 1000 pages
    expect(d.values[0]?.[0]).toBe(90);
    expect(d.values[1]?.[0]).toBe(rss(9) / 1024);
    expect(d.max[1]?.[0]).toBe(1500 * 4);
    expect(d.min[1]?.[0]).toBe(1000 * 4);
    // raw points after the cut continue from the carried state
    expect(d.values[0]?.[4]).toBe(400);
    expect(d.values[0]?.[23]).toBe(590);
    // the idle process is alive over the buckets too, with its carried value
    const idle = r.processesByPid(51)[0];
    const ir = idle ? r.aliveRange(idle, t) : undefined;
    expect(ir).toEqual([0, 23]);
    const di = r.decode(PROC_SERIES, idle?.id, ['rss_kib'], t, ir ?? [0, 0]);
    expect([...(di.values[0] ?? [])].every((v) => v === 400)).toBe(true);
    // a second run is a no-op
    expect(runMaintenance(store, { nowMs: now, retentionMs: 20 * 60_000 }).samplesDeleted).toBe(0);
    // Later, buckets past their own retention go, and so do processes that ended before it.
    const later = runMaintenance(store, {
      nowMs: now + BUCKET_MS,
      retentionMs: 20 * 60_000,
      bucketRetentionMs: 2 * BUCKET_MS,
    });
    expect(later.bucketRowsExpired).toBeGreaterThan(0);
    expect(new RecordReader(store).timeline().firstRaw).toBeLessThan(5);
    store.close();
  });
});

describe('decoding over part of a timeline', () => {
  it('a thinned timeline gets, at each point it keeps, exactly what the full one has there', () => {
    const store = Store.open(db, { mode: 'write' });
    const w = new RecordWriter(store, RUN);
    // A busy process (CPU and RSS every sample), one that changes now and then, fds only sometimes read.
    for (let i = 0; i < 200; i++) {
      w.append(
        sample(1000 * (i + 1), [
          proc(60, 600, { utimeTicks: i * 7, rssBytes: 4096 * (100 + ((i * 37) % 50)) }),
          proc(61, 610, {
            utimeTicks: Math.floor(i / 9),
            rssBytes: 4096 * (200 + Math.floor(i / 17)),
            fdCount: i % 5 === 0 ? 10 + (i % 3) : undefined,
          }),
        ]),
      );
    }
    const r = new RecordReader(store);
    const t = r.timeline();
    const cols = ['utime_ticks', 'rss_kib', 'fds'];
    for (const pid of [60, 61]) {
      const p = r.processesByPid(pid)[0]!;
      const full = r.decode(PROC_SERIES, p.id, cols, t, [0, t.length - 1]);
      for (const step of [2, 3, 7, 31]) {
        const keep = Array.from({ length: Math.ceil(t.length / step) }, (_, k) => k * step);
        const thin = {
          ...t,
          tMs: Float64Array.from(keep, (i) => t.tMs[i]!),
          boot: Int32Array.from(keep, (i) => t.boot[i]!),
          sample: Float64Array.from(keep, (i) => t.sample[i]!),
          bucket: Float64Array.from(keep, (i) => t.bucket[i]!),
          length: keep.length,
        };
        // from the middle too: the rows before the range are applied, not written
        for (const from of [0, Math.floor(keep.length / 2)]) {
          const d = r.decode(PROC_SERIES, p.id, cols, thin, [from, keep.length - 1]);
          for (let c = 0; c < cols.length; c++)
            expect([...d.values[c]!]).toEqual(keep.slice(from).map((i) => full.values[c]![i]));
        }
      }
    }
    store.close();
  });
});

describe('Store.open refuses what it must not touch', () => {
  it('a file that is not SQLite: reported as corrupt, left byte for byte', () => {
    const junk = Buffer.from('this is not a database, it is a grocery list\n'.repeat(200));
    writeFileSync(db, junk);
    expect(() => Store.open(db, { mode: 'write' })).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT' }),
    );
    expect(readFileSync(db).equals(junk)).toBe(true);
  });

  it('a database with a damaged page: reported as corrupt, not modified', () => {
    const s = Store.open(db, { mode: 'write' });
    const w = new RecordWriter(s, RUN);
    for (let i = 0; i < 300; i++)
      w.append(sample(1000 * i, [proc(60, 600, { utimeTicks: i, argv: ['x'.repeat(500), String(i)] })]));
    s.close();
    const buf = readFileSync(db);
    const size = statSync(db).size;
    // Overwrite a page in the middle (not the header) with garbage.
    const page = 4096 * Math.floor(size / 4096 / 2);
    buf.fill(0xa5, page, page + 4096);
    writeFileSync(db, buf);
    expect(() => Store.open(db, { mode: 'write' })).toThrow(
      expect.objectContaining({ code: 'STORE_CORRUPT' }),
    );
    expect(readFileSync(db).equals(buf)).toBe(true);
  });

  it('a newer schema version', () => {
    const s = Store.open(db, { mode: 'write' });
    s.close();
    const raw = new Database(db);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const before = readFileSync(db);
    expect(() => Store.open(db, { mode: 'write' })).toThrow(/newer procsleuth \(schema version 2/);
    expect(() => Store.open(db, { mode: 'read' })).toThrow(
      expect.objectContaining({ code: 'STORE_NEWER_SCHEMA' }),
    );
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it("another application's SQLite file", () => {
    const raw = new Database(db);
    raw.exec('CREATE TABLE t (x)');
    raw.close();
    expect(() => Store.open(db, { mode: 'write' })).toThrow(/not a procsleuth record/);
  });

  it('a second writer while the first is alive; a dead owner is taken over', () => {
    const a = Store.open(db, { mode: 'write' });
    const me = { pid: 1, startTimeTicks: 5, bootId: BOOT, hostname: 'h', sinceMs: 0 };
    a.acquire(me, () => true);
    const b = Store.open(db, { mode: 'write' });
    expect(() => b.acquire({ ...me, pid: 2 }, () => true)).toThrow(/another recorder \(pid 1 on h/);
    b.acquire({ ...me, pid: 2 }, () => false); // owner 1 is dead
    expect(b.owner()?.pid).toBe(2);
    a.close();
    b.close();
  });

  it('history on a missing file says where it looked', () => {
    expect(() => Store.open(join(dir, 'none.db'), { mode: 'read' })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });
});
