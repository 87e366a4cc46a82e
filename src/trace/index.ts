/**
 * Backend choice: bpf → bpftrace → perf → strace → proc, cheapest for the traced process first. A tracer
 * that is missing, forbidden or fails is a typed error that moves us to the next one, never a crash;
 * the profile records in `attempts` and `notes` what was passed over and why.
 */
import { ProcsleuthError, UsageError } from '../util/errors.js';
import { bpfTrace } from './bpf.js';
import { bpftraceTrace } from './bpftrace.js';
import { perfTrace } from './perf.js';
import { procTrace } from './proc-sampler.js';
import { straceTrace } from './strace.js';
import { isSupportedArch } from './syscalls.js';
import {
  TRACER_ORDER,
  type BackendAttempt,
  type SyscallProfile,
  type TraceBackend,
  type TraceOptions,
  type TracerName,
} from './types.js';

export type { SyscallProfile, TraceOptions, TracerName } from './types.js';

export const backends = {
  bpf: bpfTrace,
  bpftrace: bpftraceTrace,
  perf: perfTrace,
  strace: straceTrace,
  proc: procTrace,
} satisfies Record<TracerName, TraceBackend>;

export function isTracerName(s: string): s is TracerName {
  return (TRACER_ORDER as readonly string[]).includes(s);
}

/** The backends to try, in order: just the one asked for, or all of them. */
export function chooseBackend(tracer?: string): TracerName[] {
  if (tracer === undefined) return [...TRACER_ORDER];
  if (!isTracerName(tracer))
    throw new UsageError(`unknown tracer ${JSON.stringify(tracer)}; use one of ${TRACER_ORDER.join(', ')}`);
  return [tracer];
}

export interface FallbackOptions extends TraceOptions {
  /** Use only this backend (`--tracer`); its failure is then thrown, not skipped. */
  tracer?: string;
  /** For tests: replace backends. */
  backendOverrides?: Partial<Record<TracerName, TraceBackend>>;
}

export async function traceWithFallback(pids: number[], opts: FallbackOptions): Promise<SyscallProfile> {
  if (pids.length === 0) throw new UsageError('no pids to trace');
  const order = chooseBackend(opts.tracer);
  const attempts: BackendAttempt[] = [];
  const notes: string[] = [];
  if (!isSupportedArch())
    notes.push(`syscall names are for x86_64/aarch64; this is ${process.arch}, names may be wrong`);
  for (const name of order) {
    if (opts.signal?.aborted) break;
    const fn = opts.backendOverrides?.[name] ?? backends[name];
    try {
      const profile = await fn(pids, opts);
      attempts.push({ backend: name, outcome: 'used' });
      profile.attempts = attempts;
      profile.notes = [...notes, ...profile.notes];
      return profile;
    } catch (err) {
      // Only our typed errors mean "try the next one"; a bug is a bug.
      if (!(err instanceof ProcsleuthError) || order.length === 1) throw err;
      const skipped = err.code === 'TRACER_NOT_INSTALLED' || err.code === 'TRACER_NOT_PERMITTED';
      attempts.push({
        backend: name,
        outcome: skipped ? 'skipped' : 'failed',
        code: err.code,
        reason: err.message,
      });
      notes.push(`${name} ${skipped ? 'skipped' : 'failed'}: ${err.message}`);
    }
  }
  throw new ProcsleuthError('TRACER_FAILED', `no tracer backend worked: ${notes.join('; ') || 'aborted'}`);
}
