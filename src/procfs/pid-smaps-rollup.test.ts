import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { run } from '../util/spawn.js';
import { parsePidSmapsRollup, readPidSmapsRollup } from './pid-smaps-rollup.js';

// Captured on this VM (kernel 6.18) from the same process as test/fixtures/captured/pid-shm-smaps.txt.
const ROLLUP = `565230cd9000-7fffb6940000 ---p 00000000 00:00 0                          [rollup]
Rss:                4584 kB
Pss:                3275 kB
Pss_Dirty:          3228 kB
Pss_Anon:            148 kB
Pss_File:             51 kB
Pss_Shmem:          3076 kB
Shared_Clean:       1344 kB
Shared_Dirty:          0 kB
Private_Clean:        12 kB
Private_Dirty:      3228 kB
Referenced:         4584 kB
Anonymous:           148 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
`;

describe('parsePidSmapsRollup', () => {
  it('parses a real rollup into bytes with USS', () => {
    const r = parsePidSmapsRollup(ROLLUP);
    expect(r).toEqual({
      rssBytes: 4584 * 1024,
      pssBytes: 3275 * 1024,
      pssDirtyBytes: 3228 * 1024,
      pssAnonBytes: 148 * 1024,
      pssFileBytes: 51 * 1024,
      pssShmemBytes: 3076 * 1024,
      sharedCleanBytes: 1344 * 1024,
      sharedDirtyBytes: 0,
      privateCleanBytes: 12 * 1024,
      privateDirtyBytes: 3228 * 1024,
      referencedBytes: 4584 * 1024,
      anonymousBytes: 148 * 1024,
      swapBytes: 0,
      swapPssBytes: 0,
      lockedBytes: 0,
      ussBytes: 3240 * 1024,
    });
  });

  it('leaves lines of newer kernels undefined on an old one, and USS unknown without both privates', () => {
    const old = ROLLUP.split('\n')
      .filter((l) => !/^(Pss_|Private_Dirty)/.test(l))
      .join('\n');
    const r = parsePidSmapsRollup(old);
    expect(r.pssAnonBytes).toBeUndefined();
    expect(r.pssDirtyBytes).toBeUndefined();
    expect(r.privateCleanBytes).toBe(12 * 1024);
    expect(r.ussBytes).toBeUndefined();
    expect(parsePidSmapsRollup('').rssBytes).toBeUndefined();
  });

  it('rejects garbage with the line and token', () => {
    expect(() =>
      parsePidSmapsRollup(ROLLUP.replace('Pss:                3275 kB', 'Pss:                32x5 kB')),
    ).toThrow(/line 3: bad number near "32x5 kB"/);
    expect(() => parsePidSmapsRollup(ROLLUP.replace('Rss:', 'Rss'))).toThrow(ParseError);
    expect(() => parsePidSmapsRollup(`${ROLLUP}what is this\n`)).toThrow(/unexpected line/);
  });
});

describe('readPidSmapsRollup (live)', () => {
  let child: ChildProcess;
  beforeAll(async () => {
    child = spawn('sleep', ['300'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('has the RSS that pmap -x sums and ps reports', async () => {
    const pid = child.pid as number;
    const r = readPidSmapsRollup('/proc', pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    // pmap -x walks the page tables like smaps_rollup: exact on an idle process
    const pmap = await run(['pmap', '-x', String(pid)], { timeoutMs: 10_000 });
    expect(r.value.rssBytes).toBe(Number(/^total kB\s+\d+\s+(\d+)/m.exec(pmap.stdout)?.[1]) * 1024);
    // ps reads the mm counters, which are per-CPU and approximate since 6.2: close, not equal
    const ps = await run(['ps', '-o', 'rss=', '-p', String(pid)], { timeoutMs: 10_000 });
    expect(Math.abs((r.value.rssBytes as number) / 1024 - Number(ps.stdout.trim()))).toBeLessThan(256);
    expect(r.value.ussBytes).toBeGreaterThan(0);
    expect(r.value.pssBytes).toBeLessThanOrEqual(r.value.rssBytes as number);
  });

  it('reports our own process with plausible numbers', () => {
    const r = readPidSmapsRollup('/proc', process.pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    // node's heap alone is tens of MB of private anonymous memory
    expect(r.value.anonymousBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(r.value.ussBytes).toBeGreaterThan(10 * 1024 * 1024);
  });
});
