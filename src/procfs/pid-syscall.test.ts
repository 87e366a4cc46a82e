import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { argAsFd, parsePidSyscall } from './pid-syscall.js';

// Captured on this VM (kernel 6.18): a bash waiting in pselect6 (270), a busy reader, a thread
// asleep outside a syscall.
const BASH = '270 0xfb 0x7ffcc0309fe0 0x0 0x0 0x7ffcc0309ef0 0x7ffcc0309f00 0x7ffcc0309ec0 0x7fd3c3025aec\n';

describe('parsePidSyscall', () => {
  it('parses a thread asleep in a syscall', () => {
    const s = parsePidSyscall(BASH);
    expect(s.state).toBe('syscall');
    if (s.state !== 'syscall') return;
    expect(s.nr).toBe(270);
    expect(s.args[0]).toBe(0xfbn);
    expect(s.args[1]).toBe(0x7ffcc0309fe0n);
    expect(s.pcAddr).toBe(0x7fd3c3025aecn);
  });

  it('reads "running" (what a busy non-blocking loop always shows)', () => {
    expect(parsePidSyscall('running\n')).toEqual({ state: 'running' });
  });

  it('parses -1 (asleep outside a syscall)', () => {
    expect(parsePidSyscall('-1 0x7ffcc0309ec0 0x7fd3c3025aec\n')).toEqual({
      state: 'blocked',
      spAddr: 0x7ffcc0309ec0n,
      pcAddr: 0x7fd3c3025aecn,
    });
  });

  it('keeps 64-bit arguments exact', () => {
    const s = parsePidSyscall(BASH.replace('0xfb', '0xffffffffffffff9c'));
    expect(s.state === 'syscall' && s.args[0]).toBe(0xffffffffffffff9cn);
    // AT_FDCWD (-100) is not an fd; 11 in a register with junk above bit 31 still is.
    expect(argAsFd(0xffffffffffffff9cn)).toBeUndefined();
    expect(argAsFd(0xbn)).toBe(11);
    expect(argAsFd(0x1_0000_000bn)).toBe(11);
  });

  it('rejects truncated and garbled lines with the token', () => {
    expect(() => parsePidSyscall('')).toThrow(ParseError);
    expect(() => parsePidSyscall('270 0xfb 0x7ffcc0309fe0')).toThrow(/has 3 fields, need 9/);
    expect(() => parsePidSyscall('-1 0x7ffcc0309ec0')).toThrow(/need 3/);
    expect(() => parsePidSyscall(BASH.replace('0xfb', 'zz'))).toThrow(/bad hex value near "zz"/);
    expect(() => parsePidSyscall(BASH.replace('0xfb', '0x1ffffffffffffffff'))).toThrow(/bad hex/);
    expect(() => parsePidSyscall('-7 0x1 0x2')).toThrow(/negative/);
    expect(() => parsePidSyscall('sleeping')).toThrow(/bad syscall number near "sleeping"/);
  });
});
