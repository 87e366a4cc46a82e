/**
 * The only way we start programs: an argv array (never a shell string), a timeout, a kill, and typed
 * errors for "not installed" and "not permitted" so callers can fall back instead of crashing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ProcsleuthError, errnoCode } from './errors.js';

export interface RunOptions {
  timeoutMs?: number;
  /** Signal sent at the timeout; SIGKILL follows after `killGraceMs`. */
  killSignal?: NodeJS.Signals;
  killGraceMs?: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Caps stdout kept in memory; the rest is dropped and `truncated` set. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
}

export class NotInstalledError extends ProcsleuthError {
  constructor(
    readonly program: string,
    options?: { cause?: unknown },
  ) {
    super('TRACER_NOT_INSTALLED', `${program} is not installed (not found on PATH)`, options);
  }
}

export class NotPermittedError extends ProcsleuthError {
  constructor(
    readonly program: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('TRACER_NOT_PERMITTED', `${program} is not permitted: ${detail}`, options);
  }
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new ProcsleuthError('USAGE', 'run: empty argv');
  const started = performance.now();
  const max = opts.maxOutputBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      reject(toSpawnError(cmd, err));
      return;
    }
    const out: Buffer[] = [];
    const errb: Buffer[] = [];
    let outLen = 0;
    let truncated = false;
    let timedOut = false;
    child.stdout?.on('data', (b: Buffer) => {
      if (outLen + b.length > max) {
        truncated = true;
        return;
      }
      outLen += b.length;
      out.push(b);
    });
    child.stderr?.on('data', (b: Buffer) => {
      if (errb.reduce((n, x) => n + x.length, 0) < 1024 * 1024) errb.push(b);
    });
    const stop = (): void => killGently(child, opts.killSignal ?? 'SIGTERM', opts.killGraceMs ?? 2000);
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, opts.timeoutMs)
        : undefined;
    opts.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(toSpawnError(cmd, err));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(errb).toString('utf8'),
        timedOut,
        truncated,
        durationMs: performance.now() - started,
      });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Send `signal`, then SIGKILL if the child is still there after `graceMs`. */
export function killGently(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const t = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, graceMs);
  t.unref();
  child.once('exit', () => clearTimeout(t));
}

function toSpawnError(cmd: string, err: unknown): ProcsleuthError {
  const code = errnoCode(err);
  if (code === 'ENOENT') return new NotInstalledError(cmd, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new NotPermittedError(cmd, code, { cause: err });
  return new ProcsleuthError('TRACER_FAILED', `cannot start ${cmd}: ${code ?? String(err)}`, { cause: err });
}
