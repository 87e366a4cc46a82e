/**
 * The export half of issue 7 against the real engine (Debian's prometheus, loopback only):
 * 1. Prometheus scrapes `record --metrics-listen`: the series are queryable, every label survives the
 *    trip (a group whose arguments hold quotes, backslashes, a newline and non-ASCII text; a node name
 *    with a quote), and the scrape holds exactly the series the recorder says it exported.
 * 2. `record --remote-write` at 200 ms while Prometheus is stopped for 3 s and restarted on the same
 *    data directory: every sample the recorder enqueued is in Prometheus exactly once, at its time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, startCli, type Running } from '../record/helpers.js';
import { Prometheus, freePort, havePrometheus } from './prometheus.js';

// CI installs prometheus (.ci/run); elsewhere a missing binary skips rather than fails.
const run = havePrometheus || process.env['CI'] ? describe : describe.skip;

let dir: string;
const proms: Prometheus[] = [];
const recorders: Running[] = [];
const others: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-fleet-'));
});

afterAll(async () => {
  for (const r of recorders)
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  for (const c of others) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(proms.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function rawGet(
  port: number,
  headers: Record<string, string>,
): Promise<{ encoding: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
        );
      })
      .on('error', reject);
  });
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

run('Prometheus scrapes record --metrics-listen', () => {
  it('serves series Prometheus can query, labels intact, as many as the recorder exported', async () => {
    // A process whose group label needs every escape of the text format.
    const weird = ['we"ird\\name', 'line1\nline2', 'ünïcødé ✓'];
    const sh = spawn('/bin/sh', ['-c', 'sleep 60; :', ...weird], { stdio: 'ignore' });
    others.push(sh);
    const node = 'fleet "scrape" node';
    const rec = startCli([
      'record',
      '--interval',
      '500ms',
      '--db',
      join(dir, 'scrape.db'),
      '--metrics-listen',
      '127.0.0.1:0',
      '--node',
      node,
      // every group its own series: this test is about labels, not about the bound
      '--export-groups',
      '1000',
    ]);
    recorders.push(rec);
    const listen = await rec.waitFor((l) => l.event === 'metrics-listen');
    const port = listen.port as number;

    // What Prometheus will get, measured here for the figures.
    const plain = await fetch(`http://127.0.0.1:${port}/metrics`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await plain.text();
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);

    const promDir = mkdtempSync(join(dir, 'prom-scrape-'));
    const prom = new Prometheus({
      dir: promDir,
      port: await freePort(),
      config: `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: procsleuth\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
    });
    proms.push(prom);
    await prom.start();

    const up = await until('a successful scrape', async () => {
      const r = await prom.query('up{job="procsleuth"} == 1');
      return r.length > 0 ? r : undefined;
    });
    expect(up).toHaveLength(1);
    // Two scrapes in, so rate() has two points.
    await sleep(2_500);

    const sel = `node=${JSON.stringify(node)}`;
    const host = await prom.query(`procsleuth_host_memory_total_bytes{${sel}}`);
    expect(host).toHaveLength(1);
    expect(Number(host[0]?.value?.[1])).toBeGreaterThan(64 * 2 ** 20);

    const groups = await prom.query(`procsleuth_group_processes{${sel}}`);
    const weirdGroup = groups.find((g) => g.metric['group']?.includes('ird'));
    expect(weirdGroup?.metric['group']).toBe(`/usr/bin/dash -c sleep #; : ${weird.join(' ')}`);
    expect(weirdGroup?.value?.[1]).toBe('1');
    // The recorder itself is a group; its CPU counter gives a rate.
    const cpu = await prom.query(`sum(rate(procsleuth_group_cpu_seconds_total{${sel}}[5s]))`);
    expect(Number(cpu[0]?.value?.[1])).toBeGreaterThan(0);

    // Top-N: ranks 1..5 per resource, and who holds them.
    const ranks = await prom.query(`procsleuth_top_resident_bytes{${sel}}`);
    expect(ranks.map((r) => r.metric['rank']).sort()).toEqual(['1', '2', '3', '4', '5']);
    const info = await prom.query(
      `procsleuth_top_resident_bytes{${sel}} * on(node, rank) group_left(pid, comm) procsleuth_top_process_info{${sel}, resource="resident"}`,
    );
    expect(info).toHaveLength(5);
    for (const r of info) expect(r.metric['pid']).toMatch(/^\d+$/);

    // Health of the recorder's own sources.
    const ok = await prom.query(`procsleuth_recorder_source_success{${sel}}`);
    expect(Object.fromEntries(ok.map((r) => [r.metric['source'], r.value?.[1]]))).toEqual({
      sample: '1',
      store: '1',
    });

    // The last scrape holds exactly the series the recorder said it exported, never a series per PID.
    const [scraped, exported] = await Promise.all([
      prom.query('scrape_samples_scraped{job="procsleuth"}'),
      prom.query(`procsleuth_recorder_exported_series{${sel}}`),
    ]);
    expect(Number(scraped[0]?.value?.[1])).toBe(Number(exported[0]?.value?.[1]));
    const perPid = await prom.query(`count by (__name__) ({${sel}, pid!=""})`);
    expect(perPid.map((r) => r.metric['__name__'])).toEqual(['procsleuth_top_process_info']);

    const gz = await rawGet(port, { 'accept-encoding': 'gzip' });
    expect(gz.encoding).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toMatch(/^# HELP procsleuth_/);
    console.log(
      `[figures] scrape: ${text.split('\n').filter((l) => l && !l.startsWith('#')).length} series, ` +
        `${Buffer.byteLength(text)} bytes plain, ${gz.body.length} bytes gzip`,
    );

    rec.child.kill('SIGTERM');
    expect((await rec.exited).code).toBe(0);
    sh.kill('SIGKILL');
  });
});

run('record --remote-write through an outage of Prometheus', () => {
  it('delivers every sample exactly once, in order, after Prometheus was down for 3 s', async () => {
    const promDir = mkdtempSync(join(dir, 'prom-rw-'));
    const prom = new Prometheus({
      dir: promDir,
      port: await freePort(),
      config: 'global:\n  scrape_interval: 1m\n',
    });
    proms.push(prom);
    await prom.start();
    const node = 'rw-node';
    const rec = startCli([
      'record',
      '--interval',
      '200ms',
      '--db',
      join(dir, 'rw.db'),
      '--remote-write',
      `${prom.url}/api/v1/write`,
      '--node',
      node,
      '--log-level',
      'debug',
    ]);
    recorders.push(rec);
    const enqueued = (): Record<string, unknown>[] =>
      rec.logs().filter((l) => l.event === 'remote-write-enqueued');
    await until('10 samples', async () => (enqueued().length >= 10 ? true : undefined));

    await prom.stop();
    const downAt = enqueued().length;
    await rec.waitFor((l) => l.event === 'remote-write-failing', 10_000);
    await sleep(3_000);
    const buffered = enqueued().length - downAt;
    expect(buffered).toBeGreaterThanOrEqual(10);
    await prom.start();
    await rec.waitFor((l) => l.event === 'remote-write-recovered', 20_000);
    await rec.waitFor((l) => l.event === 'remote-write-caught-up', 20_000);
    await sleep(1_000);
    rec.child.kill('SIGTERM');
    expect((await rec.exited).code).toBe(0);

    const logs = rec.logs();
    const stop = logs.find((l) => l.event === 'remote-write-stop');
    expect(stop?.samples).toBe(0); // nothing left in the buffer
    const times = enqueued().map((l) => l.tMs as number);
    expect(new Set(times).size).toBe(times.length);
    const seriesPerSample = enqueued().map((l) => l.series as number);

    // Raw samples of one host series: exactly the recorder's sample times, each once.
    const nowSec = Date.now() / 1000;
    const load = await prom.query(`procsleuth_host_load1{node="${node}"}[10m]`, nowSec);
    expect(load).toHaveLength(1);
    const got = (load[0]?.values ?? []).map(([t]) => Math.round(t * 1000));
    expect(got).toEqual(times);

    // Every host and recorder series has one sample per recorder sample.
    const raw = await prom.query(
      `{node="${node}", __name__=~"procsleuth_(host|recorder)_.*", source!="remote_write"}[10m]`,
      nowSec,
    );
    expect(raw.length).toBeGreaterThan(40);
    for (const r of raw)
      expect([r.metric['__name__'], r.values?.length]).toEqual([r.metric['__name__'], times.length]);
    // The same through query_range, as a dashboard would ask it: one point per step, every step.
    const startSec = Math.ceil(times[0]! / 1000);
    const endSec = Math.floor(times.at(-1)! / 1000);
    const range = await prom.queryRange(
      `procsleuth_host_memory_total_bytes{node="${node}"}`,
      startSec,
      endSec,
      1,
    );
    expect(range[0]?.values.length).toBe(endSec - startSec + 1);

    // And in all, Prometheus holds as many samples as were enqueued (series come and go, e.g. top-N ranks).
    const all = await prom.query(`{node="${node}"}[10m]`, nowSec);
    const stored = all.reduce((n, r) => n + (r.values?.length ?? 0), 0);
    expect(stored).toBe(seriesPerSample.reduce((a, b) => a + b, 0));

    const recovered = logs.find((l) => l.event === 'remote-write-recovered');
    console.log(
      `[figures] remote write: ${times.length} samples × ~${Math.round(seriesPerSample.reduce((a, b) => a + b, 0) / times.length)} series; ` +
        `outage ${recovered?.outageMs} ms buffered ${buffered} samples; ` +
        `bytes per sample (snappy) ${Math.round(enqueued().reduce((a, l) => a + (l.bytes as number), 0) / times.length)}`,
    );
  });
});
