/**
 * The dashboard's HTTP API on a generated record, over real HTTP on a loopback port: documents, sorting,
 * input validation, the token, the Host check against DNS rebinding, and what no endpoint may do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordReader, Store } from '../../src/store/index.js';
import { Api, parseSince } from '../../src/server/api.js';
import { isLoopback, startServer, type RunningServer } from '../../src/server/server.js';
import { parseListen, serveCommand } from '../../src/cli/serve.js';
import { UsageError } from '../../src/util/errors.js';
import { generateRecord } from '../report/gen.js';

let dir: string;
let store: Store;
let open: RunningServer;
let locked: RunningServer;
const TOKEN = 'sekrit-token-42';
/** What `procsleuth serve` gives the server: the CLI's own detectors. */
const DETECTORS = {
  leaks: new URL('../../src/cli/leaks.ts', import.meta.url).href,
  spikes: new URL('../../src/cli/spikes.ts', import.meta.url).href,
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'procsleuth-api-'));
  const db = join(dir, 'gen.db');
  generateRecord(db, {
    processes: 40,
    samples: 400,
    intervalMs: 10_000,
    argv0: ['/usr/bin/nginx', '--password', 'PL4NTED-API'],
  });
  store = Store.open(db, { mode: 'read' });
  const api = new Api({
    reader: new RecordReader(store),
    redact: true,
    version: 'test',
    detectors: DETECTORS,
    suspectsMinIntervalMs: 60_000,
  });
  open = await startServer({ host: '127.0.0.1', port: 0, token: undefined, api, refreshMs: 0 });
  locked = await startServer({ host: '127.0.0.1', port: 0, token: TOKEN, api, refreshMs: 0 });
}, 60_000);

afterAll(async () => {
  await open?.close();
  await locked?.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(
  path: string,
  init: RequestInit = {},
  srv = open,
): Promise<{ status: number; json: Record<string, unknown>; text: string }> {
  const r = await fetch(srv.url + path, init);
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // pages and scripts are not JSON
  }
  return { status: r.status, json, text };
}

describe('API documents', () => {
  it('overview: host series as charts, newest values, TCP states and remotes', async () => {
    const r = await get('/api/overview?since=all&points=100');
    expect(r.status).toBe(200);
    const charts = r.json['charts'] as { id: string; t: number[]; series: { values: (number | null)[] }[] }[];
    expect(charts.map((c) => c.id)).toEqual(['ov-cpu', 'ov-load', 'ov-mem', 'ov-tcp', 'ov-files']);
    expect(charts[0]!.t.length).toBeLessThanOrEqual(100);
    expect(charts[0]!.series[0]!.values.filter((v) => v !== null).length).toBeGreaterThan(50);
    const now = r.json['now'] as Record<string, number>;
    expect(now['memTotalBytes']).toBe(8 * 2 ** 30);
    expect(now['processes']).toBe(40);
    expect(JSON.stringify(r.json['tcp'])).toContain('10.0.9.9');
  });

  it('processes: sorted as asked, flat or grouped, secrets redacted', async () => {
    const r = await get('/api/processes?sort=fds&order=desc');
    const rows = r.json['rows'] as { pid: number; fds: number; cmdline: string }[];
    expect(rows.length).toBe(40);
    expect(rows.map((x) => x.fds)).toEqual([...rows.map((x) => x.fds)].sort((a, b) => b - a));
    expect(rows[0]!.pid).toBe(1004);
    const asc = (await get('/api/processes?sort=pid&order=asc&limit=5')).json['rows'] as { pid: number }[];
    expect(asc.map((x) => x.pid)).toEqual([1000, 1001, 1002, 1003, 1004]);
    const g = (await get('/api/processes?group=1&sort=count')).json['rows'] as {
      group: string;
      count: number;
    }[];
    expect(g.length).toBeGreaterThanOrEqual(10);
    const r0 = rows.find((x) => x.pid === 1000)!;
    expect(r0.cmdline).toBe('/usr/bin/nginx --password [redacted]');
    expect(r.text + JSON.stringify(g)).not.toContain('PL4NTED');
  });

  it('suspects: pending at first, then the planted leakers as procsleuth leaks and spikes find them', async () => {
    type Doc = {
      pending: boolean;
      computedAt: string | null;
      leaks: {
        schema: string;
        suspects: {
          entity: { kind: string; pid?: number; label: string };
          metric: string;
          verdict: string;
        }[];
      } | null;
      spikes: { schema: string; spikes: { entity: { pid?: number }; persistent: boolean }[] } | null;
      chart: { marks: unknown[] } | null;
    };
    // A window never asked before has no result yet: it is computed in the worker, not on this request.
    const first = (await get('/api/suspects?since=all')).json as unknown as Doc;
    expect(first.pending).toBe(true);
    expect(first.leaks).toBeNull();
    expect(first.computedAt).toBeNull();
    let d = first;
    for (let i = 0; i < 300 && d.pending; i++) {
      await new Promise((r) => setTimeout(r, 100));
      d = (await get('/api/suspects?since=all')).json as unknown as Doc;
    }
    expect(d.pending).toBe(false);
    expect(Date.parse(d.computedAt ?? '')).toBeGreaterThan(0);
    expect(d.leaks?.schema).toBe('procsleuth.leaks/1');
    const leaks = d.leaks!.suspects.filter((x) => x.verdict === 'leak' && x.entity.kind === 'process');
    expect(leaks.map((x) => `${x.entity.pid}/${x.metric}`).sort()).toEqual([
      '1003/anon',
      '1004/fds',
      '1005/close_wait',
    ]);
    expect(JSON.stringify(d.leaks)).not.toContain('PL4NTED');
    // The generated CPU spike of process index 1, with its onset marked on the host chart.
    expect(d.spikes?.schema).toBe('procsleuth.spikes/1');
    expect(d.spikes!.spikes.some((x) => x.entity.pid === 1001)).toBe(true);
    expect(d.chart?.marks.length).toBeGreaterThan(0);
  });

  it('process: identity, series, and the leak verdicts of procsleuth leaks; unknown PID is 404', async () => {
    type Leaks = {
      pending: boolean;
      suspects: { metric: string; verdict: string; chart: { series: { label: string }[] } }[];
      related: { kind: string; metric: string }[];
    };
    let r = await get('/api/process/1004?since=all');
    expect(r.status).toBe(200);
    // The verdicts come from the detectors' background run over the window, as /api/suspects has them.
    for (let i = 0; i < 300 && (r.json['leaks'] as Leaks).pending; i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await get('/api/process/1004?since=all');
    }
    const leaks = r.json['leaks'] as Leaks;
    expect(leaks.pending).toBe(false);
    expect(leaks.suspects.map((l) => `${l.metric}/${l.verdict}`)).toEqual(['fds/leak']);
    expect(leaks.suspects[0]!.chart.series.map((s) => s.label)).toEqual(['open fds', 'fitted trend']);
    const mem = (await get('/api/process/1003?since=all')).json['leaks'] as Leaks;
    expect(mem.suspects.map((l) => `${l.metric}/${l.verdict}`)).toEqual(['anon/leak']);
    expect((await get('/api/process/1000?since=all')).json['leaks']).toMatchObject({ suspects: [] });
    expect((r.json['charts'] as unknown[]).length).toBe(4);
    expect(r.json['liveOnThisHost']).toBe(false);
    expect((await get('/api/process/99999')).status).toBe(404);
    // fds and maps only for a process alive on this boot: the generated record is from another boot.
    expect((await get('/api/process/1004/fds')).status).toBe(409);
    expect((await get('/api/process/1004/maps')).status).toBe(409);
  });

  it('suspects without detectors say they are unavailable', async () => {
    const api = new Api({ reader: new RecordReader(store), redact: true, version: 'test' });
    const srv = await startServer({ host: '127.0.0.1', port: 0, token: undefined, api, refreshMs: 0 });
    try {
      const r = await get('/api/suspects', {}, srv);
      expect(r.status).toBe(200);
      expect(r.json['available']).toBe(false);
      expect(r.json['pending']).toBe(false);
    } finally {
      await srv.close();
    }
  });

  it('findings without a triage source say so', async () => {
    const r = await get('/api/findings');
    expect(r.json['available']).toBe(false);
  });
});

describe('API input validation and safety', () => {
  it.each([
    '/api/process/0',
    '/api/process/-1',
    '/api/process/1e3',
    '/api/process/12345678901',
    '/api/process/4194305',
    '/api/process/1%2F..%2F..%2Fetc%2Fpasswd',
    '/api/process/1003?since=yesterday',
    '/api/process/1003?points=1',
    '/api/process/1003?points=999999',
    '/api/process/1003?start=-4',
    '/api/overview?since=1y',
    '/api/overview?since=' + 'x'.repeat(100),
    '/api/processes?sort=password',
    '/api/processes?order=sideways',
    '/api/processes?limit=0',
  ])('%s is 400', async (path) => {
    const r = await get(path);
    expect(r.status).toBe(400);
    expect(typeof r.json['error']).toBe('string');
  });

  it.each([
    '/etc/passwd',
    '/static/../../etc/passwd',
    '/api/../etc/passwd',
    '/api/exec?cmd=id',
    '/static/',
    '/api/process/1003/environ',
  ])('%s is 404 and reads nothing', async (path) => {
    const r = await get(path);
    expect([404]).toContain(r.status);
    expect(r.text).not.toContain('root:');
  });

  it('only GET and HEAD', async () => {
    expect((await get('/api/overview', { method: 'POST' })).status).toBe(405);
    expect((await get('/api/overview', { method: 'DELETE' })).status).toBe(405);
    const head = await fetch(open.url + '/api/processes', { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('without a token, a Host header that is not loopback is refused (DNS rebinding)', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        open.url + '/api/overview',
        { headers: { host: 'evil.example:80' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('with a token: 401 without it, with a wrong one; bearer and cookie work; the page and scripts too', async () => {
    expect((await get('/api/overview', {}, locked)).status).toBe(401);
    expect((await get('/', {}, locked)).status).toBe(401);
    expect((await get('/static/app.js', {}, locked)).status).toBe(401);
    expect(
      (await get('/api/overview', { headers: { authorization: 'Bearer nope-nope-nope' } }, locked)).status,
    ).toBe(401);
    expect(
      (await get('/api/overview', { headers: { authorization: `Bearer ${TOKEN}` } }, locked)).status,
    ).toBe(200);
    const login = await fetch(locked.url + `/?token=${TOKEN}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const r = await get('/api/processes', { headers: { cookie: cookie.split(';')[0]! } }, locked);
    expect(r.status).toBe(200);
    const page = await fetch(locked.url + '/', { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

describe('listen addresses', () => {
  it('knows loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1'])
      expect(isLoopback(h)).toBe(false);
  });

  it('parses --listen and refuses garbage', () => {
    expect(parseListen('127.0.0.1:8017')).toEqual({ host: '127.0.0.1', port: 8017 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    for (const bad of ['8017', '127.0.0.1', '127.0.0.1:99999', 'a b:1', ':80'])
      expect(() => parseListen(bad)).toThrow(UsageError);
  });

  it('serve refuses a non-loopback address without a token, and a short token', async () => {
    const io = { out: () => undefined, err: () => undefined, isTTY: false, env: {} };
    const db = join(dir, 'gen.db');
    await expect(serveCommand.run(['--listen', '0.0.0.0:0', '--db', db], io)).rejects.toThrow(/--token/);
    await expect(serveCommand.run(['--listen', '10.1.2.3:8017', '--db', db], io)).rejects.toThrow(UsageError);
    await expect(
      serveCommand.run(['--listen', '0.0.0.0:0', '--db', db, '--token', 'short'], io),
    ).rejects.toThrow(/8 characters/);
  });

  it('refuses to listen beyond loopback without a token', async () => {
    const api = new Api({ reader: new RecordReader(store), redact: true, version: 'test' });
    await expect(
      startServer({ host: '0.0.0.0', port: 0, token: undefined, api, refreshMs: 0 }),
    ).rejects.toThrow(/token/);
  });

  it('parses windows', () => {
    const now = Date.parse('2025-01-31T12:00:00Z');
    expect(parseSince('2h', now)).toBe(now - 7_200_000);
    expect(parseSince('all', now)).toBeUndefined();
    expect(parseSince('2025-01-30T00:00Z', now)).toBe(Date.parse('2025-01-30T00:00Z'));
    expect(parseSince('999999d', now)).toBe(now - 400 * 86_400_000);
  });
});
