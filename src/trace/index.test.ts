import { afterEach, describe, expect, it } from 'vitest';
import { ProcsleuthError, UsageError } from '../util/errors.js';
import { NotInstalledError, NotPermittedError } from '../util/spawn.js';
import { chooseBackend, traceWithFallback } from './index.js';
import { straceTrace } from './strace.js';
import { TracerFailedError } from './tracer-process.js';
import type { SyscallProfile, TraceBackend } from './types.js';

const fake =
  (backend: SyscallProfile['backend']): TraceBackend =>
  async (pids, opts) => ({
    backend,
    unit: 'calls',
    arch: 'x86_64',
    pids,
    startedAt: '',
    durationMs: opts.durationMs,
    requestedDurationMs: opts.durationMs,
    overhead: { description: '' },
    blockedThresholdNs: 1e6,
    totalCalls: 0,
    syscalls: [],
    fds: [],
    perPid: [],
    notes: [`from ${backend}`],
  });

describe('chooseBackend', () => {
  it('tries bpf → bpftrace → perf → strace → proc, or only the one asked for', () => {
    expect(chooseBackend()).toEqual(['bpf', 'bpftrace', 'perf', 'strace', 'proc']);
    expect(chooseBackend('strace')).toEqual(['strace']);
    expect(() => chooseBackend('dtrace')).toThrow(UsageError);
  });
});

describe('traceWithFallback', () => {
  it('skips missing and forbidden tracers and records why', async () => {
    const p = await traceWithFallback([1], {
      durationMs: 10,
      backendOverrides: {
        bpf: async () => {
          throw new NotInstalledError('build/Release/procsleuth-bpfcount');
        },
        bpftrace: async () => {
          throw new NotPermittedError('bpftrace', 'loading BPF programs needs root');
        },
        perf: async () => {
          throw new NotInstalledError('perf');
        },
        strace: async () => {
          throw new TracerFailedError('strace', 'attach failed');
        },
        proc: fake('proc'),
      },
    });
    expect(p.backend).toBe('proc');
    expect(p.attempts?.map((a) => [a.backend, a.outcome, a.code])).toEqual([
      ['bpf', 'skipped', 'TRACER_NOT_INSTALLED'],
      ['bpftrace', 'skipped', 'TRACER_NOT_PERMITTED'],
      ['perf', 'skipped', 'TRACER_NOT_INSTALLED'],
      ['strace', 'failed', 'TRACER_FAILED'],
      ['proc', 'used', undefined],
    ]);
    expect(p.notes[0]).toMatch(/^bpf skipped: .*procsleuth-bpfcount is not installed/);
    expect(p.notes[1]).toMatch(/^bpftrace skipped: .*needs root/);
    expect(p.notes).toContain('perf skipped: perf is not installed (not found on PATH)');
    expect(p.notes.at(-1)).toBe('from proc');
  });

  it('throws the error of an explicitly chosen tracer instead of falling back', async () => {
    await expect(
      traceWithFallback([1], {
        durationMs: 10,
        tracer: 'perf',
        backendOverrides: {
          perf: async () => {
            throw new NotInstalledError('perf');
          },
        },
      }),
    ).rejects.toThrow(NotInstalledError);
  });

  it('does not swallow bugs (non-procsleuth errors)', async () => {
    await expect(
      traceWithFallback([1], {
        durationMs: 10,
        backendOverrides: {
          bpf: async () => {
            throw new TypeError('oops');
          },
        },
      }),
    ).rejects.toThrow(TypeError);
  });

  it('fails with a typed error when nothing works', async () => {
    const no: TraceBackend = async () => {
      throw new NotInstalledError('x');
    };
    const err = await traceWithFallback([1], {
      durationMs: 10,
      backendOverrides: { bpf: no, bpftrace: no, perf: no, strace: no, proc: no },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcsleuthError);
    expect((err as ProcsleuthError).code).toBe('TRACER_FAILED');
  });
});

describe('a tracer that is not on PATH', () => {
  const saved = process.env['PATH'];
  afterEach(() => {
    process.env['PATH'] = saved;
  });

  it('is a NotInstalledError, not a crash', async () => {
    process.env['PATH'] = '/nonexistent';
    await expect(straceTrace([process.pid], { durationMs: 100 })).rejects.toThrow(NotInstalledError);
  });
});
