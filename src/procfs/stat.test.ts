import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parseStat, readStat } from './stat.js';

// Captured on this 2-CPU VM (kernel 6.18); the intr line shortened.
const REAL = `cpu  17334 0 5509 182698 708 0 182 1534 0 0
cpu0 5987 0 2349 94725 164 0 15 801 0 0
cpu1 11346 0 3160 87973 544 0 166 733 0 0
intr 282402 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 15 0 0 0 0 207 78 0 29 1 62893 0 5360
ctxt 650559
btime 1795737345
processes 7738
procs_running 1
procs_blocked 0
softirq 173723 0 21320 6 9191 62884 0 4 42110 0 38208
`;

describe('parseStat', () => {
  it('parses real text', () => {
    const s = parseStat(REAL);
    expect(s.cpu).toEqual({
      userTicks: 17334,
      niceTicks: 0,
      systemTicks: 5509,
      idleTicks: 182698,
      iowaitTicks: 708,
      irqTicks: 0,
      softirqTicks: 182,
      stealTicks: 1534,
      guestTicks: 0,
      guestNiceTicks: 0,
    });
    expect(s.cpus.map((c) => c.cpu)).toEqual([0, 1]);
    expect(s.cpus[1]).toMatchObject({ userTicks: 11346, stealTicks: 733 });
    expect(s).toMatchObject({
      contextSwitches: 650559,
      bootTimeEpochSeconds: 1795737345,
      forksSinceBoot: 7738,
      procsRunning: 1,
      procsBlocked: 0,
      interruptsTotal: 282402,
      softirqsTotal: 173723,
    });
  });

  it('leaves columns an old kernel did not print undefined, and keeps gaps of offline CPUs', () => {
    const old = parseStat('cpu  1 2 3 4 5\ncpu0 1 2 3 4 5\ncpu3 1 1 1 1\n');
    expect(old.cpu).toMatchObject({
      iowaitTicks: 5,
      irqTicks: undefined,
      stealTicks: undefined,
      guestNiceTicks: undefined,
    });
    expect(old.cpus.map((c) => c.cpu)).toEqual([0, 3]);
    expect(old.cpus[1]?.iowaitTicks).toBeUndefined();
    expect(old.contextSwitches).toBeUndefined();
  });

  it('rejects garbage, truncation and numbers past 2^53', () => {
    expect(() => parseStat('')).toThrow(/no "cpu" line/);
    expect(() => parseStat('cpu  1 2 3\n')).toThrow(/cpu has 3 columns/);
    expect(() => parseStat('cpu  1 2 x 4\n')).toThrow(/bad cpu value near "x"/);
    expect(() => parseStat(REAL.replace('ctxt 650559', 'ctxt 99999999999999999999'))).toThrow(
      /line 5: ctxt value too large/,
    );
    expect(() => parseStat(REAL.replace('btime 1795737345', 'btime'))).toThrow(ParseError);
  });

  it('reads the live file with a line per online CPU', () => {
    const s = readStat('/proc');
    expect(s.cpus.length).toBe(cpus().length);
    expect(s.cpu.stealTicks).toBeDefined();
    expect(s.bootTimeEpochSeconds).toBeLessThan(Date.now() / 1000);
  });
});
