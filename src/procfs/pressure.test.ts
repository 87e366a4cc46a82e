import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parsePressure, readPressure } from './pressure.js';

// Captured on this VM (kernel 6.18); /proc/pressure/irq does not exist here (no IRQ time accounting).
const CPU =
  'some avg10=0.00 avg60=0.05 avg300=1.37 total=25171279\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
const IO =
  'some avg10=0.00 avg60=0.01 avg300=0.26 total=5143946\nfull avg10=0.00 avg60=0.01 avg300=0.20 total=4238721\n';

describe('parsePressure', () => {
  it('parses real text', () => {
    expect(parsePressure(CPU)).toEqual({
      some: { avg10Pct: 0, avg60Pct: 0.05, avg300Pct: 1.37, totalUs: 25171279 },
      full: { avg10Pct: 0, avg60Pct: 0, avg300Pct: 0, totalUs: 0 },
    });
    expect(parsePressure(IO).full?.totalUs).toBe(4238721);
  });

  it('takes cpu without full (before 5.13) and irq with only full', () => {
    expect(parsePressure(CPU.split('\n')[0] ?? '').full).toBeUndefined();
    expect(parsePressure('full avg10=12.50 avg60=3.00 avg300=1.00 total=99\n').some).toBeUndefined();
  });

  it('rejects garbage and truncated lines', () => {
    expect(() => parsePressure('')).toThrow(/no some\/full line/);
    expect(() => parsePressure('some avg10=0.00 avg60=0.05\n')).toThrow(/line 1/);
    expect(() => parsePressure(CPU.replace('total=0', 'total=-1'))).toThrow(/line 2/);
    expect(() => parsePressure(CPU.replace('total=0', 'total=99999999999999999999'))).toThrow(ParseError);
  });
});

describe('readPressure', () => {
  it('reads the live files, absent ones undefined', () => {
    const p = readPressure('/proc');
    expect(p.cpu?.some?.totalUs).toBeGreaterThanOrEqual(0);
    expect(p.memory?.full).toBeDefined();
    expect(p.io).toBeDefined();
    expect(p.irq === undefined).toBe(!existsSync('/proc/pressure/irq'));
  });

  it('is all-undefined without /proc/pressure, and names a broken file', () => {
    const root = mkdtempSync(join(tmpdir(), 'procsleuth-psi-'));
    try {
      expect(readPressure(root)).toEqual({
        cpu: undefined,
        memory: undefined,
        io: undefined,
        irq: undefined,
      });
      mkdirSync(join(root, 'pressure'));
      writeFileSync(join(root, 'pressure/memory'), 'some avg10=zero\n');
      expect(() => readPressure(root)).toThrow(new RegExp(`^${root}/pressure/memory:line 1: `));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
