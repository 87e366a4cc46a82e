import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { run } from '../util/spawn.js';
import { parsePidStatm, readPidStatm } from './pid-statm.js';
import { readPidStatus } from './pid-status.js';

// Captured on this VM (kernel 6.18), the process of test/fixtures/captured/pid-shm-smaps.txt, whose
// status said VmSize 8928 kB, VmRSS 4584 kB, RssFile 1360 kB + RssShmem 3076 kB.
const ZOO = '2232 1146 1109 1 0 158 0\n';

describe('parsePidStatm', () => {
  it('parses a real line into page counts', () => {
    expect(parsePidStatm(ZOO)).toEqual({
      sizePages: 2232,
      residentPages: 1146,
      sharedPages: 1109,
      textPages: 1,
      libPages: 0,
      dataPages: 158,
      dtPages: 0,
    });
    const s = parsePidStatm(ZOO);
    // same process, same moment: statm × 4 KiB pages = status
    expect(s.sizePages * 4).toBe(8928);
    expect(s.residentPages * 4).toBe(4584);
    expect(s.sharedPages * 4).toBe(1360 + 3076);
  });

  it('accepts a kernel thread and huge counts', () => {
    expect(parsePidStatm('0 0 0 0 0 0 0\n').residentPages).toBe(0);
    expect(parsePidStatm('4503599627370496 1 1 1 0 1 0').sizePages).toBe(2 ** 52);
  });

  it('rejects garbage with the token', () => {
    expect(() => parsePidStatm('2232 1146 1109')).toThrow(/statm has 3 fields, need 7/);
    expect(() => parsePidStatm('')).toThrow(/statm has 0 fields/);
    expect(() => parsePidStatm('2232 1146 11x9 1 0 158 0')).toThrow(/bad page count near "11x9"/);
    expect(() => parsePidStatm('2232 -1 1109 1 0 158 0')).toThrow(ParseError);
  });
});

describe('readPidStatm (live)', () => {
  let child: ChildProcess;
  beforeAll(async () => {
    child = spawn('sleep', ['300'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(() => {
    child.kill('SIGKILL');
  });

  it('times the page size equals what ps reports', async () => {
    const pid = child.pid as number;
    const r = readPidStatm('/proc', pid);
    if (!r.ok) throw new Error(`read failed: ${r.failure.kind}`);
    const page = Number((await run(['getconf', 'PAGESIZE'], { timeoutMs: 5000 })).stdout.trim());
    const ps = await run(['ps', '-o', 'rss=,vsz=', '-p', String(pid)], { timeoutMs: 10_000 });
    const [rss, vsz] = ps.stdout.trim().split(/\s+/).map(Number);
    expect((r.value.residentPages * page) / 1024).toBe(rss);
    expect((r.value.sizePages * page) / 1024).toBe(vsz);
  });

  it('agrees with status for our own process', () => {
    const m = readPidStatm('/proc', process.pid);
    const s = readPidStatus('/proc', process.pid);
    if (!m.ok || !s.ok) throw new Error('read failed');
    expect(m.value.sizePages * 4096).toBeGreaterThan(0);
    // VmSize moves only when Node maps or unmaps something: within 64 MiB between two reads
    expect(Math.abs(m.value.sizePages * 4096 - (s.value.vmSizeBytes as number))).toBeLessThan(
      64 * 1024 * 1024,
    );
  });
});
