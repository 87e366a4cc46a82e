/**
 * membersOf: the processes a report draws for a suspect are those the leak scan summed. For a tree
 * over a window, that is the root and the descendants linked to it through processes alive in the
 * window: a grandchild whose parent exited before the window was not in the judged sum.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordReader, RecordWriter, Store, type ProcessSampleInput } from '../../src/store/index.js';
import { membersOf } from '../../src/report/html/suspects.js';
import { processInput } from '../helpers/sample-input.js';

const BOOT = '5e1f0d2c-3b4a-4c5d-8e6f-7a8b9c0d1e2f';
const T0 = Date.now() - 3_600_000;
let dir: string;
let store: Store;
let reader: RecordReader;

const proc = (pid: number, ppid: number): ProcessSampleInput =>
  processInput(pid, { ppid, startTimeTicks: pid * 10, rssBytes: 1 << 20 });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-members-'));
  const db = join(dir, 'r.db');
  const w = Store.open(db, { mode: 'write', check: false });
  const writer = new RecordWriter(w, {
    pid: 1,
    hostname: 'h',
    version: '0',
    intervalMs: 1000,
    startedMs: T0,
  });
  for (let i = 0; i < 10; i++) {
    // root 100; child 101 until sample 4; its child 102 from sample 2; child 103 throughout
    const ps = [proc(100, 1), proc(103, 100)];
    if (i <= 4) ps.push(proc(101, 100));
    if (i >= 2) ps.push(proc(102, 101));
    writer.append({ tMs: T0 + i * 1000, bootId: BOOT, host: { mem_total_kib: 1 << 20 }, processes: ps });
  }
  w.close();
  store = Store.open(db, { mode: 'read' });
  reader = new RecordReader(store);
});

afterAll(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('membersOf a tree', () => {
  it('is every recorded descendant without a window, and only those linked through the window with one', () => {
    const root = reader.processesByPid(100)[0]!;
    const e = { kind: 'tree' as const, key: `t:${root.id}`, label: 'p100 and descendants' };
    const pids = (rows: { pid: number }[]): number[] => rows.map((p) => p.pid).sort();
    expect(pids(membersOf(reader, e))).toEqual([100, 101, 102, 103]);
    expect(pids(membersOf(reader, e, reader.timeline()))).toEqual([100, 101, 102, 103]);
    // from sample 6 on, 101 is gone: 102 is no longer linked to the root
    expect(pids(membersOf(reader, e, reader.timeline(T0 + 6000)))).toEqual([100, 103]);
  });
});
