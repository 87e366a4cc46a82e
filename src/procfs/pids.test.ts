import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProcsleuthError } from '../util/errors.js';
import { run } from '../util/spawn.js';
import { listPids, pidsFromNames } from './pids.js';

describe('pidsFromNames', () => {
  it('keeps numeric names only, ascending', () => {
    // names as /proc lists them on this VM, with the non-pid entries around them
    const names = [
      '1',
      '2',
      '10',
      'self',
      'thread-self',
      'meminfo',
      'sys',
      '1081',
      '',
      '0',
      '01',
      '12a',
      '4194304',
      'acpi',
    ];
    expect(pidsFromNames(names)).toEqual([1, 2, 10, 1081, 4194304]);
  });
});

describe('listPids', () => {
  it('reads a captured tree and fails loudly on a missing root', () => {
    const root = mkdtempSync(join(tmpdir(), 'pids-'));
    try {
      for (const d of ['300', '7', 'self', 'net']) mkdirSync(join(root, d));
      writeFileSync(join(root, 'uptime'), '1 1\n');
      expect(listPids(root)).toEqual([7, 300]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(() => listPids(join(root, 'gone'))).toThrow(ProcsleuthError);
  });

  it('finds what ps finds on this machine', async () => {
    const ps = await run(['ps', '-e', '-o', 'pid='], { timeoutMs: 10_000 });
    const mine = listPids('/proc');
    const theirs = ps.stdout.trim().split('\n').map(Number);
    expect(mine).toContain(process.pid);
    expect(mine).toContain(1);
    // processes come and go between the two reads: nearly all in common
    const common = theirs.filter((p) => new Set(mine).has(p)).length;
    expect(common).toBeGreaterThan(theirs.length * 0.9);
    const t0 = performance.now();
    listPids('/proc');
    expect(performance.now() - t0).toBeLessThan(200);
  });
});
