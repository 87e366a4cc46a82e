/**
 * A real Prometheus (Debian's `prometheus` package) for the fleet tests: on a free loopback port, with
 * a temporary data directory, the remote-write receiver enabled and a config file we write. Stopped
 * with SIGTERM (so its WAL is closed cleanly and a restart on the same directory replays it), and
 * killed on exit of the test process whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const PROMETHEUS = '/usr/bin/prometheus';
export const havePrometheus = existsSync(PROMETHEUS);

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface PromOptions {
  dir: string;
  port: number;
  /** YAML of the config file. */
  config: string;
}

export class Prometheus {
  private child: ChildProcess | undefined;
  private log = '';

  constructor(readonly o: PromOptions) {
    writeFileSync(join(o.dir, 'prometheus.yml'), o.config);
  }

  get url(): string {
    return `http://127.0.0.1:${this.o.port}`;
  }

  get output(): string {
    return this.log;
  }

  async start(): Promise<void> {
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(this.o.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.o.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.o.port}`,
        '--web.enable-remote-write-receiver',
        '--log.level=info',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(child);
    child.once('close', () => running.delete(child));
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (this.log += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.log += s));
    this.child = child;
    const end = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited:\n${this.log.slice(-3000)}`);
      try {
        const r = await fetch(`${this.url}/-/ready`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > end) throw new Error(`prometheus not ready:\n${this.log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await closed;
    clearTimeout(t);
  }

  /** An instant query; returns `data.result`. */
  async query<T = PromResult>(q: string, timeSec?: number): Promise<T[]> {
    const u = new URL(`${this.url}/api/v1/query`);
    u.searchParams.set('query', q);
    if (timeSec !== undefined) u.searchParams.set('time', String(timeSec));
    return this.get<T>(u);
  }

  async queryRange<T = PromRangeResult>(
    q: string,
    startSec: number,
    endSec: number,
    stepSec: number,
  ): Promise<T[]> {
    const u = new URL(`${this.url}/api/v1/query_range`);
    u.searchParams.set('query', q);
    u.searchParams.set('start', String(startSec));
    u.searchParams.set('end', String(endSec));
    u.searchParams.set('step', String(stepSec));
    return this.get<T>(u);
  }

  private async get<T>(u: URL): Promise<T[]> {
    const r = await fetch(u);
    const doc = (await r.json()) as { status: string; error?: string; data?: { result: T[] } };
    if (doc.status !== 'success') throw new Error(`${u.searchParams.get('query')}: ${doc.error}`);
    return doc.data?.result ?? [];
  }
}

export interface PromResult {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

export interface PromRangeResult {
  metric: Record<string, string>;
  values: [number, string][];
}
