/**
 * Remote write without Prometheus: the protobuf encoding (decoded here by an independent reader of the
 * wire format), the bounded on-disk buffer, and delivery through a receiver that fails in every way
 * the sender must survive — refused connections, 503s, a 429, a connection cut before the answer
 * *after* the receiver committed, and a rejected multi-sample request. The receiver behaves like
 * Prometheus' TSDB (a request is committed whole or not at all; a sample older than the series' last
 * one is out of order → 400; one equal to it with the same value is a no-op), so "exactly once, in
 * order" is checked on what it stored.
 */
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { compress, uncompress } from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SampleBuffer } from '../../src/record/exporters/buffer.js';
import { encodeLabels, encodeWriteRequest, RemoteWriter } from '../../src/record/exporters/remote-write.js';
import type { Family } from '../../src/record/exporters/exposition.js';
import { jsonLogger } from '../../src/record/log.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-rw-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---- an independent reader of the protobuf wire format ----------------------------------------------

interface Decoded {
  labels: Record<string, string>;
  samples: { value: number; tMs: number }[];
}

function fields(buf: Uint8Array): { field: number; wire: number; bytes?: Uint8Array; num?: number }[] {
  const out: { field: number; wire: number; bytes?: Uint8Array; num?: number }[] = [];
  let p = 0;
  const varint = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = buf[p++];
      if (b === undefined) throw new Error('truncated varint');
      n += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 128) return n;
    }
  };
  while (p < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 2) {
      const len = varint();
      if (p + len > buf.length) throw new Error('truncated field');
      out.push({ field, wire, bytes: buf.subarray(p, p + len) });
      p += len;
    } else if (wire === 0) out.push({ field, wire, num: varint() });
    else if (wire === 1) {
      out.push({ field, wire, num: new DataView(buf.buffer, buf.byteOffset + p, 8).getFloat64(0, true) });
      p += 8;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

function decodeWriteRequest(buf: Uint8Array): Decoded[] {
  const dec = new TextDecoder('utf-8', { fatal: true });
  return fields(buf).map((ts) => {
    expect(ts.field).toBe(1);
    const d: Decoded = { labels: {}, samples: [] };
    let prevName = '';
    for (const f of fields(ts.bytes ?? new Uint8Array())) {
      if (f.field === 1) {
        const l = fields(f.bytes ?? new Uint8Array());
        const name = dec.decode(l.find((x) => x.field === 1)?.bytes);
        expect(name > prevName).toBe(true); // sorted, no duplicates
        prevName = name;
        d.labels[name] = dec.decode(l.find((x) => x.field === 2)?.bytes);
      } else if (f.field === 2) {
        const s = fields(f.bytes ?? new Uint8Array());
        d.samples.push({
          value: s.find((x) => x.field === 1)?.num ?? NaN,
          tMs: s.find((x) => x.field === 2)?.num ?? -1,
        });
      }
    }
    return d;
  });
}

// ---- a receiver that behaves like Prometheus' TSDB and fails on demand --------------------------------

type Fault = 'ok' | '503' | '429' | 'cut-after-commit' | 'cut-before-commit' | '400';

class Receiver {
  readonly stored = new Map<string, { tMs: number; value: number }[]>();
  readonly requests: { samples: number; answer: string }[] = [];
  faults: Fault[] = [];
  private server = http.createServer((req, res) => this.handle(req, res));
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}/api/v1/write`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      expect(req.headers['content-encoding']).toBe('snappy');
      expect(req.headers['content-type']).toBe('application/x-protobuf');
      expect(req.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
      const series = decodeWriteRequest(uncompress(Buffer.concat(chunks)));
      const samples = series.reduce((n, s) => n + s.samples.length, 0);
      const fault = this.faults.shift() ?? 'ok';
      this.requests.push({ samples, answer: fault });
      if (fault === '503' || fault === '429') return void res.writeHead(Number(fault)).end('try later');
      if (fault === 'cut-before-commit') return void req.socket.destroy();
      if (fault === '400') return void res.writeHead(400).end('bad request');
      // commit whole or not at all, as the TSDB appender does
      const pending = new Map<string, { tMs: number; value: number }[]>();
      for (const s of series) {
        const key = JSON.stringify(Object.entries(s.labels));
        const have = pending.get(key) ?? [...(this.stored.get(key) ?? [])];
        for (const x of s.samples) {
          const last = have.at(-1);
          if (last && x.tMs < last.tMs) return void res.writeHead(400).end('out of order sample');
          if (last && x.tMs === last.tMs) {
            if (x.value !== last.value) return void res.writeHead(400).end('duplicate sample for timestamp');
            continue;
          }
          have.push(x);
        }
        pending.set(key, have);
      }
      for (const [k, v] of pending) this.stored.set(k, v);
      if (fault === 'cut-after-commit') return void req.socket.destroy();
      res.writeHead(204).end();
    });
  }
}

function families(i: number): Family[] {
  return [
    { name: 'procsleuth_a', help: 'a', type: 'gauge', series: [{ labels: [['k', 'v"\\\n']], value: i }] },
    {
      name: 'procsleuth_b_total',
      help: 'b',
      type: 'counter',
      series: [
        { labels: [['mode', 'user']], value: i * 1.5 },
        { labels: [['mode', 'system']], value: -i },
      ],
    },
  ];
}

const quiet = jsonLogger(() => undefined, 'error');

async function until(what: string, f: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('protobuf encoding', () => {
  it('encodes WriteRequest as the wire format says, labels sorted, __name__ and node added', () => {
    const { body, samples } = encodeWriteRequest(families(7), 'n"1', 1_700_000_000_123);
    expect(samples).toBe(3);
    const d = decodeWriteRequest(body);
    expect(d).toEqual([
      {
        labels: { __name__: 'procsleuth_a', k: 'v"\\\n', node: 'n"1' },
        samples: [{ value: 7, tMs: 1_700_000_000_123 }],
      },
      {
        labels: { __name__: 'procsleuth_b_total', mode: 'user', node: 'n"1' },
        samples: [{ value: 10.5, tMs: 1_700_000_000_123 }],
      },
      {
        labels: { __name__: 'procsleuth_b_total', mode: 'system', node: 'n"1' },
        samples: [{ value: -7, tMs: 1_700_000_000_123 }],
      },
    ]);
    // NaN (Prometheus' staleness marker is a NaN too) and huge timestamps survive
    const nan = decodeWriteRequest(
      encodeWriteRequest(
        [{ name: 'x', help: '', type: 'gauge', series: [{ labels: [], value: NaN }] }],
        'n',
        2 ** 50,
      ).body,
    );
    expect(Number.isNaN(nan[0]?.samples[0]?.value)).toBe(true);
    expect(nan[0]?.samples[0]?.tMs).toBe(2 ** 50);
    expect(() =>
      encodeLabels([
        ['a', '1'],
        ['a', '2'],
      ]),
    ).toThrow(/duplicate label/);
    expect(() => encodeWriteRequest(families(1), 'n', -1)).toThrow(/bad timestamp/);
  });

  it('reuses label blocks across samples and forgets series that went away', () => {
    const cache = new Map<string, Uint8Array>();
    encodeWriteRequest(families(1), 'n', 1000, cache);
    expect(cache.size).toBe(3);
    const one = families(2).slice(0, 1);
    const { body } = encodeWriteRequest(one, 'n', 2000, cache);
    expect(cache.size).toBe(1);
    expect(decodeWriteRequest(body)[0]?.samples).toEqual([{ value: 2, tMs: 2000 }]);
  });
});

describe('on-disk buffer', () => {
  it('is bounded: past the bound the oldest samples go, counted, and the newest stay in order', () => {
    const path = join(dir, 'bound.rwq');
    const b = new SampleBuffer(path, 10_000);
    const body = new Uint8Array(1_000).fill(7);
    let dropped = 0;
    let droppedSamples = 0;
    for (let i = 0; i < 25; i++) {
      const r = b.append(i, 3, body);
      dropped += r.droppedEntries;
      droppedSamples += r.droppedSamples;
      expect(b.bytes).toBeLessThanOrEqual(10_000);
    }
    expect(b.entries).toBe(10);
    expect(dropped).toBe(15);
    expect(droppedSamples).toBe(45);
    expect(b.samples).toBe(30);
    expect(b.peek(1_000).map((e) => e.tMs)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    // peek takes whole samples up to the limit, at least one
    expect(b.peek(7).map((e) => e.tMs)).toEqual([15, 16]);
    expect(b.peek(1).map((e) => e.tMs)).toEqual([15]);
    b.ack(b.peek(6)[1]?.seq ?? 0);
    expect(b.entries).toBe(8);
    expect(b.bytes).toBe(8_000);
    b.close();
    // survives a restart with its counts
    const again = new SampleBuffer(path, 10_000);
    expect([again.entries, again.bytes, again.samples]).toEqual([8, 8_000, 24]);
    expect(again.peek(1)[0]?.tMs).toBe(17);
    again.close();
  });

  it('is held by one sender at a time', () => {
    const path = join(dir, 'locked.rwq');
    const first = new SampleBuffer(path, 1 << 20);
    first.append(1, 1, new Uint8Array(8));
    expect(() => new SampleBuffer(path, 1 << 20)).toThrow(/in use by another recorder/);
    first.close();
    const second = new SampleBuffer(path, 1 << 20);
    expect(second.entries).toBe(1);
    second.close();
  });

  it('refuses a file that is not its own', () => {
    const foreign = join(dir, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE precious (x)');
    db.close();
    expect(() => new SampleBuffer(foreign, 1 << 20)).toThrow(/not a procsleuth remote-write buffer/);
    const junk = join(dir, 'junk.rwq');
    writeFileSync(junk, 'not sqlite at all, not sqlite at all, not sqlite at all, not sqlite at all!');
    expect(() => new SampleBuffer(junk, 1 << 20)).toThrow();
  });
});

describe('delivery', () => {
  it('delivers every sample exactly once, in order, through every kind of failure', async () => {
    const rx = new Receiver();
    await rx.start();
    const w = new RemoteWriter({
      url: rx.url,
      bufferPath: join(dir, 'faults.rwq'),
      node: 'n',
      log: quiet,
      minBackoffMs: 10,
      maxBackoffMs: 80,
      timeoutMs: 2_000,
    });
    // healthy, then each fault while samples keep coming, so multi-sample catch-up requests happen
    rx.faults = ['ok', '503', '503', '429', 'cut-before-commit', 'ok', 'cut-after-commit', 'ok', '503', 'ok'];
    let t = 1_000;
    for (let i = 0; i < 40; i++) {
      w.push(families(i), (t += 100));
      await new Promise((r) => setTimeout(r, 5));
    }
    await until('the buffer to drain', () => w.health().bufferSamples === 0);
    // a receiver that refuses a multi-sample request whole: the sender splits it, nothing is lost
    rx.faults = ['503', '503', '400'];
    for (let i = 40; i < 60; i++) w.push(families(i), (t += 100));
    await until('the buffer to drain again', () => w.health().bufferSamples === 0);
    await w.close(1_000);
    await rx.close();

    const want = Array.from({ length: 60 }, (_, i) => 1_100 + i * 100);
    expect(rx.stored.size).toBe(3);
    for (const [, samples] of rx.stored) expect(samples.map((s) => s.tMs)).toEqual(want);
    const a = [...rx.stored].find(([k]) => k.includes('procsleuth_a'))?.[1];
    expect(a?.map((s) => s.value)).toEqual(want.map((_, i) => i));
    const h = w.health();
    expect(h.samplesSent + h.samplesRejected).toBe(180);
    expect(h.samplesDropped).toBe(0);
    expect(h.failures).toBeGreaterThanOrEqual(7);
    // there were catch-up requests holding several samples, and single-sample retries after the 400
    expect(Math.max(...rx.requests.map((r) => r.samples))).toBeGreaterThan(3);
    const after400 = rx.requests.slice(rx.requests.findIndex((r) => r.answer === '400') + 1);
    expect(after400[0]?.samples).toBe(3);
  });

  it('gives up a corrupt buffered entry after three tries and delivers the rest', async () => {
    const path = join(dir, 'corrupt.rwq');
    const b = new SampleBuffer(path, 1 << 20);
    b.append(500, 3, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02])); // not snappy
    for (let i = 1; i <= 3; i++)
      b.append(500 + i, 3, compress(encodeWriteRequest(families(i), 'n', 500 + i).body));
    b.close();
    const rx = new Receiver();
    await rx.start();
    const errors: string[] = [];
    const log = jsonLogger((l) => errors.push(l), 'error');
    const w = new RemoteWriter({
      url: rx.url,
      bufferPath: path,
      node: 'n',
      log,
      minBackoffMs: 10,
      maxBackoffMs: 20,
    });
    await until('the buffer to drain', () => w.health().bufferSamples === 0);
    await w.close(500);
    await rx.close();
    for (const [, samples] of rx.stored) expect(samples.map((s) => s.tMs)).toEqual([501, 502, 503]);
    expect(errors.filter((l) => l.includes('remote-write-error'))).toHaveLength(3);
  });

  it('keeps what the bound allows through a long outage: the newest samples, none twice', async () => {
    const rx = new Receiver();
    await rx.start();
    const port = rx.port;
    await rx.close(); // down: connections are refused
    const path = join(dir, 'outage.rwq');
    const w = new RemoteWriter({
      url: `http://127.0.0.1:${port}/api/v1/write`,
      bufferPath: path,
      node: 'n',
      log: quiet,
      maxBufferBytes: 2_000,
      minBackoffMs: 10,
      maxBackoffMs: 50,
    });
    const sizes: number[] = [];
    for (let i = 0; i < 50; i++) {
      w.push(families(i), 10_000 + i * 1_000);
      sizes.push(w.health().bufferBytes);
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2_000);
    const kept = w.health().bufferSamples / 3;
    expect(kept).toBeGreaterThan(5);
    expect(w.health().samplesDropped).toBe((50 - kept) * 3);
    await w.close(200); // the receiver is still down: the backlog stays on disk
    // back up on the same port; a new writer (a restarted recorder) sends the backlog
    const rx2 = new Receiver();
    await new Promise<void>((r) => rx2['server'].listen(port, '127.0.0.1', r));
    rx2.port = port;
    const w2 = new RemoteWriter({ url: rx2.url, bufferPath: path, node: 'n', log: quiet, minBackoffMs: 10 });
    await until('the backlog to arrive', () => w2.health().bufferSamples === 0);
    await w2.close(1_000);
    await rx2.close();
    const want = Array.from({ length: kept }, (_, i) => 10_000 + (50 - kept + i) * 1_000);
    for (const [, samples] of rx2.stored) expect(samples.map((s) => s.tMs)).toEqual(want);
  });
});

it('snappyjs round-trips what it compresses (the block format remote write uses)', () => {
  const data = new TextEncoder().encode('procsleuth_group_resident_bytes{node="n"} 1\n'.repeat(500));
  const z = compress(data);
  expect(z.length).toBeLessThan(data.length / 10);
  expect(Buffer.from(uncompress(z)).equals(Buffer.from(data))).toBe(true);
});
