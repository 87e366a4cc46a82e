import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../util/spawn.js';
import { ParseError } from '../util/errors.js';
import { listTasks, readTaskStat } from './pid-task.js';

// Per-thread stat lines in the shape captured on this VM (kernel 6.18); the thread names are Node's.
const MAIN =
  '5778 (node) S 5732 5778 1081 0 -1 4194304 103 0 0 0 40 9 0 0 20 0 3 0 74496 3133440 384 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n';
const WORKER = MAIN.replace(/^5778 \(node\)/, '5781 (V8Worker thr)').replace(' 40 9 ', ' 3 1 ');

describe('listTasks and readTaskStat on a captured tree', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pid-task-'));
    for (const [tid, text] of [
      ['5778', MAIN],
      ['5781', WORKER],
      ['5790', 'garbage'],
    ] as const) {
      mkdirSync(join(root, '5778', 'task', tid), { recursive: true });
      writeFileSync(join(root, '5778', 'task', tid, 'stat'), text);
    }
    mkdirSync(join(root, '5778', 'task', 'not-a-tid'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('lists numeric tids ascending', () => {
    expect(listTasks(root, 5778)).toEqual({ ok: true, value: [5778, 5781, 5790] });
    expect(listTasks(root, 1)).toEqual({ ok: false, failure: { kind: 'gone' } });
  });

  it('reads each thread with parsePidStat, and a broken one with its path', () => {
    const w = readTaskStat(root, 5778, 5781);
    expect(w.ok && w.value).toMatchObject({
      pid: 5781,
      comm: 'V8Worker thr',
      utimeTicks: 3,
      stimeTicks: 1,
      processor: 1,
    });
    expect(() => readTaskStat(root, 5778, 5790)).toThrow(ParseError);
    expect(() => readTaskStat(root, 5778, 5790)).toThrow(/task\/5790\/stat/);
    expect(readTaskStat(root, 5778, 5799)).toEqual({ ok: false, failure: { kind: 'gone' } });
  });
});

describe('listTasks (live)', () => {
  it('lists the threads ps lists for this process', async () => {
    const ps = await run(['ps', '-L', '-o', 'lwp=', '-p', String(process.pid)], { timeoutMs: 10_000 });
    const r = listTasks('/proc', process.pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    const theirs = ps.stdout.trim().split('\n').map(Number);
    // Node's thread pool is fixed once started; allow for one thread coming or going between the reads
    expect(r.value).toContain(process.pid);
    expect(Math.abs(r.value.length - theirs.length)).toBeLessThanOrEqual(1);
    expect(r.value.filter((t) => theirs.includes(t)).length).toBeGreaterThanOrEqual(
      Math.min(r.value.length, theirs.length) - 1,
    );
    const main = readTaskStat('/proc', process.pid, process.pid);
    expect(main.ok && main.value.pid).toBe(process.pid);
    expect(main.ok && main.value.threads).toBeGreaterThanOrEqual(r.value.length - 1);
  });
});
