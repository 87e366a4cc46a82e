/**
 * Starts the scenario programs of test/scenarios/ for integration tests and benches: compiles each C
 * file once (cached by content hash under os.tmpdir(), so parallel test files and later runs share the
 * binary), spawns it with an argv array in its own process group, waits for its `READY <json>` line,
 * and guarantees cleanup — `stop()`, `stopAllScenarios()`, and a process 'exit' hook that kills every
 * group still running. Tests also set SCENARIO_DIE_WITH_PARENT=1 so a runner killed with SIGKILL does
 * not leave spinning workers behind (see common.h).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/util/spawn.js';

export const SCENARIO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../scenarios');

/** What each program prints after READY (see the comment at the top of each C file). */
export interface ScenarioInfo {
  'busy-read': { pids: number[]; fd: number; path: string; peerPid: number; socketpair: boolean };
  'close-wait-server': { port: number; addr: string; pid: number };
  'fd-leak': { limit: number; fds: number; kind: 'file' | 'pipe' | 'socket'; intervalMs: number };
  'shm-map': { mib: number; sysvMib: number; shmid: number; address: string; pids: number[] };
  'mem-leak': { mode: string; kib: number; intervalMs: number; baseKib: number };
  spin: { threads: number; mode: 'threads' | 'procs'; delayMs: number; pids: number[] };
  holder: {
    pid: number;
    port: number;
    established: number;
    closeWait: number;
    timeWait: number;
    fdLimit: number;
    sources: string[];
  };
  sleepers: { count: number; pids: number[] };
}

export type ScenarioName = keyof ScenarioInfo;

/** C programs that are tools rather than scenarios, compiled the same way. */
export type ToolName = 'time-exec';

export interface StartOptions {
  /** How long to wait for READY (default 15 s; the bench holders need longer). */
  readyTimeoutMs?: number;
  /** Kill the program when this Node process dies, even by SIGKILL (default true). */
  dieWithParent?: boolean;
  /**
   * Leave the process running when this Node process exits (for `bench/state.ts up`). Its stdout and
   * stderr then go to files (a pipe would SIGPIPE it once we are gone); `lines` stays empty.
   */
  detach?: boolean;
  env?: NodeJS.ProcessEnv;
}

export interface RunningScenario<N extends ScenarioName> {
  name: N;
  /** The main process (also the process group id). */
  pid: number;
  info: ScenarioInfo[N];
  /** Lines printed on stdout after READY (the last 1,000), e.g. `ACCEPTED 3` or `HELD 2048 4`. */
  lines: string[];
  /** Resolves with the first stdout line after READY that matches `re` (already seen lines count). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  stderr(): string;
  /** SIGTERM to the main process (it kills and reaps its workers), then SIGKILL to the whole group. */
  stop(): Promise<void>;
}

const CFLAGS = ['-O2', '-Wall', '-pthread'];
const compiled = new Map<string, Promise<string>>();

/** Path of the compiled binary for `test/scenarios/<name>.c`, compiling it if the cache has none. */
export function compileScenario(name: ScenarioName | ToolName): Promise<string> {
  let p = compiled.get(name);
  if (p === undefined) {
    p = compile(name);
    compiled.set(name, p);
    // a failed compile must not be cached: the next caller gets to see the compiler's message again
    p.catch(() => compiled.delete(name));
  }
  return p;
}

async function compile(name: string): Promise<string> {
  const src = join(SCENARIO_DIR, `${name}.c`);
  const hash = createHash('sha256');
  hash.update(CFLAGS.join(' '));
  hash.update(readFileSync(src));
  hash.update(readFileSync(join(SCENARIO_DIR, 'common.h')));
  const dir = join(tmpdir(), 'procsleuth-scenarios');
  const out = join(dir, `${name}-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  // compile to a private name and rename: parallel test workers never run a half-written binary
  const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  const r = await run(['gcc', ...CFLAGS, '-o', tmp, src], { timeoutMs: 60_000 });
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`gcc failed for ${src} (exit ${String(r.code)}):\n${r.stderr}`);
  }
  renameSync(tmp, out);
  return out;
}

const live = new Map<number, ChildProcess>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL the groups, nothing to await
  process.on('exit', () => {
    for (const pgid of live.keys()) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone already
  }
}

export async function startScenario<N extends ScenarioName>(
  name: N,
  args: readonly string[] = [],
  opts: StartOptions = {},
): Promise<RunningScenario<N>> {
  const bin = await compileScenario(name);
  const dieWithParent = opts.dieWithParent ?? !opts.detach;
  let logs: { out: string; err: string; fds: [number, number] } | undefined;
  if (opts.detach) {
    const base = join(tmpdir(), 'procsleuth-scenarios', `run-${name}-${Date.now()}-${process.pid}`);
    mkdirSync(dirname(base), { recursive: true });
    logs = {
      out: `${base}.out`,
      err: `${base}.err`,
      fds: [openSync(`${base}.out`, 'w'), openSync(`${base}.err`, 'w')],
    };
  }
  const child = spawn(bin, args, {
    // its own process group, so stop() reaches every worker with one kill(-pgid)
    detached: true,
    stdio: logs ? ['ignore', logs.fds[0], logs.fds[1]] : ['ignore', 'pipe', 'pipe'],
    env: { ...(opts.env ?? process.env), SCENARIO_DIE_WITH_PARENT: dieWithParent ? '1' : '0' },
  });
  if (logs) for (const fd of logs.fds) closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) {
    const err = await new Promise<Error>((res) => child.once('error', res));
    throw new Error(`cannot start scenario ${name}: ${err.message}`, { cause: err });
  }
  if (!opts.detach) {
    installExitHook();
    live.set(pid, child);
  }

  let stderr = '';
  const readStderr = (): string => (logs ? readFileSync(logs.err, 'utf8').slice(0, 64 * 1024) : stderr);
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 64 * 1024) stderr += s;
  });

  const lines: string[] = [];
  const waiters = new Set<{ re: RegExp; resolve: (l: string) => void }>();
  let buf = '';
  let onReady: ((json: string) => void) | undefined;
  child.stdout?.setEncoding('utf8');
  // keep reading stdout for the process's whole life: a full pipe would block a program that logs
  child.stdout?.on('data', (s: string) => {
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (onReady !== undefined && line.startsWith('READY ')) {
        onReady(line.slice('READY '.length));
        onReady = undefined;
        continue;
      }
      lines.push(line);
      if (lines.length > 1000) lines.shift();
      for (const w of waiters) {
        if (w.re.test(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  });

  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  void exited.then(() => live.delete(pid));

  const stop = async (): Promise<void> => {
    live.delete(pid);
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const t = setTimeout(() => killGroup(pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    // workers left behind (the main process died before reaping them) go with the group
    killGroup(pid, 'SIGKILL');
    child.stdout?.destroy();
    child.stderr?.destroy();
  };

  const timeoutMs = opts.readyTimeoutMs ?? 15_000;
  let infoJson: string;
  try {
    infoJson = await new Promise<string>((res, rej) => {
      const timer = setTimeout(
        () => rej(new Error(`scenario ${name} not READY after ${timeoutMs} ms; stderr: ${readStderr()}`)),
        timeoutMs,
      );
      let poll: NodeJS.Timeout | undefined;
      onReady = (json) => {
        clearTimeout(timer);
        clearInterval(poll);
        onReady = undefined;
        res(json);
      };
      if (logs) {
        // a detached program writes to a file: look for its READY line there
        const out = logs.out;
        poll = setInterval(() => {
          const m = /^READY (.*)$/m.exec(readFileSync(out, 'utf8'));
          if (m?.[1] !== undefined) onReady?.(m[1]);
        }, 50);
      }
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        clearInterval(poll);
        rej(
          new Error(
            `scenario ${name} exited before READY (code ${String(code)}, signal ${String(signal)}): ${readStderr().trim()}`,
          ),
        );
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }

  let info: ScenarioInfo[N];
  try {
    info = JSON.parse(infoJson) as ScenarioInfo[N];
  } catch (err) {
    await stop();
    throw new Error(`scenario ${name}: READY line is not JSON: ${infoJson}`, { cause: err });
  }

  if (opts.detach) {
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.unref();
  }

  return {
    name,
    pid,
    info,
    lines,
    stderr: readStderr,
    stop,
    waitForLine(re: RegExp, waitMs = 10_000): Promise<string> {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const w = {
          re,
          resolve: (l: string) => {
            clearTimeout(timer);
            res(l);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          rej(new Error(`scenario ${name}: no line matching ${String(re)} within ${waitMs} ms`));
        }, waitMs);
        waiters.add(w);
      });
    },
  };
}

/** Stops every scenario this process started and has not stopped (use in afterAll/afterEach). */
export async function stopAllScenarios(): Promise<void> {
  const pgids = [...live.keys()];
  live.clear();
  for (const pgid of pgids) {
    try {
      process.kill(pgid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  for (const pgid of pgids) killGroup(pgid, 'SIGKILL');
}
