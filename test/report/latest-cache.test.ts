/**
 * RecordView.latest() in a long-lived view (the dashboard's worker) keeps the newest values it found and
 * next time reads only the rows stored since. One recorder run keeps writing (so the new rows are
 * changes only, never whole keyframes), and the view must answer exactly what a fresh view answers:
 * after a few new samples, and after so many that rows moved on from the recent tier to the raw one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RecordReader,
  RecordWriter,
  Store,
  type ProcessSampleInput,
  type SampleInput,
} from '../../src/store/index.js';
import { RecordView } from '../../src/report/html/data.js';
import { processInput } from '../helpers/sample-input.js';

const INTERVAL = 10_000;
const BOOT = '0b0e1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
let dir: string;
let db: string;
let writeStore: Store;
let writer: RecordWriter;
let readStore: Store;
let view: RecordView;
let n = 0;
const startMs = Date.now() - 1000 * INTERVAL;

const procs: ProcessSampleInput[] = Array.from({ length: 30 }, (_, i) =>
  processInput(2000 + i, {
    startTimeTicks: 100 + i,
    comm: `w${i}`,
    exe: `/usr/bin/w${i % 3}`,
    argv: [`/usr/bin/w${i % 3}`, '--id', String(i)],
    rssBytes: (10 + i) << 20,
    anonBytes: (5 + i) << 20,
    vszBytes: 500 << 20,
    threads: 1 + (i % 4),
    fdCount: 8 + i,
  }),
);

/** `count` more samples; process k changes its fds, RSS or sockets only now and then. */
function append(count: number): void {
  for (let s = 0; s < count; s++, n++) {
    procs.forEach((p, k) => {
      p.utimeTicks += k % 2;
      if ((n + k) % 17 === 0) p.fdCount = (p.fdCount ?? 0) + 1;
      if ((n + k) % 29 === 0) p.rssBytes = (p.rssBytes ?? 0) + 4096;
      if ((n + k) % 41 === 0) p.threads = (p.threads ?? 1) + 1;
    });
    const sample: SampleInput = {
      tMs: startMs + n * INTERVAL,
      bootId: BOOT,
      host: { cpu_user_ticks: n * 10, cpu_idle_ticks: n * 100, load1_x100: 5, mem_total_kib: 1 << 20 },
      processes: procs.map((p, k) => ({
        ...p,
        // a socket pass every 6th sample; the counts change on some of them
        sockets:
          n % 6 === 0
            ? { tcp: { ESTABLISHED: (k + Math.floor(n / 6)) % 5 }, udp: 0, unix: 1, other: 0 }
            : undefined,
      })),
    };
    writer.append(sample);
  }
}

const fresh = (): ReturnType<RecordView['latest']> => {
  const s = Store.open(db, { mode: 'read' });
  try {
    return new RecordView(new RecordReader(s)).latest();
  } finally {
    s.close();
  }
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-latest-'));
  db = join(dir, 'r.db');
  writeStore = Store.open(db, { mode: 'write', check: false });
  writer = new RecordWriter(writeStore, {
    pid: 4242,
    hostname: 'h',
    version: '0.1.0',
    intervalMs: INTERVAL,
    startedMs: startMs,
  });
  append(100);
  readStore = Store.open(db, { mode: 'read' });
  view = new RecordView(new RecordReader(readStore));
});

afterAll(() => {
  readStore?.close();
  writeStore?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('latest() of a long-lived view', () => {
  it('answers as a fresh view does, first and after each of a few new samples', () => {
    const first = view.latest();
    expect(first).toHaveLength(30);
    expect(first).toEqual(fresh());
    const fds = (rows: typeof first): (number | undefined)[] => rows.map((r) => r.fds);
    for (let i = 0; i < 20; i++) {
      append(1);
      expect(view.latest()).toEqual(fresh());
    }
    // the values did move, and the cached ones followed
    expect(fds(view.latest())).not.toEqual(fds(first));
  });

  it('answers as a fresh view does after rows moved on from the recent tier', () => {
    view.latest();
    append(150); // 25 minutes: rows older than 10 minutes moved to the raw tier meanwhile
    expect(view.latest()).toEqual(fresh());
    append(1);
    expect(view.latest()).toEqual(fresh());
  });
});
