/**
 * The recording loop: open (or create) the database, become its one writer, then every interval take a
 * sample and append it in one transaction; hourly, fold what is older than the retention. Samples are
 * taken on wall-clock multiples of the interval (12:00:00, 12:01:00, …) and a sample that overran skips
 * the slots it missed rather than bunching up.
 *
 * Failure policy:
 * - a full disk: the sample is dropped (nothing half-written: the transaction rolls back), logged once
 *   as `disk-full`; sampling continues, and the first sample that fits is logged as `resumed`;
 * - a corrupt or foreign database, a newer schema, a live second recorder: refused at start (thrown,
 *   the CLI prints it and exits 2); corruption found later stops the recorder without touching the file;
 * - SIGTERM / SIGINT: the loop stops between samples (sampling is synchronous, so a signal never lands
 *   inside one), the run is closed, the WAL checkpointed, and the recorder exits 0.
 * The recorder records its own CPU, RSS and sample duration with each sample (`samples` table).
 */
import { hostname } from 'node:os';
import { ProcsleuthError } from '../util/errors.js';
import { readPidStat } from '../procfs/pid-stat.js';
import {
  RecordWriter,
  Store,
  runMaintenance,
  type Owner,
  type SampleInput,
  type WriteResult,
} from '../store/index.js';
import { Sampler, type SamplerOptions } from './sampler.js';
import type { Logger } from './log.js';
import type { RecorderHealth } from './exporters/exposition.js';

export interface RecorderOptions {
  dbPath: string;
  procRoot: string;
  intervalMs: number;
  retentionMs: number;
  /** One full sample, then exit. */
  once: boolean;
  log: Logger;
  version: string;
  /** How often retention runs (default hourly). */
  maintenanceEveryMs?: number;
  sampler?: Partial<SamplerOptions>;
  /** Stop after this many samples (tests). */
  maxSamples?: number;
  /** Handle SIGTERM/SIGINT (default true). */
  signals?: boolean;
  /** Verify every page of the database when opening (default true). */
  check?: boolean;
  /** Called after each sample, written or dropped (the exporters: --metrics-listen, --remote-write). */
  onSample?: (input: SampleInput, health: RecorderHealth) => void;
}

export interface RecorderSummary {
  samples: number;
  dropped: number;
  rows: number;
  runId: number;
  stoppedBy: 'signal' | 'once' | 'max-samples' | 'error';
}

/** Runs until a signal (or --once); throws ProcsleuthError for what must stop it. */
export async function runRecorder(o: RecorderOptions): Promise<RecorderSummary> {
  const log = o.log;
  const sampler = new Sampler({ procRoot: o.procRoot, intervalMs: o.intervalMs, ...o.sampler });
  const self = readPidStat(o.procRoot, process.pid);
  const me: Owner = {
    pid: process.pid,
    startTimeTicks: self.ok ? self.value.startTimeTicks : undefined,
    bootId: sampler.bootId,
    hostname: hostname(),
    sinceMs: Date.now(),
  };
  const store = Store.open(o.dbPath, { mode: 'write', check: o.check });
  try {
    store.acquire(me, (owner) => isAlive(o.procRoot, sampler.bootId, owner));
  } catch (err) {
    store.close();
    throw err;
  }
  let writer: RecordWriter;
  try {
    writer = new RecordWriter(store, {
      pid: me.pid,
      hostname: me.hostname,
      version: o.version,
      intervalMs: o.intervalMs,
      startedMs: me.sinceMs,
    });
  } catch (err) {
    store.close();
    throw err;
  }
  log.log('info', 'start', {
    db: o.dbPath,
    pid: process.pid,
    run: writer.runId,
    intervalMs: o.intervalMs,
    retentionMs: o.retentionMs,
    once: o.once,
    version: o.version,
  });

  const summary: RecorderSummary = {
    samples: 0,
    dropped: 0,
    rows: 0,
    runId: writer.runId,
    stoppedBy: 'once',
  };
  let diskFull = false;
  let lastMaintenance = -Infinity;
  let writeMs = 0;

  const maintain = (): void => {
    const now = Date.now();
    if (now - lastMaintenance < (o.maintenanceEveryMs ?? 3_600_000)) return;
    lastMaintenance = now;
    try {
      const m = runMaintenance(store, { nowMs: now, retentionMs: o.retentionMs });
      if (m.samplesDeleted > 0 || m.bucketRowsExpired > 0) log.log('info', 'retention', { ...m });
    } catch (err) {
      if (err instanceof ProcsleuthError && err.code === 'DISK_FULL')
        log.log('warn', 'retention-skipped', { code: err.code, message: err.message });
      else throw err;
    }
  };

  /** One sample: read, write; a full disk drops it, anything else is thrown and stops the recorder. */
  const tick = (): void => {
    const input = sampler.sample(o.once);
    const cpu = process.cpuUsage();
    input.self = {
      durationMs: (sampler.lastStats?.durationMs ?? 0) + writeMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssBytes: process.memoryUsage.rss(),
    };
    const w0 = performance.now();
    let r: WriteResult | undefined;
    try {
      r = writer.append(input);
    } catch (err) {
      if (!(err instanceof ProcsleuthError) || err.code !== 'DISK_FULL') throw err;
      summary.dropped++;
      // The WAL may hold the space we need: fold it into the database and truncate it.
      store.checkpoint();
      if (!diskFull)
        log.log('error', 'disk-full', {
          db: o.dbPath,
          message: `${err.message}; dropping samples until space returns`,
          code: err.code,
        });
      diskFull = true;
    }
    writeMs = performance.now() - w0;
    if (r) {
      summary.samples++;
      summary.rows += r.rows;
      if (diskFull) log.log('info', 'resumed', { db: o.dbPath, dropped: summary.dropped });
      diskFull = false;
      const st = sampler.lastStats;
      log.log('debug', 'sample', {
        sample: r.sampleId,
        rows: r.rows,
        new: r.newProcesses,
        ended: r.endedProcesses,
        ...st,
        writeMs: Math.round(writeMs * 10) / 10,
      });
    }
    o.onSample?.(input, {
      intervalMs: o.intervalMs,
      stats: sampler.lastStats,
      sources: [
        { source: 'sample', durationMs: sampler.lastStats?.durationMs, ok: true },
        { source: 'store', durationMs: writeMs, ok: r !== undefined },
      ],
      samplesWritten: summary.samples,
      samplesDropped: summary.dropped,
      self: input.self,
    });
  };

  const stopHandlers: (() => void)[] = [];
  let stopping: string | undefined;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (o.signals ?? true) {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const h = (): void => {
        stopping = sig;
        if (timer) clearTimeout(timer);
        wake?.();
      };
      process.on(sig, h);
      stopHandlers.push(() => process.off(sig, h));
    }
  }

  try {
    if (o.once) {
      tick();
      maintain();
      summary.stoppedBy = 'once';
    } else {
      maintain();
      for (;;) {
        if (stopping) break;
        tick();
        if (o.maxSamples !== undefined && summary.samples + summary.dropped >= o.maxSamples) {
          summary.stoppedBy = 'max-samples';
          break;
        }
        maintain();
        if (stopping) break;
        const now = Date.now();
        const next = Math.floor(now / o.intervalMs) * o.intervalMs + o.intervalMs;
        await new Promise<void>((res) => {
          wake = res;
          timer = setTimeout(res, next - now);
        });
        wake = undefined;
      }
      if (stopping) summary.stoppedBy = 'signal';
    }
  } catch (err) {
    summary.stoppedBy = 'error';
    log.log('error', 'stop', {
      reason: 'error',
      code: err instanceof ProcsleuthError ? err.code : 'INTERNAL',
      message: err instanceof Error ? err.message : String(err),
    });
    closeQuietly(store, writer, me);
    for (const h of stopHandlers) h();
    throw err;
  }
  closeQuietly(store, writer, me);
  for (const h of stopHandlers) h();
  log.log('info', 'stop', {
    reason: stopping ?? summary.stoppedBy,
    samples: summary.samples,
    dropped: summary.dropped,
    rows: summary.rows,
  });
  return summary;
}

function closeQuietly(store: Store, writer: RecordWriter, me: Owner): void {
  for (const f of [() => writer.endRun(Date.now()), () => store.release(me)]) {
    try {
      f();
    } catch {
      // a full disk may refuse these; the next recorder closes the run and takes over the lock
    }
  }
  store.close();
}

/** Whether a recorded owner is a live process: same boot, same pid, same start time. */
export function isAlive(procRoot: string, bootId: string, o: Owner): boolean {
  if (o.bootId !== undefined && o.bootId !== bootId) return false;
  const st = readPidStat(procRoot, o.pid);
  if (!st.ok) return st.failure.kind === 'denied';
  return o.startTimeTicks === undefined || st.value.startTimeTicks === o.startTimeTicks;
}

/** Where the record lives by default: /var/lib for root, the XDG state directory otherwise. */
export function defaultDbPath(env: NodeJS.ProcessEnv, uid: number | undefined = process.getuid?.()): string {
  if (uid === 0) return '/var/lib/procsleuth/record.db';
  const state = env['XDG_STATE_HOME'] || `${env['HOME'] ?? '.'}/.local/state`;
  return `${state}/procsleuth/record.db`;
}
