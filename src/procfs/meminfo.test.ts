import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parseMeminfo, readMeminfo } from './meminfo.js';

// Captured on this VM (kernel 6.18), abridged.
const REAL = `MemTotal:       24684092 kB
MemFree:        24415724 kB
MemAvailable:   24366416 kB
Buffers:             892 kB
Cached:            76052 kB
SwapCached:            0 kB
Active(anon):       1548 kB
SwapTotal:             0 kB
SwapFree:              0 kB
AnonPages:         15096 kB
Shmem:              8856 kB
CommitLimit:    12342044 kB
Committed_AS:      67488 kB
VmallocTotal:   34359738367 kB
HugePages_Total:       0
HugePages_Free:        0
Hugepagesize:       2048 kB
DirectMap1G:    25165824 kB
`;

describe('parseMeminfo', () => {
  it('turns kB into bytes and keeps counts as counts', () => {
    const m = parseMeminfo(REAL);
    expect(m.memTotalBytes).toBe(24684092 * 1024);
    expect(m.memAvailableBytes).toBe(24366416 * 1024);
    expect(m).toMatchObject({
      memFreeBytes: 24415724 * 1024,
      buffersBytes: 892 * 1024,
      cachedBytes: 76052 * 1024,
      swapTotalBytes: 0,
      swapFreeBytes: 0,
      shmemBytes: 8856 * 1024,
      anonPagesBytes: 15096 * 1024,
      committedAsBytes: 67488 * 1024,
      commitLimitBytes: 12342044 * 1024,
    });
    expect(m.values['Active(anon)']).toBe(1548 * 1024);
    expect(m.values['VmallocTotal']).toBe(34359738367 * 1024);
    expect(m.values['HugePages_Total']).toBe(0);
    expect(m.values['Hugepagesize']).toBe(2 * 1024 * 1024);
    expect(m.unitless).toEqual(['HugePages_Total', 'HugePages_Free']);
  });

  it('leaves keys an old kernel lacks undefined', () => {
    const old = parseMeminfo('MemTotal:  1000 kB\nMemFree:  500 kB\n');
    expect(old.memAvailableBytes).toBeUndefined();
    expect(old.values['MemAvailable']).toBeUndefined();
  });

  it('is not fooled by a key named like an Object property', () => {
    const m = parseMeminfo('__proto__:  1 kB\nconstructor:  2 kB\n');
    expect(m.values['__proto__']).toBe(1024);
    expect(Object.getPrototypeOf(m.values)).toBe(Object.prototype);
    expect(m.memTotalBytes).toBeUndefined();
  });

  it('rejects garbage, truncation and overflow', () => {
    expect(() => parseMeminfo('')).toThrow(/no entries/);
    expect(() => parseMeminfo('MemTotal:\n')).toThrow(/line 1: expected "Key: value \[kB\]"/);
    expect(() => parseMeminfo('MemTotal: 12 MB\n')).toThrow(ParseError);
    expect(() => parseMeminfo('MemTotal: 99999999999999999 kB\n')).toThrow(/MemTotal too large/);
  });

  it('reads the live file, agreeing with os.totalmem()', () => {
    expect(readMeminfo('/proc').memTotalBytes).toBe(totalmem());
  });
});
