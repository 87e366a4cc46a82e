import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parseFileMax, parseFileNr, parseNrOpen, readFileMax, readFileNr, readNrOpen } from './sys-fs.js';

// Captured on this VM (kernel 6.18): file-nr is tab-separated.
describe('/proc/sys/fs', () => {
  it('parses real file-nr, file-max and nr_open', () => {
    expect(parseFileNr('513\t0\t2466186\n')).toEqual({ allocated: 513, free: 0, max: 2466186 });
    expect(parseFileMax('2466186\n')).toBe(2466186);
    expect(parseNrOpen('1048576\n')).toBe(1048576);
  });

  it("reads LONG_MAX (systemd's default file-max) as unlimited", () => {
    expect(parseFileMax('9223372036854775807\n')).toBe('unlimited');
    expect(parseFileNr('1024\t0\t9223372036854775807\n').max).toBe('unlimited');
  });

  it('rejects garbage, truncation and other numbers past 2^53', () => {
    expect(() => parseFileNr('513\t0\n')).toThrow(/file-nr: expected 3/);
    expect(() => parseFileNr('513\tx\t10\n')).toThrow(/bad free near "x"/);
    expect(() => parseFileNr('9223372036854775807\t0\t10\n')).toThrow(/allocated too large/);
    expect(() => parseFileMax('18446744073709551615\n')).toThrow(/file-max too large/);
    expect(() => parseFileMax('')).toThrow(ParseError);
    expect(() => parseNrOpen('-1\n')).toThrow(ParseError);
  });

  it('reads the live files', () => {
    const nr = readFileNr('/proc');
    expect(nr.allocated).toBeGreaterThan(0);
    expect(nr.max).toEqual(readFileMax('/proc'));
    expect(readNrOpen('/proc')).toBe(Number(readFileSync('/proc/sys/fs/nr_open', 'utf8')));
  });
});
