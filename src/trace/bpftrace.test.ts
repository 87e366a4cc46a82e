import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../util/errors.js';
import { bpftraceProgram, bpftraceRecords, parseBpftraceJson } from './bpftrace.js';
import { ProfileBuilder } from './profile-builder.js';

const FIX = resolve(import.meta.dirname, '../../test/fixtures/trace');
// `bpftrace -f json -e "$(bpftraceProgram([4779, 4780, SHELL], 600, 'x86_64', mode))"` against busy-read
// (2 workers × 2 spinning threads), and against a single-threaded python pselect6/read/write/sleep loop.
const BUSY_COUNTS = readFileSync(`${FIX}/bpftrace-counts-busy-read.json`, 'utf8');
const BUSY_TIMED = readFileSync(`${FIX}/bpftrace-timed-busy-read.json`, 'utf8');
const PY_TIMED = readFileSync(`${FIX}/bpftrace-timed-python-poll.json`, 'utf8');
const PY_COUNTS = readFileSync(`${FIX}/bpftrace-counts-python-poll.json`, 'utf8');

function profile(text: string, timed: boolean) {
  const b = new ProfileBuilder('x86_64', timed);
  for (const r of bpftraceRecords(parseBpftraceJson(text), 'x86_64', timed)) b.add(r);
  return b.build({
    backend: 'bpftrace',
    unit: 'calls',
    pids: [],
    startedAt: '',
    durationMs: 600,
    requestedDurationMs: 600,
    overhead: { description: '' },
    notes: [],
  });
}

describe('bpftraceProgram', () => {
  it('filters on the pids and keys calls by pid, nr, fd and result', () => {
    const p = bpftraceProgram([12, 34], 1500, 'x86_64');
    expect(p).toContain('/pid == 12 || pid == 34/');
    expect(p).toContain('@calls[pid, args->id, $fd, $r] = count();');
    expect(p).toContain('@fd_call[0] = 1;'); // read
    expect(p).toContain('>= 1500000000');
    expect(p).not.toContain('sys_enter');
    expect(p).toContain('$regs->orig_ax');
  });

  it('attaches sys_enter and times calls in timed mode; uses arm64 registers on aarch64', () => {
    const t = bpftraceProgram([12], 1000, 'x86_64', 'timed');
    expect(t).toContain('tracepoint:raw_syscalls:sys_enter');
    expect(t).toContain('print(@time_ns)');
    expect(bpftraceProgram([12], 1000, 'aarch64')).toContain('$regs->orig_x0');
    expect(bpftraceProgram([12], 1000, 'aarch64')).toContain('@fd_call[63] = 1;');
  });

  it('refuses anything but positive integer pids', () => {
    expect(() => bpftraceProgram([], 1000, 'x86_64')).toThrow();
    expect(() => bpftraceProgram([1.5], 1000, 'x86_64')).toThrow(/bad pid/);
    expect(() => bpftraceProgram([-1], 1000, 'x86_64')).toThrow(/bad pid/);
  });
});

describe('parseBpftraceJson on captured output', () => {
  it('counts mode: read on fd 11 → EAGAIN for both workers, no timing', () => {
    const o = parseBpftraceJson(BUSY_COUNTS);
    expect(o.attachedProbes).toBe(4);
    expect(o.calls).toEqual([
      { pid: 4780, nr: 0, fd: 11, result: -11, count: 157749 },
      { pid: 4779, nr: 0, fd: 11, result: -11, count: 160749 },
    ]);
    expect((o.stopNs! - o.startNs!) / 1e6).toBeCloseTo(660, -1);
    const p = profile(BUSY_COUNTS, false);
    expect(p.syscalls[0]).toMatchObject({
      name: 'read',
      count: 157749 + 160749,
      errors: { EAGAIN: 157749 + 160749 },
    });
    expect(p.syscalls[0]?.totalTimeNs).toBeUndefined();
    expect(p.fds.map((f) => `${f.pid}:${f.fd}`)).toEqual(['4779:11', '4780:11']);
    expect(p.fds[0]?.totalTimeNs).toBeUndefined();
  });

  it('timed mode: time and blocked counts attached once per pid/syscall/fd', () => {
    const p = profile(BUSY_TIMED, true);
    const fd = p.fds.find((f) => f.pid === 4779);
    expect(fd?.totalTimeNs).toBe(341054556);
    expect(fd?.calls[0]?.maxTimeNs).toBe(3262075);
    expect(fd?.blockedCalls).toBe(1);
  });

  it('python loop: zero returns, successful and failed reads on one fd, sleeps that block', () => {
    const p = profile(PY_TIMED, true);
    const fd3 = p.fds.find((f) => f.fd === 3)!;
    expect(fd3.calls[0]).toMatchObject({ name: 'read', count: 484, errors: { EAGAIN: 242 } });
    expect(p.syscalls.find((s) => s.name === 'pselect6')).toMatchObject({ nr: 270, zeroReturns: 242 });
    expect(p.syscalls.find((s) => s.name === 'clock_nanosleep')?.blockedCalls).toBe(243);
    expect(p.fds.find((f) => f.fd === 4)?.calls[0]).toMatchObject({
      name: 'write',
      count: 242,
      zeroReturns: 0,
    });
    expect(profile(PY_COUNTS, false).totalCalls).toBe(5 * 230);
  });

  it('reads in-flight calls from the enter maps', () => {
    const o = parseBpftraceJson(
      '{"type": "map", "data": {"@enter_ts": {"77": 1000}}}\n{"type": "map", "data": {"@enter_nr": {"77": 232}}}\n{"type": "map", "data": {"@enter_fd": {"77": 5}}}\n',
    );
    expect(o.inFlight).toEqual([{ tid: 77, nr: 232, fd: 5, enterNs: 1000 }]);
  });

  it('rejects broken JSON and malformed keys, keeps stray lines aside', () => {
    expect(() => parseBpftraceJson('{"type": "map", "data": {"@calls": {"1,2,3": 4}}}')).toThrow(
      /pid,nr,fd,result/,
    );
    expect(() => parseBpftraceJson('{"type": "map", "data": {"@calls": {"1,x,3,4": 4}}}')).toThrow(
      ParseError,
    );
    expect(() => parseBpftraceJson('{"type": "map", "data": {"@calls": {"1,2,3,4": "many"}}}')).toThrow(
      /not a number/,
    );
    expect(() => parseBpftraceJson('{"type": "map", "data": {"@calls": {"1,2,3,4": 5}')).toThrow(
      /line 1: bad JSON/,
    );
    expect(() => parseBpftraceJson(BUSY_COUNTS.slice(0, 120))).toThrow(/line 2/);
    const o = parseBpftraceJson('Attaching 4 probes...\n{"type": "map", "data": {"@other": {"1": 2}}}\n');
    expect(o.other).toEqual(['Attaching 4 probes...']);
    expect(o.calls).toEqual([]);
    expect(o.endNs).toBeUndefined();
  });
});
