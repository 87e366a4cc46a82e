import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PerfFolder, parsePerfTraceLine } from './perf.js';
import { ProfileBuilder } from './profile-builder.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/trace');
// `perf trace -p 9830,9831` of busy-read; includes `...` / `[continued]` pairs.
const BUSY = readFileSync(`${FIX}/perf-busy-read.txt`, 'utf8');
// `perf trace -p PID` (one pid: no comm/tid column) of a python pselect6/read/write/sleep loop.
const PY = readFileSync(`${FIX}/perf-python-poll.txt`, 'utf8');

function fold(text: string, defaultPid?: number) {
  const b = new ProfileBuilder('x86_64', true);
  const f = new PerfFolder(
    (r) => b.add(r),
    (tid) => tid,
    defaultPid,
  );
  for (const l of text.split('\n')) f.line(l);
  return {
    f,
    p: b.build({
      backend: 'perf',
      unit: 'calls',
      pids: [],
      startedAt: '',
      durationMs: 500,
      requestedDurationMs: 500,
      overhead: { description: '' },
      notes: [],
    }),
  };
}

describe('parsePerfTraceLine', () => {
  it('parses a call with comm/tid, fd target, errno and duration', () => {
    const l = parsePerfTraceLine(
      '     1.694 ( 0.020 ms): busy-read/9830 read(fd: 11<socket:[16077]>, buf: 0x7ffe73327740, count: 64)          = -1 EAGAIN (Resource temporarily unavailable)',
    );
    expect(l).toEqual({
      kind: 'call',
      tid: 9830,
      name: 'read',
      fd: 11,
      fdTarget: 'socket:[16077]',
      ret: '-1',
      errno: 'EAGAIN',
      timeNs: 20000,
    });
  });

  it('parses pending and continued halves', () => {
    expect(
      parsePerfTraceLine(
        '     8.850 (         ): busy-read/9830 read(fd: 11<socket:[16077]>, buf: 0x7ffe73327740, count: 64)       ...',
      ),
    ).toEqual({
      kind: 'pending',
      tid: 9830,
      name: 'read',
      fd: 11,
      fdTarget: 'socket:[16077]',
    });
    expect(
      parsePerfTraceLine(
        '     8.850 ( 0.023 ms): busy-read/9830  ... [continued]: read())                                             = -1 EAGAIN (Resource temporarily unavailable)',
      ),
    ).toEqual({
      kind: 'continued',
      tid: 9830,
      name: 'read',
      ret: '-1',
      errno: 'EAGAIN',
      timeNs: 23000,
    });
    expect(
      parsePerfTraceLine(
        '         ? (         ):  ... [continued]: clock_nanosleep())                                  = 0',
      ),
    ).toMatchObject({ kind: 'continued', tid: undefined, ret: '0' });
  });

  it('handles a comm with spaces and slashes, and no comm at all', () => {
    expect(
      parsePerfTraceLine('     0.1 ( 0.002 ms): nginx: w/ker/77 write(fd: 4, buf: 0x1, count: 1) = 1'),
    ).toMatchObject({ tid: 77, name: 'write', fd: 4, ret: '1' });
    expect(
      parsePerfTraceLine(
        '     0.029 ( 0.071 ms): pselect6(n: 4, inp: 0x7fff346a5d00, tsp: 0x7fff346a5c30)              = 0',
      ),
    ).toMatchObject({
      tid: undefined,
      name: 'pselect6',
      ret: '0',
    });
  });

  it('ignores non-event lines', () => {
    for (const l of [
      '',
      'Summary of events:',
      'LOST 4 events!',
      ' busy-read (9830), 29902 events, 48.5%',
      '   read  14951  14951   358.340',
    ])
      expect(parsePerfTraceLine(l).kind).toBe('other');
    expect(parsePerfTraceLine('     1.694 ( 0.020 ms): busy-read/9830 read(fd: 11, buf: 0x7ffe7').kind).toBe(
      'other',
    );
  });
});

describe('PerfFolder on captured output', () => {
  it('shows read on fd 11 → EAGAIN for both workers; continued halves keep the fd', () => {
    const { p } = fold(BUSY);
    const results = BUSY.split('\n').filter((l) => / = /.test(l)).length;
    expect(p.totalCalls).toBe(results);
    expect(p.syscalls[0]).toMatchObject({ name: 'read', count: results, errors: { EAGAIN: results } });
    expect(p.fds.every((f) => f.fd === 11 && f.target?.startsWith('socket:['))).toBe(true);
    expect(p.fds.reduce((n, f) => n + f.totalCalls, 0)).toBe(results);
    expect(new Set(p.fds.map((f) => f.pid))).toEqual(new Set([9830, 9831]));
  });

  it('attributes lines without comm/tid to the single pid', () => {
    const { p, f } = fold(PY, 4242);
    expect(p.perPid.map((x) => x.pid)).toEqual([4242]);
    expect(p.syscalls.find((s) => s.name === 'pselect6')?.zeroReturns).toBeGreaterThan(3);
    const fd3 = p.fds.find((x) => x.fd === 3);
    expect(fd3?.target).toMatch(/^pipe:\[/);
    expect(fd3?.calls[0]?.errors['EAGAIN']).toBeGreaterThan(3);
    expect(f.lost).toBe(0);
  });

  it('counts LOST events', () => {
    const { f } = fold('LOST 70373 events!\n');
    expect(f.lost).toBe(70373);
  });
});
