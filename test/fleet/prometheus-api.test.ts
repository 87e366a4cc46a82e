/**
 * The fleet commands' Prometheus client meets the ways a query fails, on a loopback server that answers
 * like Prometheus (or like something that is not): nobody listening, no answer in time, an HTTP error
 * page, the API's own `status: "error"`, and an answer of the wrong type. Each message names the URL and
 * what went wrong; through the CLI each is exit code 2.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusApi } from '../../src/fleet/prometheus-api.js';
import { fleetLeaks } from '../../src/fleet/analyze.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from './prometheus.js';

type Handler = (path: string, form: URLSearchParams, res: http.ServerResponse) => void;
let handler: Handler = () => undefined;
const seen: { path: string; form: URLSearchParams }[] = [];
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (s: string) => (body += s));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      seen.push({ path: req.url ?? '', form });
      handler(req.url ?? '', form, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/prefix`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const json = (res: http.ServerResponse, status: number, doc: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(doc));
};

describe('PrometheusApi', () => {
  it('POSTs query_range under the URL prefix and returns the matrix', async () => {
    handler = (_p, _f, res) =>
      json(res, 200, {
        status: 'success',
        data: { resultType: 'matrix', result: [{ metric: { node: 'a' }, values: [[1, '2']] }] },
      });
    seen.length = 0;
    const api = new PrometheusApi(`${url}/`);
    const r = await api.queryRange('up', 1_000, 61_000, 250);
    expect(r).toEqual([{ metric: { node: 'a' }, values: [[1, '2']] }]);
    expect(seen[0]?.path).toBe('/prefix/api/v1/query_range');
    expect(Object.fromEntries(seen[0]?.form ?? [])).toEqual({
      query: 'up',
      start: '1.000',
      end: '61.000',
      step: '0.250',
    });
  });

  it('says what failed, naming the URL', async () => {
    const api = new PrometheusApi(url, { timeoutMs: 300 });
    handler = (_p, _f, res) =>
      json(res, 400, {
        status: 'error',
        errorType: 'bad_data',
        error: 'exceeded maximum resolution of 11,000 points per timeseries',
      });
    await expect(api.queryRange('up', 0, 1, 1)).rejects.toThrow(
      /query_range at http:\/\/127\.0\.0\.1:\d+\/prefix\/api\/v1\/query_range refused the query \(HTTP 400, bad_data: exceeded maximum resolution.*query: up/,
    );
    handler = (_p, _f, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body>Bad Gateway</body></html>');
    };
    await expect(api.query('up', 0)).rejects.toThrow(
      /HTTP 502 Bad Gateway — <html><body>Bad Gateway.*is this the Prometheus API/,
    );
    handler = (_p, _f, res) =>
      json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [0, '1'] } });
    await expect(api.query('1', 0)).rejects.toThrow(/expected a vector, got scalar/);
    handler = () => undefined; // never answers
    await expect(api.query('up', 0)).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/no answer within 0\.3 s/),
    });
    const closed = new PrometheusApi(`http://127.0.0.1:${await freePort()}`);
    await expect(closed.query('up', 0)).rejects.toThrow(/cannot connect \(ECONNREFUSED\)/);
    expect(() => new PrometheusApi('ftp://x')).toThrow(/wants an http/);
  });

  it('an empty fleet is a document that says where it looked, not an error', async () => {
    handler = (_p, _f, res) =>
      json(res, 200, { status: 'success', data: { resultType: 'vector', result: [] } });
    const doc = await fleetLeaks(new PrometheusApi(url), {
      startMs: 0,
      endMs: 3_600_000,
      nodeRegex: 'web-.*',
    });
    expect(doc.scanned.nodes).toBe(0);
    expect(doc.suspects).toEqual([]);
    expect(doc.notes[0]).toMatch(
      /no procsleuth series \(procsleuth_recorder_interval_seconds\{node=~"web-\.\*"\}\)/,
    );
  });
});

describe('fleetLeaks over a range longer than one request may ask for', () => {
  it('fetches it in chunks of at most 10,000 steps on one grid and judges the whole series', async () => {
    seen.length = 0;
    handler = (path, form, res) => {
      const q = form.get('query') ?? '';
      if (path.endsWith('/query')) {
        // discovery (interval 1 s) and the memory headroom: one node
        const v = q.includes('recorder_interval') ? '1' : String(8 * 2 ** 30);
        json(res, 200, {
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: { node: 'a' }, value: [0, v] }] },
        });
        return;
      }
      const start = Number(form.get('start'));
      const end = Number(form.get('end'));
      const step = Number(form.get('step'));
      const values: [number, string][] = [];
      for (let t = start; t <= end + 1e-9; t += step) values.push([Math.round(t * 1000) / 1000, '5']);
      json(res, 200, {
        status: 'success',
        data: { resultType: 'matrix', result: [{ metric: { node: 'a', group: 'g' }, values }] },
      });
    };
    const startMs = Date.parse('2026-01-01T00:00:00Z');
    const doc = await fleetLeaks(new PrometheusApi(url), { startMs, endMs: startMs + 3 * 3_600_000 });
    const ranges = seen.filter((r) => r.path.endsWith('/query_range'));
    // 7 leak metrics × 2 chunks (10,801 steps at the 1 s interval)
    expect(ranges).toHaveLength(14);
    for (const r of ranges) {
      const points =
        Math.floor((Number(r.form.get('end')) - Number(r.form.get('start'))) / Number(r.form.get('step'))) +
        1;
      expect(points).toBeLessThanOrEqual(10_000);
      expect(r.form.get('step')).toBe('1.000');
    }
    expect(doc.source.stepMs).toBe(1_000);
    expect(doc.samples).toBe(7 * 10_801);
    expect(doc.from).toBe('2026-01-01T00:00:00.000Z');
    expect(doc.to).toBe('2026-01-01T03:00:00.000Z');
    expect(doc.suspects).toEqual([]);
  });
});

describe('the fleet options of leaks and spikes', () => {
  it('exit 2 with a message for a bad option or an unreachable Prometheus', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const cases: [string[], RegExp][] = [
      [['leaks', '--prometheus', 'nope'], /--prometheus wants an http/],
      [['leaks', '--prometheus', dead, '--db', '/tmp/x.db'], /--prometheus excludes --db/],
      [['spikes', '--node', 'a'], /--node goes with --prometheus/],
      [['spikes', '--prometheus', dead, '--since', '1h', '--until', '2h'], /range is empty/],
      [['leaks', '--prometheus', dead, '--node', '('], /--node wants a regular expression/],
      [['leaks', '--prometheus', dead], /Prometheus query at .* cannot connect \(ECONNREFUSED\)/],
      [['spikes', '--prometheus', dead, '--json'], /cannot connect/],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(args);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(msg)]);
    }
  });
});
