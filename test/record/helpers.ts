/** Starting the recorder as a real process for the record tests, through the built CLI. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function cliArgv(): string[] {
  return [resolve(REPO, 'bin/procsleuth.js')];
}

export interface Running {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  stdout(): string;
  /** Parsed JSON log lines so far (non-JSON lines are returned as { raw }). */
  logs(): Record<string, unknown>[];
  waitFor(
    pred: (l: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export function startCli(args: string[]): Running {
  const child = spawn(process.execPath, [...cliArgv(), ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let err = '';
  let out = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('close', (code, signal) => {
      started.delete(child);
      res({ code, signal });
    }),
  );
  const logs = (): Record<string, unknown>[] =>
    err
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return { raw: l };
        }
      });
  return {
    child,
    pid: child.pid ?? -1,
    stderr: () => err,
    stdout: () => out,
    logs,
    exited,
    async waitFor(pred, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = logs().find(pred);
        if (hit) return hit;
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`recorder exited before the awaited log line:\n${err}`);
        if (Date.now() > end) throw new Error(`timed out waiting for a log line:\n${err.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Runs a CLI command to completion. */
export async function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = startCli(args);
  const { code } = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
