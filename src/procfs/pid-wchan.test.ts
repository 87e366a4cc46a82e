import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parsePidWchan } from './pid-wchan.js';

describe('parsePidWchan', () => {
  it('returns the symbol a sleeping thread waits in (captured: bash in pselect6)', () => {
    expect(parsePidWchan('poll_schedule_timeout.constprop.0')).toBe('poll_schedule_timeout.constprop.0');
    expect(parsePidWchan('do_epoll_wait\n')).toBe('do_epoll_wait');
  });

  it('maps "0" (running, or unresolvable) to undefined', () => {
    expect(parsePidWchan('0')).toBeUndefined();
    expect(parsePidWchan('')).toBeUndefined();
  });

  it('rejects garbage', () => {
    expect(() => parsePidWchan('foo bar')).toThrow(ParseError);
    expect(() => parsePidWchan('ffffffff81000000 x')).toThrow(/bad wchan symbol/);
    expect(() => parsePidWchan('a'.repeat(300))).toThrow(ParseError);
  });
});
