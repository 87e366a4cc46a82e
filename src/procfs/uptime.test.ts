import { uptime } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parseUptime, readUptime } from './uptime.js';

describe('parseUptime', () => {
  it('parses a real line (captured on this 2-CPU VM: idle exceeds uptime)', () => {
    expect(parseUptime('1040.15 1826.98\n')).toEqual({ uptimeSeconds: 1040.15, idleSeconds: 1826.98 });
  });

  it('rejects garbage and a missing field', () => {
    expect(() => parseUptime('1040.15\n')).toThrow(/bad idle time near "<missing>"/);
    expect(() => parseUptime('-3 2\n')).toThrow(ParseError);
    expect(() => parseUptime('')).toThrow(ParseError);
  });

  it('reads the live file', () => {
    const u = readUptime('/proc');
    expect(u.uptimeSeconds).toBeGreaterThan(0);
    expect(Math.abs(u.uptimeSeconds - uptime())).toBeLessThan(5);
  });
});
