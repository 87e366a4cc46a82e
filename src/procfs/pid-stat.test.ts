import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { emptyStatFields, parsePidStat, parseStatBytes } from './pid-stat.js';

// Captured on a Debian 12 VM, kernel 6.18.
const CAT =
  '5778 (cat) R 5732 5732 1081 0 -1 4194304 103 0 0 0 0 0 0 0 20 0 1 0 74496 3133440 384 18446744073709551615 94772463128576 94772463148457 140735135060352 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94772463164464 94772463166080 94772786327552 140735135066841 140735135066861 140735135066861 140735135068139 0\n';

describe('parsePidStat', () => {
  it('parses a real line', () => {
    const s = parsePidStat(CAT);
    expect(s).toMatchObject({
      pid: 5778,
      comm: 'cat',
      state: 'R',
      ppid: 5732,
      threads: 1,
      startTimeTicks: 74496,
    });
    expect(s.vszBytes).toBe(3133440);
    expect(s.rssPages).toBe(384);
    expect(s.processor).toBe(0);
  });

  it('keeps parentheses and spaces in comm', () => {
    const s = parsePidStat(CAT.replace('(cat)', '((bash) x)'));
    expect(s.comm).toBe('(bash) x');
    expect(s.ppid).toBe(5732);
  });

  it('keeps a comm that looks like more fields', () => {
    const s = parsePidStat(CAT.replace('(cat)', '(a) R 1 2 3 (b)'));
    expect(s.comm).toBe('a) R 1 2 3 (b');
    expect(s.state).toBe('R');
  });

  it('accepts an old kernel without the late fields', () => {
    const short = CAT.split(' ').slice(0, 30).join(' ');
    expect(parsePidStat(short).processor).toBeUndefined();
  });

  it('rejects truncated and garbled lines with the token', () => {
    expect(() => parsePidStat('5778 (cat) R 5732')).toThrow(ParseError);
    expect(() => parsePidStat(CAT.replace(' 74496 ', ' 7x496 '))).toThrow(/bad field 22 near "7x496"/);
    expect(() => parsePidStat('garbage')).toThrow(/no "\(comm\)"/);
  });
});

describe('parseStatBytes (the sweep fast path, same scanner)', () => {
  const parse = (s: string, out = emptyStatFields()): boolean => {
    const b = Buffer.from(s);
    return parseStatBytes(b, b.length, out);
  };

  it('gives the fields parsePidStat gives', () => {
    const out = emptyStatFields();
    expect(parse(CAT.replace('(cat)', '((bash) x)'), out)).toBe(true);
    const ref = parsePidStat(CAT.replace('(cat)', '((bash) x)'));
    expect(out).toEqual({
      comm: ref.comm,
      state: ref.state.charCodeAt(0),
      ppid: ref.ppid,
      flags: ref.flags,
      minorFaults: ref.minorFaults,
      majorFaults: ref.majorFaults,
      utimeTicks: ref.utimeTicks,
      stimeTicks: ref.stimeTicks,
      threads: ref.threads,
      startTimeTicks: ref.startTimeTicks,
      vszBytes: ref.vszBytes,
      rssPages: ref.rssPages,
    });
  });

  it('rejects what parsePidStat rejects', () => {
    for (const bad of ['5778 (cat) R 5732', CAT.replace(' 74496 ', ' 7x496 '), 'garbage', '', '1 (x) ? 2'])
      expect(parse(bad)).toBe(false);
    expect(() => parsePidStat('1 (x) ? 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22')).toThrow(
      /bad state/,
    );
  });
});
