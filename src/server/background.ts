/**
 * The main-thread side of the dashboard's worker (worker.ts): one worker thread with its own read-only
 * connection to the record, answering jobs one at a time. Reading a day of 1,000 processes takes about a
 * second and the leak and spike detectors take seconds more; on the event loop that would hold every
 * request (and the static files of the page) for as long. A worker that dies is started again for the
 * next job; the jobs it had are failed, never left hanging.
 */
import { Worker } from 'node:worker_threads';
import { loaderReady, siblingModule } from '../util/worker-boot.js';
import type { Job, JobReply, JobRequest, WorkerData } from './worker.js';

export type { WorkerData } from './worker.js';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** A worker on worker.ts; see util/worker-boot.ts for why it starts from an eval'd bootstrap. */
function spawn(data: WorkerData): Worker {
  const self = import.meta.url;
  const boot = `${loaderReady(self)}.then(() => import(${JSON.stringify(siblingModule(self, 'worker'))}));`;
  return new Worker(boot, { eval: true, workerData: data, execArgv: [] });
}

export class Background {
  private readonly data: WorkerData;
  private readonly name: string;
  private readonly log: (line: Record<string, unknown>) => void;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(name: string, data: WorkerData, log: (line: Record<string, unknown>) => void) {
    this.name = name;
    this.data = data;
    this.log = log;
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = spawn(this.data);
    // A worker must never keep a CLI or a test process alive on its own.
    w.unref();
    w.on('message', (m: JobReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    const fail = (why: string): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new Error(why));
      this.pending.clear();
    };
    w.on('error', (err) => {
      this.log({ level: 'error', msg: `${this.name} worker failed`, error: err.message });
      fail(`${this.name} worker failed: ${err.message}`);
    });
    w.on('exit', (code) => fail(`${this.name} worker exited (${code})`));
    this.worker = w;
    return w;
  }

  run<T>(job: Job): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`${this.name} worker is closed`));
    const w = this.ensure();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ ...job, id } as JobRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new Error(`${this.name} worker closed`));
    this.pending.clear();
    if (w) await w.terminate();
  }
}
