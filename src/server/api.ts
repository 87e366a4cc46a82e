/**
 * The dashboard's JSON API over one record: pure request → document functions with validated inputs.
 * Reading a day of 1,000 processes costs hundreds of milliseconds, so each document is cached per
 * (query, newest sample): a static record is read once, and while a recorder writes, a background
 * refresh (server.ts) recomputes the default views right after each new sample so requests find them
 * ready. Nothing here reads a file named by a client or runs a command: fds and mappings are read
 * from /proc only for a PID the record knows, alive on this very boot with the recorded start time.
 */
import { TCP_STATES } from '../collect/types.js';
import type { TriageReport } from '../rules/types.js';
import type { RecordReader, Timeline } from '../store/index.js';
import { RecordView, groupLatest, thin, type Columns, type ProcessLatest } from '../report/html/data.js';
import {
  LEAK_POINTS,
  analyseLeaks,
  entityCharts,
  findSpikes,
  hostCharts,
  lastFinite,
  leakOf,
} from '../report/html/model.js';
import { redactDeep } from '../report/redact.js';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface LiveAccess {
  /** This host's boot id: fds and maps are read only for processes recorded on this boot. */
  bootId: string | undefined;
  fds(pid: number): Promise<unknown>;
  maps(pid: number): unknown;
  /** The live process (its start time proves it is the recorded one) and its soft fd limit. */
  process(pid: number): { startTimeTicks: number; fdLimit: number | 'unlimited' | undefined } | undefined;
}

export interface ApiOptions {
  reader: RecordReader;
  redact: boolean;
  version: string;
  /** A triage of this host now (injected by the CLI, which owns the tracers and rules wiring). */
  findings?: (() => Promise<TriageReport>) | undefined;
  live?: LiveAccess | undefined;
  /** How long a triage is reused. */
  findingsTtlMs?: number;
  now?: () => number;
}

const SORTS = ['cpu', 'rss', 'pss', 'fds', 'sockets', 'pid', 'comm', 'count'] as const;
type Sort = (typeof SORTS)[number];
const MAX_POINTS = 5000;
const DAY_MS = 86_400_000;

/** `2h`, `30m`, `7d`, or an ISO date; bounded to 400 days back. */
export function parseSince(v: string | null, now: number): number | undefined {
  if (v === null || v === '' || v === 'all') return undefined;
  if (v.length > 40) throw new ApiError(400, 'since: too long');
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(v);
  let t: number;
  if (m) t = now - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS }[m[2] as 's'];
  else if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?$/.test(v)) t = Date.parse(v);
  else throw new ApiError(400, 'since: want a duration like 30m, 2h, 7d or a date like 2025-01-31T12:00Z');
  if (!Number.isFinite(t)) throw new ApiError(400, 'since: not a date');
  return Math.max(t, now - 400 * DAY_MS);
}

export function parsePid(v: string | undefined): number {
  if (v === undefined || !/^[1-9]\d{0,6}$/.test(v) || Number(v) > 4_194_304)
    throw new ApiError(400, 'pid: want a whole number from 1 to 4194304');
  return Number(v);
}

function parseInt10(v: string | null, name: string, dflt: number, min: number, max: number): number {
  if (v === null || v === '') return dflt;
  if (!/^\d{1,7}$/.test(v) || Number(v) < min || Number(v) > max)
    throw new ApiError(400, `${name}: want a whole number from ${min} to ${max}`);
  return Number(v);
}

export class Api {
  private readonly o: ApiOptions;
  readonly view: RecordView;
  private readonly cache = new Map<string, { sample: number; value: unknown }>();
  private findingsCache: { at: number; value: Promise<TriageReport> } | undefined;
  private latestCache: { sample: number; rows: ProcessLatest[] } | undefined;
  private timelineCache: { key: string; t: Timeline } | undefined;
  private hostCache: { t: Timeline; host: Columns } | undefined;

  constructor(o: ApiOptions) {
    this.o = o;
    this.view = new RecordView(o.reader);
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** The newest sample id: the cache key's version. */
  version(): number {
    return this.view.latestSample()?.id ?? 0;
  }

  private cached<T>(key: string, f: () => T): T {
    const v = this.version();
    const c = this.cache.get(key);
    if (c && c.sample === v) return c.value as T;
    const value = f();
    this.cache.set(key, { sample: v, value });
    if (this.cache.size > 200) this.cache.delete(this.cache.keys().next().value as string);
    return value;
  }

  private out<T>(doc: T): T {
    return this.o.redact ? redactDeep(doc) : doc;
  }

  private timeline(sinceMs: number | undefined): Timeline {
    // Relative windows move with the clock: key them on the newest sample, not on the exact ms.
    const key = `${sinceMs === undefined ? 'all' : Math.floor(sinceMs / 60_000)}:${this.version()}`;
    if (this.timelineCache?.key === key) return this.timelineCache.t;
    const t = this.o.reader.timeline(sinceMs ?? 0);
    this.timelineCache = { key, t };
    return t;
  }

  private host(t: Timeline): Columns {
    if (this.hostCache?.t === t) return this.hostCache.host;
    const host = this.view.host(t);
    this.hostCache = { t, host };
    return host;
  }

  latest(): ProcessLatest[] {
    const v = this.version();
    if (this.latestCache?.sample === v) return this.latestCache.rows;
    const rows = this.view.latest();
    this.latestCache = { sample: v, rows };
    return rows;
  }

  index(): unknown {
    return {
      schema: 'procsleuth.api/1',
      endpoints: {
        '/api/overview?since=2h&points=600':
          'host series (CPU, load, memory, TCP states, files) and the newest values',
        '/api/processes?sort=cpu|rss|pss|fds|sockets|pid|comm&order=desc|asc&group=0|1&limit=200':
          'live processes, or groups',
        '/api/process/PID?since=&points=': 'one process: identity, series, leak verdicts',
        '/api/process/PID/fds': 'its open fds resolved (alive on this host only)',
        '/api/process/PID/maps': 'its mappings (alive on this host only)',
        '/api/findings': 'the findings of a triage of this host (cached 30 s)',
        '/api/suspects?since=': 'leak suspects and CPU spikes over the record',
      },
    };
  }

  overview(q: URLSearchParams): unknown {
    const now = this.now();
    const since = parseSince(q.get('since'), now);
    const points = parseInt10(q.get('points'), 'points', 600, 10, MAX_POINTS);
    return this.cached(`overview:${q.get('since') ?? ''}:${points}`, () => {
      const t = this.timeline(since);
      const host = this.host(t);
      const stats = this.o.reader.stats();
      const runs = this.view.runs();
      const last = this.view.latestSample();
      const rem = this.o.reader.remotesAt();
      const pick = (c: string): number | undefined => lastFinite(host.cols[c]);
      const states = Object.keys(host.cols)
        .filter((c) => c.startsWith('tcp:'))
        .map((c) => ({ state: c.slice(4), count: pick(c) ?? 0 }))
        .filter((s) => s.count > 0)
        .sort((a, b) => b.count - a.count);
      return this.out({
        schema: 'procsleuth.api.overview/1',
        hostname: runs[runs.length - 1]?.hostname ?? null,
        version: this.o.version,
        newestSample: last ? { id: last.id, t: new Date(last.tMs).toISOString() } : null,
        intervalMs: runs[runs.length - 1]?.intervalMs ?? null,
        record: {
          samples: stats.samples,
          processes: stats.processes,
          runs: stats.runs,
          from: stats.firstMs,
          to: stats.lastMs,
        },
        now: {
          cpuPercent: pick('cpuPercent'),
          load1: pick('load1'),
          load5: pick('load5'),
          load15: pick('load15'),
          memTotalBytes: pick('memTotalBytes'),
          memAvailableBytes: pick('memAvailableBytes'),
          swapUsedBytes: pick('swapUsedBytes'),
          fileNr: pick('fileNr'),
          socketsUsed: pick('socketsUsed'),
          tasks: pick('tasks'),
          processes: this.latest().length,
        },
        tcp: {
          states,
          remotes: rem
            ? Object.entries(rem.byState).flatMap(([code, list]) =>
                list.slice(0, 5).map((r) => ({
                  state: TCP_NAMES[Number(code) - 1] ?? code,
                  address: r.address,
                  count: r.count,
                })),
              )
            : [],
        },
        charts: hostCharts(host, points, 'ov'),
      });
    });
  }

  processes(q: URLSearchParams): unknown {
    const sort = (q.get('sort') ?? 'cpu') as Sort;
    if (!SORTS.includes(sort)) throw new ApiError(400, `sort: one of ${SORTS.join(', ')}`);
    const order = q.get('order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw new ApiError(400, 'order: asc or desc');
    const grouped = q.get('group') === '1' || q.get('group') === 'true';
    const limit = parseInt10(q.get('limit'), 'limit', 200, 1, 100_000);
    return this.cached(`processes:${sort}:${order}:${grouped}:${limit}`, () => {
      const rows = this.latest().filter((p) => !p.kernelThread || q.get('kernel') === '1');
      const dir = order === 'asc' ? 1 : -1;
      const keyOf = (r: Record<string, unknown>): number | string => {
        const k = {
          cpu: 'cpuPercent',
          rss: 'rssBytes',
          pss: 'pssBytes',
          fds: 'fds',
          sockets: 'sockets',
          pid: 'pid',
          comm: grouped ? 'group' : 'comm',
          count: 'count',
        }[sort];
        const v = r[k];
        return typeof v === 'number' || typeof v === 'string' ? v : -1;
      };
      const cmp = (a: Record<string, unknown>, b: Record<string, unknown>): number => {
        const x = keyOf(a);
        const y = keyOf(b);
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      };
      if (grouped) {
        const g = groupLatest(rows) as unknown as Record<string, unknown>[];
        g.sort(cmp);
        return this.out({
          schema: 'procsleuth.api.processes/1',
          grouped: true,
          sort,
          order,
          total: g.length,
          rows: g.slice(0, limit),
        });
      }
      const list = rows.map((r) => ({
        pid: r.pid,
        startTimeTicks: r.startTimeTicks,
        ppid: r.ppid,
        uid: r.uid,
        comm: r.comm,
        cmdline: r.argv.length ? r.argv.join(' ') : `[${r.comm}]`,
        group: r.group,
        cpuPercent: r.cpuPercent,
        rssBytes: r.rssBytes,
        pssBytes: r.pssBytes,
        fds: r.fds,
        threads: r.threads,
        sockets: r.sockets,
        tcp: r.tcp,
        started: new Date(r.firstMs).toISOString(),
      })) as unknown as Record<string, unknown>[];
      list.sort(cmp);
      return this.out({
        schema: 'procsleuth.api.processes/1',
        grouped: false,
        sort,
        order,
        total: list.length,
        rows: list.slice(0, limit),
      });
    });
  }

  process(pidText: string | undefined, q: URLSearchParams): unknown {
    const pid = parsePid(pidText);
    const since = parseSince(q.get('since'), this.now());
    const points = parseInt10(q.get('points'), 'points', 600, 10, MAX_POINTS);
    const startText = q.get('start');
    if (startText !== null && !/^\d{1,15}$/.test(startText))
      throw new ApiError(400, 'start: want the start time in ticks');
    const start = startText === null ? undefined : Number(startText);
    return this.cached(`process:${pid}:${start ?? ''}:${q.get('since') ?? ''}:${points}`, () => {
      const all = this.o.reader.processesByPid(pid);
      const row = start === undefined ? all[0] : all.find((p) => p.startTimeTicks === start);
      if (!row) throw new ApiError(404, `no process with PID ${pid} in the record`);
      const t = this.timeline(since);
      const tl = thin(t, LEAK_POINTS);
      const e = this.view.entity(tl, [row]);
      const lim =
        row.bootId === this.o.live?.bootId ? this.liveFdLimit(row.pid, row.startTimeTicks) : undefined;
      const memTotal = lastFinite(this.host(t).cols['memTotalBytes']);
      const leaks = (
        [
          ['rss', 'rssBytes', memTotal],
          ['fds', 'fds', lim],
          ['sockets', 'sockets', undefined],
        ] as const
      ).map(([metric, col, limit]) => {
        const { verdict, chart } = leakOf(
          tl.tMs,
          e.cols[col] ?? new Float64Array(0),
          metric,
          limit,
          points,
          `leak-${metric}`,
        );
        return {
          metric,
          verdict: verdict.verdict,
          confidence: verdict.confidence,
          shape: verdict.shape,
          slopePerHour: verdict.slopePerHour,
          exhaustsAt:
            verdict.exhaustsAtMs !== undefined && Number.isFinite(verdict.exhaustsAtMs)
              ? new Date(verdict.exhaustsAtMs).toISOString()
              : null,
          limit: limit ?? null,
          reasons: verdict.reasons,
          chart,
        };
      });
      const alive = row.endMs === null && this.isLiveHere(row.pid, row.startTimeTicks, row.bootId);
      return this.out({
        schema: 'procsleuth.api.process/1',
        process: {
          pid: row.pid,
          startTimeTicks: row.startTimeTicks,
          ppid: row.ppid,
          uid: row.uid,
          comm: row.comm,
          exe: row.exe,
          cmdline: row.argv.length ? row.argv.join(' ') : `[${row.comm}]`,
          argv: row.argv,
          group: row.groupLabel,
          firstSeen: new Date(row.firstMs).toISOString(),
          ended: row.endMs === null ? null : new Date(row.endMs).toISOString(),
          otherStarts: all
            .filter((p) => p !== row)
            .slice(0, 20)
            .map((p) => ({ startTimeTicks: p.startTimeTicks, firstSeen: new Date(p.firstMs).toISOString() })),
        },
        liveOnThisHost: alive,
        charts: entityCharts(e, `p${pid}`, points),
        leaks,
      });
    });
  }

  private liveFdLimit(pid: number, start: number): number | undefined {
    const p = this.o.live?.process(pid);
    return p && p.startTimeTicks === start && typeof p.fdLimit === 'number' ? p.fdLimit : undefined;
  }

  private isLiveHere(pid: number, start: number, bootId: string): boolean {
    const live = this.o.live;
    if (!live || live.bootId === undefined || live.bootId !== bootId) return false;
    return live.process(pid)?.startTimeTicks === start;
  }

  /** The recorded identity of a PID that is alive here now; 404/409 otherwise. */
  private liveIdentity(pidText: string | undefined): number {
    const pid = parsePid(pidText);
    const row = this.o.reader.processesByPid(pid)[0];
    if (!row) throw new ApiError(404, `no process with PID ${pid} in the record`);
    if (!this.o.live) throw new ApiError(409, 'live inspection is off (--no-live)');
    if (!this.isLiveHere(pid, row.startTimeTicks, row.bootId))
      throw new ApiError(409, `process ${pid} as recorded is not running on this host now`);
    return pid;
  }

  async fds(pidText: string | undefined): Promise<unknown> {
    const pid = this.liveIdentity(pidText);
    return this.out({ schema: 'procsleuth.api.fds/1', ...((await this.o.live!.fds(pid)) as object) });
  }

  maps(pidText: string | undefined): unknown {
    const pid = this.liveIdentity(pidText);
    return this.out({ schema: 'procsleuth.api.maps/1', ...(this.o.live!.maps(pid) as object) });
  }

  async findings(): Promise<unknown> {
    const f = this.o.findings;
    if (!f)
      return {
        schema: 'procsleuth.api.findings/1',
        available: false,
        reason: 'no triage on this server (--no-triage)',
        findings: [],
      };
    const now = this.now();
    if (!this.findingsCache || now - this.findingsCache.at > (this.o.findingsTtlMs ?? 30_000)) {
      const value = f();
      this.findingsCache = { at: now, value };
      value.catch(() => (this.findingsCache = undefined));
    }
    const r = await this.findingsCache.value;
    return this.out({
      schema: 'procsleuth.api.findings/1',
      available: true,
      takenAt: r.takenAt,
      findings: r.findings,
      hotGroups: r.hotGroups,
      notes: r.notes,
    });
  }

  suspects(q: URLSearchParams): unknown {
    const since = parseSince(q.get('since'), this.now());
    return this.cached(`suspects:${q.get('since') ?? ''}`, () => {
      const t = this.timeline(since);
      const host = this.host(t);
      const users = this.latest().filter((p) => !p.kernelThread);
      const { suspects, analysed } = analyseLeaks(this.o.reader, this.view, t, users, {
        memTotalBytes: lastFinite(host.cols['memTotalBytes']),
        maxPoints: 300,
        perMetric: 8,
      });
      const spikes = findSpikes(this.o.reader, t, host, 600);
      return this.out({ schema: 'procsleuth.api.suspects/1', analysed, suspects, spikes });
    });
  }
}

const TCP_NAMES: readonly string[] = TCP_STATES;
