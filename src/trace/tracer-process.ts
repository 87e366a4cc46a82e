/**
 * Runs one tracer for a window and stops it gently, streaming its output line by line so a chatty
 * tracer (strace prints a line per call) is parsed as it goes instead of held in memory.
 *
 * A traced process must never be left stopped or slowed after we are gone:
 * - at the end of the window, or on abort, the tracer gets SIGINT (strace detaches, perf and bpftrace
 *   print their summary), then SIGTERM, then SIGKILL; ptrace detaches when the tracer exits, and
 *   strace attaches with PTRACE_SEIZE so the tracee is not left in a group-stop;
 * - if we die first (even by SIGKILL), `setpriv --pdeathsig INT` (util-linux, when installed) has the
 *   kernel send the tracer SIGINT, so it does not trace on forever. setpriv execs the tracer, so the
 *   child's pid is the tracer's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ProcsleuthError, errnoCode } from '../util/errors.js';
import { NotInstalledError, NotPermittedError } from '../util/spawn.js';

/** The first executable `program` on PATH, or undefined. */
export function findOnPath(program: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (program.includes('/')) return isExecutable(program) ? program : undefined;
  for (const dir of (env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(
    delimiter,
  )) {
    if (dir === '') continue;
    const p = join(dir, program);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export interface TracerRunOptions {
  /** Stop the tracer this long after it started; undefined = let it exit by itself (bpftrace). */
  durationMs?: number;
  signal?: AbortSignal;
  /** Called with each complete line of stdout / stderr (without the newline). */
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** Keep this much of the raw output (both streams, in arrival order). */
  rawCapBytes?: number;
  /** Between SIGINT and SIGTERM, and between SIGTERM and SIGKILL. */
  graceMs?: number;
  /** Hard limit on the whole run, in case the tracer ignores the stop (default duration + 10 s). */
  hardTimeoutMs?: number;
  /** Called once the tracer process exists. */
  onSpawn?: (child: ChildProcess) => void;
  /**
   * Start the window at the tracer's first output line instead of at spawn (strace and perf print
   * nothing until attached, and attaching takes a while), but no later than this many ms after spawn.
   */
  windowStartsOnOutputWithinMs?: number;
}

export interface TracerRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it stopped: our window closed, the caller aborted, or it exited on its own. */
  stoppedBy: 'window' | 'abort' | 'exit' | 'hard-timeout';
  /** Milliseconds from spawn to exit. */
  elapsedMs: number;
  /** When the first output arrived, relative to spawn (tracers print once attached). */
  firstOutputMs: number | undefined;
  /** The traced window, relative to spawn: from start (or first output) to the stop signal or exit. */
  windowStartMs: number;
  windowEndMs: number;
  raw: string;
  rawTruncated: boolean;
  /** Last ~8 KiB of stderr, for error messages. */
  stderrTail: string;
}

/** Spawn `argv` (wrapped in setpriv --pdeathsig when available) and run it for the window. */
export function runTracer(argv: readonly string[], opts: TracerRunOptions = {}): Promise<TracerRunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new ProcsleuthError('USAGE', 'runTracer: empty argv');
  const exe = findOnPath(cmd);
  if (exe === undefined) return Promise.reject(new NotInstalledError(cmd));
  const setpriv = findOnPath('setpriv');
  const full = setpriv !== undefined ? [setpriv, '--pdeathsig', 'INT', '--', exe, ...args] : [exe, ...args];
  const started = performance.now();
  const graceMs = opts.graceMs ?? 2000;
  const cap = opts.rawCapBytes ?? 64 * 1024;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(full[0] ?? exe, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(spawnError(cmd, err));
      return;
    }
    let stoppedBy: TracerRunResult['stoppedBy'] = 'exit';
    let firstOutputMs: number | undefined;
    let raw = '';
    let rawTruncated = false;
    let stderrTail = '';
    const keepRaw = (s: string): void => {
      if (raw.length >= cap) {
        rawTruncated ||= s.length > 0;
        return;
      }
      const room = cap - raw.length;
      raw += s.length > room ? s.slice(0, room) : s;
      if (s.length > room) rawTruncated = true;
    };
    const lineReader = (onLine: ((l: string) => void) | undefined, isErr: boolean) => {
      let pending = '';
      return {
        data(b: Buffer): void {
          if (firstOutputMs === undefined) {
            firstOutputMs = performance.now() - started;
            onFirstOutput();
          }
          const s = b.toString('utf8');
          keepRaw(s);
          if (isErr) stderrTail = (stderrTail + s).slice(-8192);
          const parts = (pending + s).split('\n');
          pending = parts.pop() ?? '';
          if (onLine) for (const l of parts) onLine(l);
        },
        end(): void {
          if (pending !== '' && onLine) onLine(pending);
          pending = '';
        },
      };
    };
    const out = lineReader(opts.onStdoutLine, false);
    const err = lineReader(opts.onStderrLine, true);
    child.stdout?.on('data', out.data);
    child.stderr?.on('data', err.data);

    const timers: NodeJS.Timeout[] = [];
    let stopping = false;
    let windowStartMs = 0;
    let windowEndMs: number | undefined;
    const stop = (why: TracerRunResult['stoppedBy']): void => {
      if (stopping) return;
      stopping = true;
      stoppedBy = why;
      windowEndMs = performance.now() - started;
      sendSignal(child, 'SIGINT');
      timers.push(setTimeout(() => sendSignal(child, 'SIGTERM'), graceMs));
      timers.push(setTimeout(() => sendSignal(child, 'SIGKILL'), 2 * graceMs));
    };
    const onAbort = (): void => stop('abort');
    if (opts.signal?.aborted) queueMicrotask(onAbort);
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    let windowArmed = false;
    const armWindow = (): void => {
      if (windowArmed || opts.durationMs === undefined) return;
      windowArmed = true;
      windowStartMs = performance.now() - started;
      timers.push(setTimeout(() => stop('window'), opts.durationMs));
    };
    function onFirstOutput(): void {
      if (opts.windowStartsOnOutputWithinMs !== undefined) armWindow();
    }
    if (opts.windowStartsOnOutputWithinMs === undefined) armWindow();
    else timers.push(setTimeout(armWindow, opts.windowStartsOnOutputWithinMs));
    const hard =
      opts.hardTimeoutMs ??
      (opts.durationMs ?? 0) + (opts.windowStartsOnOutputWithinMs ?? 0) + 10_000 + 2 * graceMs;
    timers.push(
      setTimeout(() => {
        stoppedBy = 'hard-timeout';
        stop('hard-timeout');
      }, hard),
    );
    const cleanup = (): void => {
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e) => {
      cleanup();
      reject(spawnError(cmd, e));
    });
    child.on('spawn', () => opts.onSpawn?.(child));
    child.on('close', (code, signal) => {
      cleanup();
      out.end();
      err.end();
      const elapsedMs = performance.now() - started;
      resolve({
        code,
        signal,
        stoppedBy,
        elapsedMs,
        firstOutputMs,
        windowStartMs,
        windowEndMs: windowEndMs ?? elapsedMs,
        raw,
        rawTruncated,
        stderrTail,
      });
    });
  });
}

function sendSignal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill(sig);
  } catch {
    // Already gone between the check and the kill.
  }
}

function spawnError(cmd: string, err: unknown): ProcsleuthError {
  const code = errnoCode(err);
  if (code === 'ENOENT') return new NotInstalledError(cmd, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new NotPermittedError(cmd, code, { cause: err });
  return new ProcsleuthError('TRACER_FAILED', `cannot start ${cmd}: ${code ?? String(err)}`, { cause: err });
}

export class TracerFailedError extends ProcsleuthError {
  constructor(
    readonly program: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('TRACER_FAILED', `${program} failed: ${detail}`, options);
  }
}
