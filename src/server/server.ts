/**
 * The dashboard's HTTP server (node:http, no framework). Security, in order of the checks:
 * - It binds to loopback unless told otherwise, and any other address needs a token (the CLI refuses).
 * - With a token, every request but the login redirect needs it: `Authorization: Bearer T`, or the
 *   HttpOnly SameSite=Strict cookie that `/?token=T` sets. Compared in constant time. Else 401.
 * - Without a token (loopback only), the Host header must name a loopback host: a web page the user
 *   visits cannot reach the API through DNS rebinding.
 * - GET and HEAD only. Routes are a fixed table; static files are served from memory, never from a
 *   path a client names; inputs (PIDs, windows, sorts) are validated in api.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chartAssets } from '../report/html/assets.js';
import { CHART_JS, TABLE_JS } from '../report/html/client.js';
import { STYLE_CSS } from '../report/html/style.js';
import { Api, ApiError } from './api.js';
import { APP_JS, DASHBOARD_HTML } from './page.js';

export interface ServerOptions {
  host: string;
  port: number;
  token: string | undefined;
  api: Api;
  /** How often to look for new samples and refresh the views and suspects in the background (0: never). */
  refreshMs?: number;
  log?: (line: Record<string, unknown>) => void;
}

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

const COOKIE = 'procsleuth_token';
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1'
  );
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function tokenMatches(given: string | undefined, want: Buffer): boolean {
  if (given === undefined || given === '') return false;
  return timingSafeEqual(digest(given), want);
}

function cookieToken(req: IncomingMessage): string | undefined {
  const c = req.headers.cookie;
  if (!c) return undefined;
  for (const part of c.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

function bearer(req: IncomingMessage): string | undefined {
  const a = req.headers.authorization;
  const m = a ? /^Bearer\s+(\S+)$/i.exec(a) : null;
  return m?.[1];
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'cross-origin-resource-policy': 'same-origin',
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(doc));
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  if (!isLoopback(o.host) && !o.token) throw new Error('listening beyond loopback needs a token');
  const assets = chartAssets();
  const want = o.token ? digest(o.token) : undefined;
  const statics: Record<string, [string, string]> = {
    '/static/uplot.js': ['text/javascript; charset=utf-8', assets.js],
    '/static/uplot.css': ['text/css; charset=utf-8', assets.css],
    '/static/charts.js': ['text/javascript; charset=utf-8', CHART_JS],
    '/static/tables.js': ['text/javascript; charset=utf-8', TABLE_JS],
    '/static/app.js': ['text/javascript; charset=utf-8', APP_JS],
    '/static/style.css': ['text/css; charset=utf-8', STYLE_CSS],
  };
  let port = o.port;
  const api = o.api;
  const log = o.log ?? (() => undefined);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return sendJson(res, 400, { error: 'bad request line' });
    }
    const path = url.pathname;
    if (method !== 'GET' && method !== 'HEAD')
      return send(res, 405, 'text/plain', 'GET only\n', { allow: 'GET, HEAD' });
    if (!want) {
      // DNS rebinding: a hostile page resolving its own name to 127.0.0.1 sends its own Host header.
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(host)) return sendJson(res, 403, { error: 'Host header must name a loopback address' });
    } else {
      const q = url.searchParams.get('token');
      if (path === '/' && q !== null) {
        if (!tokenMatches(q, want)) return sendJson(res, 401, { error: 'wrong token' });
        return send(res, 303, 'text/plain', 'see /\n', {
          location: '/',
          'set-cookie': `${COOKIE}=${encodeURIComponent(q)}; HttpOnly; SameSite=Strict; Path=/`,
        });
      }
      if (!tokenMatches(bearer(req), want) && !tokenMatches(cookieToken(req), want))
        return send(
          res,
          401,
          'application/json; charset=utf-8',
          JSON.stringify({ error: 'token required: Authorization: Bearer TOKEN, or open /?token=TOKEN' }),
          {
            'www-authenticate': 'Bearer realm="procsleuth"',
          },
        );
    }
    try {
      if (path === '/' || path === '/index.html')
        return send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, { 'content-security-policy': CSP });
      const st = statics[path];
      if (st) return send(res, 200, st[0], st[1], { 'cache-control': 'max-age=300' });
      if (path === '/api' || path === '/api/') return sendJson(res, 200, api.index());
      const q = url.searchParams;
      let doc: unknown;
      const m = /^\/api\/process\/([^/]+)(\/fds|\/maps)?$/.exec(path);
      if (path === '/api/overview') doc = await api.overview(q);
      else if (path === '/api/processes') doc = api.processes(q);
      else if (path === '/api/findings') doc = await api.findings();
      else if (path === '/api/suspects') doc = api.suspects(q);
      else if (m && m[2] === '/fds') doc = await api.fds(m[1]);
      else if (m && m[2] === '/maps') doc = api.maps(m[1]);
      else if (m) doc = api.process(m[1], q);
      else return sendJson(res, 404, { error: 'no such endpoint; see /api/' });
      sendJson(res, 200, doc);
    } catch (err) {
      if (err instanceof ApiError) return sendJson(res, err.status, { error: err.message });
      log({
        level: 'error',
        msg: 'request failed',
        path,
        error: err instanceof Error ? err.message : String(err),
      });
      return sendJson(res, 500, { error: 'internal error' });
    } finally {
      log({ level: 'debug', msg: 'request', path, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  // The workers compute the default views before the server is announced, so a first request finds
  // them ready; then newer samples are picked up on each tick.
  try {
    await api.start(log);
  } catch (err) {
    server.closeAllConnections();
    server.close();
    throw err;
  }
  const timer = o.refreshMs === 0 ? undefined : setInterval(() => api.tick(), o.refreshMs ?? 1000);
  timer?.unref();

  const shown = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    server,
    port,
    url: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }).then(() => api.stop()),
  };
}
