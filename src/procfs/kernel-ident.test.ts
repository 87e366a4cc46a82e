import { hostname, release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parseOneLine, readKernelIdent } from './kernel-ident.js';

describe('hostname and osrelease', () => {
  it('parses real values (captured on this VM)', () => {
    expect(parseOneLine('vm\n')).toBe('vm');
    expect(parseOneLine('6.18.44-fc-v657\n')).toBe('6.18.44-fc-v657');
  });

  it('rejects empty and multi-line text', () => {
    expect(() => parseOneLine('\n')).toThrow(ParseError);
    expect(() => parseOneLine('a\nb\n')).toThrow(/one non-empty line/);
  });

  it('matches uname on the live host', () => {
    expect(readKernelIdent('/proc')).toEqual({ hostname: hostname(), osRelease: release() });
  });
});
