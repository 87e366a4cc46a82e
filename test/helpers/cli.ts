/** Runs the built CLI (dist/, built by `npm test`'s pretest) as a real process. */
import { spawn, type SpawnOptions } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve(import.meta.dirname, '../../bin/procsleuth.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<CliResult> {
  return runCmd([process.execPath, BIN, ...args], opts);
}

export function runCmd(argv: string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<CliResult> {
  const [cmd, ...args] = argv;
  return new Promise((res, rej) => {
    const child = spawn(cmd ?? '', args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}

export async function cliJson<T>(args: string[], opts: SpawnOptions = {}): Promise<T> {
  const r = await runCli([...args, '--json'], opts);
  if (r.code !== 0) throw new Error(`procsleuth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
