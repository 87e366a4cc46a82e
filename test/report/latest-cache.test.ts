/**
 * RecordView.latest() in a long-lived view (the dashboard's worker) keeps the newest values it found and
 * next time reads only the rows stored since: after new samples, and after so many that rows moved from
 * the recent tier to the raw one, it must answer exactly what a fresh view answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordReader, Store } from '../../src/store/index.js';
import { RecordView } from '../../src/report/html/data.js';
import { generateRecord } from './gen.js';

const INTERVAL = 10_000;
let dir: string;
let db: string;
let store: Store;
let view: RecordView;
let nextMs: number;

const fresh = (): ReturnType<RecordView['latest']> => {
  const s = Store.open(db, { mode: 'read' });
  try {
    return new RecordView(new RecordReader(s)).latest();
  } finally {
    s.close();
  }
};

/** More samples of the same processes (same pids, start times and boot), with other values. */
function append(samples: number, seed: number): void {
  const r = generateRecord(db, { processes: 30, samples, intervalMs: INTERVAL, startMs: nextMs, seed });
  nextMs = r.lastMs + INTERVAL;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-latest-'));
  db = join(dir, 'gen.db');
  nextMs = Date.now() - 400 * INTERVAL;
  append(100, 1);
  store = Store.open(db, { mode: 'read' });
  view = new RecordView(new RecordReader(store));
});

afterAll(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('latest() of a long-lived view', () => {
  it('answers as a fresh view does, first and after a few new samples', () => {
    const first = view.latest();
    expect(first.length).toBeGreaterThanOrEqual(30);
    expect(first).toEqual(fresh());
    append(3, 2);
    const after = view.latest();
    expect(after).toEqual(fresh());
    // the values did move: the cached ones were replaced by the new rows
    const fds = (rows: typeof first): (number | undefined)[] => rows.map((r) => r.fds);
    expect(fds(after)).not.toEqual(fds(first));
  });

  it('answers as a fresh view does after rows moved on from the recent tier', () => {
    view.latest();
    append(150, 3);
    expect(view.latest()).toEqual(fresh());
    append(1, 4);
    expect(view.latest()).toEqual(fresh());
  });
});
