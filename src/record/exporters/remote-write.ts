/**
 * Prometheus remote write 1.0 (https://prometheus.io/docs/concepts/remote_write_spec/): an HTTP POST
 * of a snappy-compressed (block format) protobuf `prometheus.WriteRequest`, with the headers
 * `Content-Encoding: snappy`, `Content-Type: application/x-protobuf`,
 * `X-Prometheus-Remote-Write-Version: 0.1.0`. The part of prompb/remote.proto and types.proto we use:
 *
 *   message WriteRequest { repeated TimeSeries timeseries = 1; }
 *   message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   message Label        { string name = 1; string value = 2; }
 *   message Sample       { double value = 1; int64 timestamp = 2; }   // ms since the epoch
 *
 * The protobuf encoding is written by hand (below, ~40 lines) rather than with protobufjs: the schema is
 * four messages of primitive fields, and encoding each series' label block once and reusing the bytes
 * every sample makes a sample cost a copy plus 18 bytes per series, where a generic library builds and
 * walks an object tree per series per sample. The receiver (a real Prometheus, in test/fleet/) is the
 * judge of the encoding. Snappy is the maintained pure-JS `snappyjs` (no native build).
 *
 * ## Delivery: every sample exactly once, in order per series
 * - Each recorder sample becomes one WriteRequest (every series at that time) appended to the on-disk
 *   buffer (buffer.ts); one sender sends the oldest entries in order, one request at a time, and
 *   deletes them only after a 2xx. While healthy a request holds one sample; after an outage it holds
 *   several (up to `maxSamplesPerSend` series-samples) to catch up faster.
 * - Network errors, timeouts, 5xx and 429 are retried with exponential back-off (100 ms doubling to
 *   30 s, ±20 % jitter so a fleet that saw the same outage does not retry in lockstep).
 * - Other 4xx are not retried: the request will never be accepted. Prometheus rolls a rejected request
 *   back whole, so when a multi-sample request is rejected its samples are re-sent one per request and
 *   only the ones rejected on their own are given up (logged, counted as `rejected`). This also makes
 *   retries after an ambiguous failure (the receiver committed, the answer was lost) exactly-once: the
 *   re-sent samples older than what was committed are refused as out of order and dropped, the sample
 *   equal to the last committed one is accepted as an identical duplicate (a no-op in the TSDB), and the
 *   rest are new.
 * - The buffer is bounded (`maxBytes`): past the bound the oldest samples are dropped and counted.
 *   Note that Prometheus itself refuses samples older than its head block (about an hour) unless
 *   `out_of_order_time_window` is set, so a bound much longer than that only helps other receivers.
 */
import http from 'node:http';
import https from 'node:https';
import { compress, uncompress } from 'snappyjs';
import type { Logger } from '../log.js';
import { SampleBuffer } from './buffer.js';
import type { Family, RemoteWriteHealth, SourceHealth } from './exposition.js';

// ---------------------------------------------------------------------------------------------------
// Protobuf

const enc = new TextEncoder();

/** Bytes of a varint; exact up to 2^53 (timestamps in ms are ~2^41). */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function putVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

function bytesField(tag: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + varintSize(payload.length) + payload.length);
  out[0] = tag;
  const p = putVarint(out, 1, payload.length);
  out.set(payload, p);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The encoded `repeated Label labels = 1` of a series: labels sorted by name, as the spec requires. */
export function encodeLabels(labels: readonly (readonly [string, string])[]): Uint8Array {
  const sorted = [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i]?.[0] === sorted[i - 1]?.[0]) throw new Error(`duplicate label ${sorted[i]?.[0]}`);
  return concat(
    sorted.map(([k, v]) =>
      bytesField(0x0a, concat([bytesField(0x0a, enc.encode(k)), bytesField(0x12, enc.encode(v))])),
    ),
  );
}

const SAMPLE_SIZE = 1 + 8 + 1; // + the timestamp varint

/**
 * Encodes families at one time into a WriteRequest. `cache` maps a series' identity to its label
 * block; entries not used by this call are dropped from it, so it holds only the live series.
 */
export function encodeWriteRequest(
  families: readonly Family[],
  node: string,
  tMs: number,
  cache: Map<string, Uint8Array> = new Map(),
): { body: Uint8Array; samples: number } {
  if (!Number.isSafeInteger(tMs) || tMs < 0) throw new Error(`bad timestamp ${tMs}`);
  const blocks: Uint8Array[] = [];
  const values: number[] = [];
  const used = new Set<string>();
  for (const f of families) {
    for (const s of f.series) {
      let key = f.name;
      for (const [k, v] of s.labels) key += `\u0000${k}\u0000${v}`;
      let block = cache.get(key);
      if (!block) {
        block = encodeLabels([['__name__', f.name], ['node', node], ...s.labels]);
        cache.set(key, block);
      }
      used.add(key);
      blocks.push(block);
      values.push(s.value);
    }
  }
  if (used.size !== cache.size) for (const k of cache.keys()) if (!used.has(k)) cache.delete(k);
  // One allocation for the whole request: sizes first, then the bytes.
  const tsVarint = varintSize(tMs);
  const sampleLen = SAMPLE_SIZE + tsVarint;
  let total = 0;
  for (const b of blocks) {
    const tsLen = b.length + 1 + varintSize(sampleLen) + sampleLen;
    total += 1 + varintSize(tsLen) + tsLen;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let p = 0;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i] as Uint8Array;
    out[p++] = 0x0a; // timeseries = 1
    p = putVarint(out, p, b.length + 1 + varintSize(sampleLen) + sampleLen);
    out.set(b, p);
    p += b.length;
    out[p++] = 0x12; // samples = 2
    p = putVarint(out, p, sampleLen);
    out[p++] = 0x09; // value = 1: fixed64 double, little-endian
    view.setFloat64(p, values[i] as number, true);
    p += 8;
    out[p++] = 0x10; // timestamp = 2: varint
    p = putVarint(out, p, tMs);
  }
  return { body: out, samples: blocks.length };
}

// ---------------------------------------------------------------------------------------------------
// Sender

export interface RemoteWriteOptions {
  url: string;
  /** The SQLite file of the buffer. */
  bufferPath: string;
  /** Bound of the buffer, compressed bytes (default 256 MiB). */
  maxBufferBytes?: number;
  node: string;
  log: Logger;
  userAgent?: string;
  /** Series-samples per request when catching up (default 20,000). */
  maxSamplesPerSend?: number;
  timeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

type Outcome =
  | { kind: 'ok'; status: number }
  | { kind: 'retry'; status: number | undefined; message: string }
  | { kind: 'reject'; status: number; message: string };

export class RemoteWriter {
  private readonly o: Required<Omit<RemoteWriteOptions, 'userAgent'>> & { userAgent: string };
  private readonly buffer: SampleBuffer;
  private readonly cache = new Map<string, Uint8Array>();
  private readonly agent: http.Agent;
  private readonly target: URL;
  private readonly h: RemoteWriteHealth = {
    samplesSent: 0,
    samplesRejected: 0,
    samplesDropped: 0,
    failures: 0,
    bufferBytes: 0,
    bufferSamples: 0,
    lastSend: undefined,
  };
  private wake: (() => void) | undefined;
  private closing = false;
  private deadline = Infinity;
  private loopDone: Promise<void>;
  private failingSince: number | undefined;
  private inflight: http.ClientRequest | undefined;
  /** Set by a failure, cleared (and logged) when the buffer is empty again. */
  private behind = false;
  private lastRejectLogMs = -Infinity;
  private rejectedUnlogged = 0;
  private dropLogged = false;
  private appendFailed = false;
  /** After a rejected multi-sample request, entries up to here are sent one per request. */
  private singleUntil = 0;
  private backoff: number;

  constructor(o: RemoteWriteOptions) {
    this.o = {
      maxBufferBytes: 256 * 1024 * 1024,
      maxSamplesPerSend: 20_000,
      timeoutMs: 10_000,
      minBackoffMs: 100,
      maxBackoffMs: 30_000,
      userAgent: 'procsleuth',
      ...o,
    };
    this.backoff = this.o.minBackoffMs;
    this.target = new URL(o.url);
    if (this.target.protocol !== 'http:' && this.target.protocol !== 'https:')
      throw new Error(`remote write wants an http or https URL, got ${o.url}`);
    this.agent =
      this.target.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 1 })
        : new http.Agent({ keepAlive: true, maxSockets: 1 });
    this.buffer = new SampleBuffer(o.bufferPath, this.o.maxBufferBytes);
    this.syncBufferHealth();
    if (this.buffer.entries > 0)
      this.o.log.log('info', 'remote-write-backlog', {
        samples: this.buffer.entries,
        seriesSamples: this.buffer.samples,
        bytes: this.buffer.bytes,
      });
    this.loopDone = this.loop();
  }

  health(): RemoteWriteHealth {
    return { ...this.h };
  }

  /** Encodes one recorder sample and appends it to the buffer; never throws. */
  push(families: readonly Family[], tMs: number): void {
    try {
      const { body, samples } = encodeWriteRequest(families, this.o.node, tMs, this.cache);
      const z = compress(body);
      const r = this.buffer.append(tMs, samples, z);
      this.appendFailed = false;
      this.o.log.log('debug', 'remote-write-enqueued', { seq: r.seq, tMs, series: samples, bytes: z.length });
      if (r.droppedEntries > 0) {
        this.h.samplesDropped += r.droppedSamples;
        if (!this.dropLogged)
          this.o.log.log('warn', 'remote-write-buffer-full', {
            maxBytes: this.o.maxBufferBytes,
            message: 'dropping the oldest buffered samples',
          });
        this.dropLogged = true;
      }
    } catch (err) {
      this.h.samplesDropped += countSeriesOf(families);
      if (!this.appendFailed)
        this.o.log.log('error', 'remote-write-buffer-error', {
          path: this.o.bufferPath,
          message: err instanceof Error ? err.message : String(err),
        });
      this.appendFailed = true;
    }
    this.syncBufferHealth();
    this.wake?.();
  }

  /**
   * Stops taking samples; tries to deliver what is buffered until `flushMs` has passed (no waiting at
   * all while the receiver is failing: the backlog is safe on disk); keeps the rest for the next run.
   */
  async close(flushMs = 5_000): Promise<void> {
    this.closing = true;
    this.deadline = this.failingSince === undefined ? Date.now() + flushMs : Date.now();
    this.wake?.();
    const cut = setTimeout(
      () => this.inflight?.destroy(new Error('closing')),
      Math.max(0, this.deadline - Date.now()),
    );
    await this.loopDone;
    clearTimeout(cut);
    this.agent.destroy();
    const pending = { samples: this.buffer.entries, seriesSamples: this.buffer.samples };
    this.buffer.close();
    this.o.log.log('info', 'remote-write-stop', { ...pending, sent: this.h.samplesSent });
  }

  private syncBufferHealth(): void {
    this.h.bufferBytes = this.buffer.bytes;
    this.h.bufferSamples = this.buffer.samples;
  }

  /** The sender: one request at a time, oldest first. Never rejects (the recorder must not die of it). */
  private async loop(): Promise<void> {
    let stuck = { seq: -1, errors: 0 };
    for (;;) {
      try {
        if (await this.step()) return;
        stuck = { seq: -1, errors: 0 };
      } catch (err) {
        // The buffer itself failed (I/O error, a corrupt entry): log, wait, try again; an entry that
        // fails three times in a row is given up so one bad row cannot stop delivery for good.
        const head = this.safePeekSeq();
        stuck = head === stuck.seq ? { seq: head, errors: stuck.errors + 1 } : { seq: head, errors: 1 };
        this.o.log.log('error', 'remote-write-error', {
          message: err instanceof Error ? err.message : String(err),
          seq: head,
        });
        if (stuck.errors >= 3 && head >= 0) {
          try {
            this.buffer.ack(head);
            this.syncBufferHealth();
          } catch {
            // nothing more we can do here; the next step logs again
          }
        }
        if (this.closing) return;
        await new Promise((r) => setTimeout(r, Math.min(1_000, this.o.maxBackoffMs)));
      }
    }
  }

  private safePeekSeq(): number {
    try {
      return this.buffer.peek(1)[0]?.seq ?? -1;
    } catch {
      return -1;
    }
  }

  /** One send (or one wait); true when the loop is over. */
  private async step(): Promise<boolean> {
    if (this.closing && (this.buffer.entries === 0 || Date.now() >= this.deadline)) return true;
    const batch = this.buffer.peek(this.singleUntil > 0 ? 1 : this.o.maxSamplesPerSend);
    if (batch.length === 0) {
      if (this.closing) return true;
      await new Promise<void>((res) => (this.wake = res));
      this.wake = undefined;
      return false;
    }
    const last = batch[batch.length - 1];
    if (!last) return false;
    const samples = batch.reduce((n, b) => n + b.samples, 0);
    const body =
      batch.length === 1 && batch[0] ? batch[0].body : compress(concat(batch.map((b) => uncompress(b.body))));
    const t0 = performance.now();
    const r = await this.send(body);
    const ms = performance.now() - t0;
    this.h.lastSend = {
      source: 'remote_write',
      durationMs: ms,
      ok: r.kind === 'ok',
    } satisfies SourceHealth;
    if (r.kind === 'ok' || (r.kind === 'reject' && batch.length === 1)) {
      this.buffer.ack(last.seq);
      if (last.seq >= this.singleUntil) this.singleUntil = 0;
      if (r.kind === 'ok') this.h.samplesSent += samples;
      else {
        this.h.samplesRejected += samples;
        this.rejectedUnlogged += samples;
        // A misconfigured URL rejects every sample: say so once a minute, not once a sample.
        if (Date.now() - this.lastRejectLogMs >= 60_000) {
          this.o.log.log('error', 'remote-write-rejected', {
            status: r.status,
            tMs: last.tMs,
            series: this.rejectedUnlogged,
            message: r.message,
          });
          this.lastRejectLogMs = Date.now();
          this.rejectedUnlogged = 0;
        }
      }
      if (this.failingSince !== undefined) {
        this.o.log.log('info', 'remote-write-recovered', {
          outageMs: Date.now() - this.failingSince,
          backlog: this.buffer.entries,
        });
        this.failingSince = undefined;
      }
      if (this.buffer.entries === 0) {
        if (this.behind) this.o.log.log('info', 'remote-write-caught-up', { sent: this.h.samplesSent });
        this.behind = false;
        this.dropLogged = false;
      }
      this.backoff = this.o.minBackoffMs;
      this.syncBufferHealth();
    } else if (r.kind === 'reject') {
      // Rolled back whole: send those samples one by one to keep every one that can be kept.
      this.singleUntil = last.seq;
    } else {
      this.h.failures++;
      this.behind = true;
      // Closing: the first failure ends the flush (the backlog is safe on disk for the next run).
      if (this.closing) this.deadline = Date.now();
      if (this.failingSince === undefined) {
        this.failingSince = Date.now();
        this.o.log.log('warn', 'remote-write-failing', {
          status: r.status,
          message: r.message,
          backlog: this.buffer.entries,
        });
      }
      const wait = Math.min(
        this.backoff * (0.8 + 0.4 * Math.random()),
        Math.max(0, this.deadline - Date.now()),
      );
      await new Promise<void>((res) => {
        const t = setTimeout(res, wait);
        this.wake = () => {
          // a new sample does not cut the back-off short; closing does
          if (this.closing) {
            clearTimeout(t);
            res();
          }
        };
      });
      this.wake = undefined;
      this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs);
    }
    return false;
  }

  private send(body: Uint8Array): Promise<Outcome> {
    const timeout = Math.max(1, Math.min(this.o.timeoutMs, this.deadline - Date.now()));
    const lib = this.target.protocol === 'https:' ? https : http;
    return new Promise<Outcome>((resolve) => {
      const req = lib.request(
        this.target,
        {
          method: 'POST',
          agent: this.agent,
          timeout,
          headers: {
            'Content-Encoding': 'snappy',
            'Content-Type': 'application/x-protobuf',
            'X-Prometheus-Remote-Write-Version': '0.1.0',
            'User-Agent': this.o.userAgent,
            'Content-Length': body.length,
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            if (text.length < 1000) text += c;
          });
          res.on('error', () => resolve({ kind: 'retry', status, message: 'response aborted' }));
          res.on('end', () => {
            const message = text.trim().slice(0, 500);
            if (status >= 200 && status < 300) resolve({ kind: 'ok', status });
            else if (status === 429 || status >= 500 || status < 200)
              resolve({ kind: 'retry', status, message: message || `HTTP ${status}` });
            else resolve({ kind: 'reject', status, message: message || `HTTP ${status}` });
          });
        },
      );
      this.inflight = req;
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeout} ms`)));
      req.on('error', (err) => resolve({ kind: 'retry', status: undefined, message: err.message }));
      req.on('close', () => {
        if (this.inflight === req) this.inflight = undefined;
      });
      req.end(body);
    });
  }
}

function countSeriesOf(families: readonly Family[]): number {
  let n = 0;
  for (const f of families) n += f.series.length;
  return n;
}
