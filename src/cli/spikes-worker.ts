/**
 * `spikesFromRecord` on a worker thread with its own read-only connection (spikes.ts starts it): the
 * report runs it beside the leak scan, which uses the main thread and a decoding worker of its own.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RecordReader, Store } from '../store/index.js';
import { spikesFromRecord, type SpikesQuery } from './spikes.js';

const q = workerData as SpikesQuery;
let reply: { ok: true; doc: unknown } | { ok: false; error: string };
try {
  const store = Store.open(q.dbPath, { mode: 'read' });
  try {
    reply = { ok: true, doc: spikesFromRecord(new RecordReader(store), q) };
  } finally {
    store.close();
  }
} catch (err) {
  reply = { ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}
parentPort?.postMessage(reply);
