/**
 * The Prometheus HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/): instant
 * `query` and `query_range`, POSTed as a form (a long selector does not hit a URL length limit), with
 * a timeout per request. Works against anything that serves the same API (Thanos, Mimir, VictoriaMetrics
 * — give the URL with its path prefix, e.g. http://mimir/prometheus).
 *
 *   {"status":"success","data":{"resultType":"matrix","result":[{"metric":{…},"values":[[t,"v"],…]}]}}
 *   {"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points…"}
 *
 * Every failure is a ProcsleuthError with code IO whose message names the URL and says what happened:
 * not reachable, no answer within the timeout, an HTTP status without the API's JSON, or the API's
 * own `status: "error"`.
 */
import { ProcsleuthError } from '../util/errors.js';
import type { MatrixSeries } from './series.js';

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** What the fleet analysis needs of a Prometheus. */
export interface PromSource {
  readonly url: string;
  query(q: string, timeMs: number): Promise<VectorSample[]>;
  queryRange(q: string, startMs: number, endMs: number, stepMs: number): Promise<MatrixSeries[]>;
}

interface ApiAnswer {
  status?: unknown;
  error?: unknown;
  errorType?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

const sec = (ms: number): string => (ms / 1000).toFixed(3);

export class PrometheusApi implements PromSource {
  readonly url: string;
  /** Requests made and bytes received (for the bench and the document's notes). */
  requests = 0;
  bytes = 0;

  constructor(
    url: string,
    private readonly o: { timeoutMs?: number; userAgent?: string } = {},
  ) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ProcsleuthError('USAGE', `--prometheus wants an http:// or https:// URL, got "${url}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new ProcsleuthError('USAGE', `--prometheus wants an http:// or https:// URL, got "${url}"`);
    this.url = u.href.replace(/\/+$/, '');
  }

  async query(q: string, timeMs: number): Promise<VectorSample[]> {
    const r = await this.post('query', { query: q, time: sec(timeMs) }, 'vector');
    return r as VectorSample[];
  }

  async queryRange(q: string, startMs: number, endMs: number, stepMs: number): Promise<MatrixSeries[]> {
    const r = await this.post(
      'query_range',
      { query: q, start: sec(startMs), end: sec(endMs), step: sec(stepMs) },
      'matrix',
    );
    return r as MatrixSeries[];
  }

  private async post(endpoint: string, form: Record<string, string>, want: string): Promise<unknown[]> {
    const target = `${this.url}/api/v1/${endpoint}`;
    const timeoutMs = this.o.timeoutMs ?? 30_000;
    const what = `Prometheus ${endpoint} at ${target}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'user-agent': this.o.userAgent ?? 'procsleuth',
        },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        throw new ProcsleuthError('IO', `${what}: no answer within ${timeoutMs / 1000} s (--timeout)`, {
          cause: err,
        });
      const why = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
      throw new ProcsleuthError('IO', `${what}: cannot connect (${why})`, { cause: err });
    }
    this.requests++;
    this.bytes += text.length;
    let doc: ApiAnswer | undefined;
    try {
      doc = JSON.parse(text) as ApiAnswer;
    } catch {
      doc = undefined;
    }
    if (doc && doc.status === 'error') {
      const type = typeof doc.errorType === 'string' ? `${doc.errorType}: ` : '';
      throw new ProcsleuthError(
        'IO',
        `${what} refused the query (HTTP ${res.status}, ${type}${String(doc.error)}); query: ${form['query']}`,
      );
    }
    if (!res.ok || !doc || doc.status !== 'success') {
      const snippet = text.slice(0, 200).replace(/\s+/g, ' ').trim();
      throw new ProcsleuthError(
        'IO',
        `${what}: HTTP ${res.status} ${res.statusText}${snippet ? ` — ${snippet}` : ''} (is this the Prometheus API?)`,
      );
    }
    const data = doc.data;
    if (!data || data.resultType !== want || !Array.isArray(data.result))
      throw new ProcsleuthError(
        'IO',
        `${what}: expected a ${want}, got ${data ? String(data.resultType) : 'no data'}; query: ${form['query']}`,
      );
    return data.result;
  }
}
