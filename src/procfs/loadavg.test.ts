import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError, ProcsleuthError } from '../util/errors.js';
import { parseLoadavg, readLoadavg } from './loadavg.js';

// Captured on this VM (kernel 6.18).
const REAL = '0.01 0.21 0.18 1/93 7735\n';

describe('parseLoadavg', () => {
  it('parses a real line', () => {
    expect(parseLoadavg(REAL)).toEqual({
      load1: 0.01,
      load5: 0.21,
      load15: 0.18,
      runningTasks: 1,
      totalTasks: 93,
      lastPid: 7735,
    });
  });

  it('takes big loads and pid counts', () => {
    expect(parseLoadavg('1234.56 99.00 7.10 512/40000 4194303\n')).toMatchObject({
      load1: 1234.56,
      totalTasks: 40000,
      lastPid: 4194303,
    });
  });

  it('rejects truncated and garbled text', () => {
    expect(() => parseLoadavg('0.01 0.21 0.18 1/93')).toThrow(ParseError);
    expect(() => parseLoadavg('0.01 0.21 0.18 193 7735')).toThrow(/bad running\/total near "193"/);
    expect(() => parseLoadavg('0.01 x 0.18 1/93 7735')).toThrow(/bad load field 2/);
    expect(() => parseLoadavg('')).toThrow(ParseError);
  });

  it('reads the live file, and names a missing one', () => {
    const l = readLoadavg('/proc');
    expect(l.totalTasks).toBeGreaterThanOrEqual(l.runningTasks);
    expect(l.runningTasks).toBeGreaterThanOrEqual(1); // the reader itself
    const root = mkdtempSync(join(tmpdir(), 'procsleuth-loadavg-'));
    try {
      expect(() => readLoadavg(root)).toThrow(ProcsleuthError);
      writeFileSync(join(root, 'loadavg'), 'junk\n');
      expect(() => readLoadavg(root)).toThrow(new RegExp(`^${root}/loadavg:line 1: `));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
