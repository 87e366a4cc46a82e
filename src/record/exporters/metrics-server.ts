/**
 * `record --metrics-listen`: the last sample in the Prometheus text format at GET /metrics, on loopback
 * unless an address is given. The text is rendered once per sample (not per scrape) and gzipped once
 * when a scraper asks for it, so ten scrapers cost what one does. Nothing else is served: any other
 * path is 404, any other method 405.
 */
import http from 'node:http';
import { gzipSync } from 'node:zlib';

export interface ListenAddress {
  host: string;
  port: number;
}

/** `9464`, `:9464` and `127.0.0.1:9464` listen on loopback or the address given; `[::1]:9464` too. */
export function parseListen(spec: string): ListenAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(spec.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new Error(`--metrics-listen wants [ADDR:]PORT, got "${spec}"`);
  const raw = m[1] ?? '';
  const host = raw === '' ? '127.0.0.1' : raw.replace(/^\[|\]$/g, '');
  return { host, port };
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class MetricsServer {
  private text: string | undefined;
  private gz: Buffer | undefined;
  private readonly server: http.Server;
  scrapes = 0;

  private constructor(server: http.Server) {
    this.server = server;
  }

  static async start(addr: ListenAddress): Promise<MetricsServer> {
    const server = http.createServer();
    const ms = new MetricsServer(server);
    server.on('request', (req, res) => ms.handle(req, res));
    // A scraper's idle keep-alive connection must not keep the recorder from exiting.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(addr.port, addr.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return ms;
  }

  get address(): ListenAddress {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('not listening');
    return { host: a.address, port: a.port };
  }

  /** The text of the newest sample. */
  set(text: string): void {
    this.text = text;
    this.gz = undefined;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('procsleuth serves /metrics only\n');
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET', 'Content-Type': 'text/plain' }).end('GET only\n');
      return;
    }
    if (this.text === undefined) {
      res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '1' }).end('no sample yet\n');
      return;
    }
    this.scrapes++;
    const accept = String(req.headers['accept-encoding'] ?? '');
    if (/\bgzip\b/.test(accept)) {
      this.gz ??= gzipSync(this.text);
      res.writeHead(200, {
        'Content-Type': CONTENT_TYPE,
        'Content-Encoding': 'gzip',
        'Content-Length': this.gz.length,
      });
      res.end(this.gz);
      return;
    }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(this.text) });
    res.end(this.text);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
