import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseVmstat, readVmstat } from './vmstat.js';

describe('parseVmstat', () => {
  it('parses captured text', () => {
    const m = parseVmstat('nr_free_pages 6022883\npswpin 0\noom_kill 3\nnr_dirty_threshold 1204071\n');
    expect(m.get('oom_kill')).toBe(3);
    expect(m.get('nr_free_pages')).toBe(6022883);
  });
  it('reads the live file as the kernel prints it', () => {
    const live = readVmstat('/proc');
    const lines = readFileSync('/proc/vmstat', 'utf8').trim().split('\n').length;
    expect(live?.size).toBe(lines);
    expect(live?.has('oom_kill')).toBe(true);
  });
  it('names the line and token of garbage', () => {
    expect(() => parseVmstat('pswpin 0\noom_kill x1\n')).toThrow(/line 2.*oom_kill x1/);
    expect(() => parseVmstat('novalue\n')).toThrow(/line 1/);
  });
  it('is absent rather than an error where hidden', () => {
    expect(readVmstat('/nonexistent')).toBeUndefined();
  });
});
