import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { parseBootId, readBootId } from './boot-id.js';

describe('boot_id', () => {
  it('parses a real id (captured on this VM)', () => {
    expect(parseBootId('6a68c77a-d17a-4df8-8544-24148ed63c7e\n')).toBe(
      '6a68c77a-d17a-4df8-8544-24148ed63c7e',
    );
  });

  it('rejects what is not a UUID', () => {
    expect(() => parseBootId('')).toThrow(ParseError);
    expect(() => parseBootId('6a68c77a-d17a-4df8-8544\n')).toThrow(/not a UUID/);
    expect(() => parseBootId('6A68C77A-D17A-4DF8-8544-24148ED63C7E\n')).toThrow(ParseError);
  });

  it('reads the live file, stable across reads', () => {
    expect(readBootId('/proc')).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(readBootId('/proc')).toBe(readBootId('/proc'));
  });
});
