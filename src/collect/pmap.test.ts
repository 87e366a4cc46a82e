import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startScenario, stopAllScenarios } from '../../test/helpers/scenarios.js';
import { run } from '../util/spawn.js';
import { parsePidMaps, readPidMaps, type Mapping } from '../procfs/pid-maps.js';
import { parsePidSmaps, readPidSmaps } from '../procfs/pid-smaps.js';
import { pmapExtendedTotals, pmapTotals } from './pmap.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/captured');
const kib = (b: number | undefined): number | undefined => (b === undefined ? undefined : b / 1024);

/** The footers of `pmap -x` and `pmap -d`, in kB as printed. */
function pmapFooters(
  x: string,
  d: string,
): { mapped: number; rss: number; dirty: number; dMapped: number; writeablePrivate: number; shared: number } {
  const tx = /^total kB\s+(\d+)\s+(\d+)\s+(\d+)\s*$/m.exec(x);
  const td = /^mapped: (\d+)K\s+writeable\/private: (\d+)K\s+shared: (\d+)K$/m.exec(d);
  if (!tx || !td) throw new Error(`unexpected pmap output:\n${x}\n${d}`);
  return {
    mapped: Number(tx[1]),
    rss: Number(tx[2]),
    dirty: Number(tx[3]),
    dMapped: Number(td[1]),
    writeablePrivate: Number(td[2]),
    shared: Number(td[3]),
  };
}

describe('pmapTotals', () => {
  it('matches the `pmap -d` footer captured with the maps of a process with 1,029 mappings', () => {
    // captured together: `mapped: 12892K    writeable/private: 2612K    shared: 6156K`
    const t = pmapTotals(parsePidMaps(readFileSync(`${FIX}/pid-many-maps.txt`, 'utf8')));
    expect([kib(t.mappedBytes), kib(t.writeablePrivateBytes), kib(t.sharedBytes)]).toEqual([
      12892, 2612, 6156,
    ]);
    expect(t.mappedBytes).toBe(t.sharedBytes + t.writeablePrivateBytes + t.readonlyPrivateBytes);
  });

  it('matches `pmap -x` and `pmap -d` captured with the smaps of a process holding shared memory', () => {
    // captured together: `total kB 8932 4584 3228` and `mapped: 8932K writeable/private: 632K shared: 6156K`
    const smaps = parsePidSmaps(readFileSync(`${FIX}/pid-shm-smaps.txt`, 'utf8'));
    const x = pmapExtendedTotals(smaps);
    expect([kib(x.mappedBytes), kib(x.rssBytes), kib(x.dirtyBytes)]).toEqual([8932, 4584, 3228]);
    const d = pmapTotals(smaps);
    expect([kib(d.mappedBytes), kib(d.writeablePrivateBytes), kib(d.sharedBytes)]).toEqual([8932, 632, 6156]);
  });

  it('follows pmap.c on the edge cases', () => {
    const m = (perms: string, kb: number): Pick<Mapping, 'start' | 'end' | 'perms'> => ({
      start: 0x1000,
      end: 0x1000 + kb * 1024,
      perms,
    });
    const t = pmapTotals([
      m('rw-p', 8),
      m('r--p', 4),
      m('---p', 16),
      m('r--s', 4),
      m('rw-s', 4),
      m('--xp', 4),
    ]);
    // PROT_NONE guard pages are private read-only address space and count as mapped
    expect(t).toEqual({
      mappedBytes: 40 * 1024,
      writeablePrivateBytes: 8 * 1024,
      readonlyPrivateBytes: 24 * 1024,
      sharedBytes: 8 * 1024,
    });
    // a perms column neither p nor s is counted nowhere (pmap checks perms[3] for exactly these two)
    expect(pmapTotals([m('rw-x', 4)]).mappedBytes).toBe(0);
    expect(pmapTotals([])).toEqual({
      mappedBytes: 0,
      writeablePrivateBytes: 0,
      readonlyPrivateBytes: 0,
      sharedBytes: 0,
    });
  });

  it('leaves RSS unknown when a mapping has no Rss line', () => {
    const smaps = parsePidSmaps(
      '1000-2000 rw-p 00000000 00:00 0\nSize: 4 kB\nShared_Dirty: 0 kB\nPrivate_Dirty: 4 kB\n',
    );
    expect(pmapExtendedTotals(smaps)).toEqual({ mappedBytes: 4096, rssBytes: undefined, dirtyBytes: 4096 });
  });
});

describe('pmap totals against the real pmap (live)', () => {
  afterAll(stopAllScenarios);

  it('agrees with `pmap -x` and `pmap -d` on a process with shared anonymous and SysV memory', async () => {
    const s = await startScenario('shm-map', ['--mib', '16', '--sysv-mib', '4']);
    const pid = s.pid;
    // pmap first, then our reads, then pmap again: the process is idle, so both pmap runs must agree
    const x1 = await run(['pmap', '-x', String(pid)], { timeoutMs: 10_000 });
    const d1 = await run(['pmap', '-d', String(pid)], { timeoutMs: 10_000 });
    const maps = readPidMaps('/proc', pid);
    const smaps = readPidSmaps('/proc', pid);
    const x2 = await run(['pmap', '-x', String(pid)], { timeoutMs: 10_000 });
    const want = pmapFooters(x1.stdout, d1.stdout);
    expect(pmapFooters(x2.stdout, d1.stdout)).toEqual(want);
    if (!maps.ok || !smaps.ok) throw new Error('read failed');

    const d = pmapTotals(maps.value);
    expect({
      mapped: kib(d.mappedBytes),
      writeablePrivate: kib(d.writeablePrivateBytes),
      shared: kib(d.sharedBytes),
    }).toEqual({
      mapped: want.dMapped,
      writeablePrivate: want.writeablePrivate,
      shared: want.shared,
    });
    const x = pmapExtendedTotals(smaps.value);
    expect({ mapped: kib(x.mappedBytes), rss: kib(x.rssBytes), dirty: kib(x.dirtyBytes) }).toEqual({
      mapped: want.mapped,
      rss: want.rss,
      dirty: want.dirty,
    });
    // the 16 MiB shared anonymous map and the 4 MiB SysV segment are "shared", and resident
    expect(want.shared).toBeGreaterThanOrEqual(20 * 1024);
    expect(want.rss).toBeGreaterThanOrEqual(20 * 1024);
  });
});
