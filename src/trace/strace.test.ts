import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProfileBuilder, type CallRecord } from './profile-builder.js';
import { StraceFolder, parseStraceLine } from './strace.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/trace');
// `strace -f -qq -T -e signal=none -p 9830 -p 9831` of busy-read (2 workers spinning on read(11)).
const BUSY = readFileSync(`${FIX}/strace-busy-read.txt`, 'utf8');
// The same options on a single-threaded python loop: pselect6 timeouts, EAGAIN and successful reads.
const PY = readFileSync(`${FIX}/strace-python-poll.txt`, 'utf8');

function fold(text: string, defaultPid?: number): ReturnType<ProfileBuilder['build']> {
  const b = new ProfileBuilder('x86_64', true);
  const f = new StraceFolder(
    (r: CallRecord) => b.add(r),
    (tid) => tid,
    defaultPid,
  );
  for (const l of text.split('\n')) f.line(l);
  return b.build({
    backend: 'strace',
    unit: 'calls',
    pids: [],
    startedAt: '',
    durationMs: 500,
    requestedDurationMs: 500,
    overhead: { description: '' },
    notes: [],
  });
}

describe('parseStraceLine', () => {
  it('parses a complete call with pid prefix, fd, errno and time', () => {
    expect(
      parseStraceLine(
        '[pid  9831] read(11, 0x7ffe73327740, 64) = -1 EAGAIN (Resource temporarily unavailable) <0.000013>',
      ),
    ).toEqual({
      kind: 'call',
      tid: 9831,
      name: 'read',
      fd: 11,
      ret: '-1',
      errno: 'EAGAIN',
      timeNs: 13000,
    });
  });

  it('parses the -o FILE prefix, -y fd targets, and no prefix', () => {
    expect(
      parseStraceLine('9831  read(11<socket:[16077]>, 0x7ffe73327740, 64) = -1 EAGAIN (x) <0.000009>'),
    ).toMatchObject({ tid: 9831, fd: 11, fdTarget: 'socket:[16077]' });
    expect(
      parseStraceLine('pselect6(4, [3], NULL, NULL, {tv_sec=0, tv_nsec=0}, NULL) = 0 (Timeout) <0.000013>'),
    ).toMatchObject({
      kind: 'call',
      tid: undefined,
      name: 'pselect6',
      ret: '0',
    });
  });

  it('parses unfinished / resumed halves', () => {
    expect(parseStraceLine('[pid  9830] read(11,  <unfinished ...>')).toEqual({
      kind: 'unfinished',
      tid: 9830,
      name: 'read',
      fd: 11,
    });
    expect(
      parseStraceLine(
        '[pid  9831] <... read resumed>0x7ffe73327740, 64) = -1 EAGAIN (Resource temporarily unavailable) <0.000037>',
      ),
    ).toMatchObject({
      kind: 'resumed',
      tid: 9831,
      name: 'read',
      errno: 'EAGAIN',
      timeNs: 37000,
    });
  });

  it('treats signals, exits, strace messages and cut-off lines as other', () => {
    expect(parseStraceLine('[pid  9831] --- SIGINT {si_signo=SIGINT} ---').kind).toBe('other');
    expect(parseStraceLine('9831  +++ exited with 0 +++').kind).toBe('other');
    expect(parseStraceLine('strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted').kind).toBe(
      'other',
    );
    expect(parseStraceLine('[pid  9831] read(11, 0x7ffe733').kind).toBe('other');
    expect(parseStraceLine('[pid  9831] exit_group(0) = ?')).toMatchObject({ kind: 'call', ret: '?' });
    expect(() => parseStraceLine('[pid  9831] <... garbage')).toThrow(/resumed/);
  });
});

describe('StraceFolder on captured output', () => {
  it('shows read on fd 11 failing with EAGAIN for both workers, resumed halves keeping their fd', () => {
    const p = fold(BUSY);
    const lines = BUSY.split('\n').filter((l) => l.includes(' = '));
    expect(p.totalCalls).toBe(lines.length);
    expect(p.syscalls).toHaveLength(1);
    expect(p.syscalls[0]).toMatchObject({
      name: 'read',
      nr: 0,
      count: lines.length,
      errors: { EAGAIN: lines.length },
    });
    expect(p.fds.map((f) => [f.pid, f.fd]).sort()).toEqual([
      [9830, 11],
      [9831, 11],
    ]);
    expect(p.fds.reduce((n, f) => n + f.totalCalls, 0)).toBe(lines.length);
    expect(p.fds[0]?.totalTimeNs).toBeGreaterThan(0);
  });

  it('counts zero returns of pselect6 and mixed results on one fd (no pid prefix)', () => {
    const p = fold(PY, 15634);
    const sel = p.syscalls.find((s) => s.name === 'pselect6');
    expect(sel?.zeroReturns).toBe(sel?.count);
    const fd3 = p.fds.find((f) => f.fd === 3);
    const read = fd3?.calls.find((c) => c.name === 'read');
    expect(read?.errors['EAGAIN']).toBeGreaterThan(10);
    expect(read!.count).toBeGreaterThan(read!.errors['EAGAIN']!);
    // clock_nanosleep of ~2 ms counts as blocked; the non-blocking reads hardly ever (strace's <time>
    // includes ptrace stops, so a preempted read can exceed 1 ms: one did in this capture).
    expect(p.syscalls.find((s) => s.name === 'clock_nanosleep')?.blockedCalls).toBeGreaterThan(10);
    expect(read?.blockedCalls).toBe(1);
    expect(p.fds.every((f) => f.pid === 15634)).toBe(true);
  });

  it('survives garbage and truncated input', () => {
    const p = fold(
      ['garbage', '[pid  1] <... x', '[pid 12] read(11, 0x1, 64', '\u0000\u0001', BUSY.slice(0, 500)].join(
        '\n',
      ),
    );
    expect(p.totalCalls).toBeGreaterThan(0);
    expect(p.syscalls[0]?.name).toBe('read');
  });
});
