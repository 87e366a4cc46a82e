/**
 * The dashboard's JSON API over one record: request → document functions with validated inputs.
 * Reading a day of 1,000 processes costs about a second and the leak and spike detectors several, so
 * once started (server.ts) the heavy work runs in worker threads (worker.ts) and requests are answered
 * from their last results:
 * - views: the overview of each window the page asked for in the last minutes, and the latest values of
 *   every process, recomputed after each new sample; until the new ones land, the previous ones are
 *   served (at most one refresh behind). A window never asked before waits for its first computation
 *   without holding the event loop.
 * - suspects: `procsleuth leaks` and `procsleuth spikes` over the window, recomputed when new samples
 *   arrived, at most every max(minimum interval, 5 × the last computation's time); until the first
 *   result exists the answer says `pending: true`.
 * A process page is computed on the request (tens of ms) and cached per newest sample. Nothing here
 * reads a file named by a client or runs a command: fds and mappings are read from /proc only for a PID
 * the record knows, alive on this very boot with the recorded start time.
 */
import { TCP_STATES } from '../collect/types.js';
import type { TriageReport } from '../rules/types.js';
import { type RecordReader, type Timeline } from '../store/index.js';
import { RecordView, groupLatest, thin, type Columns, type ProcessLatest } from '../report/html/data.js';
import { entityCharts, hostCharts, lastFinite } from '../report/html/model.js';
import { SERIES_POINTS, isProcess, suspectChart } from '../report/html/suspects.js';
import type { LeaksDocument, Suspect } from '../detect/leaks.js';
import { redactDeep } from '../report/redact.js';
import { Background } from './background.js';
import type { SuspectsResult, ViewsResult } from './worker.js';

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
  /**
   * Module URLs exporting `leaksFromRecord` and `spikesFromRecord` (the CLI's detectors: the server
   * layer may not import the CLI, so the CLI names them). Without them /api/suspects is unavailable.
   */
  detectors?: { leaks: string; spikes: string } | undefined;
  /** Roots for the detectors' limit reads (RLIMIT_NOFILE, cgroup memory.max of live processes). */
  procRoot?: string | undefined;
  sysRoot?: string | undefined;
  /** Shortest time between two runs of the detectors over one window (default 60 s). */
  suspectsMinIntervalMs?: number;
  log?: (line: Record<string, unknown>) => void;
}

/** The window and resolution the page asks for first: kept ready from the start. */
const DEFAULT_WINDOW = { since: '24h', points: 600 };
/**
 * The windows of the page's selector (page.ts), longest first: on a record shorter than them they read
 * the same points as the default window, and reuse its host series.
 */
const PAGE_WINDOWS = ['7d', 'all', '6h', '1h'];
/** A window not asked for this long is no longer kept fresh. */
const WANT_MS = 10 * 60_000;
const MAX_WINDOWS = 8;

interface SuspectsState {
  since: string | null;
  askedAt: number;
  result: SuspectsResult | undefined;
  running: boolean;
  error: string | undefined;
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
  /** The last triage that finished, and the one running (a triage waits out a CPU window: ~0.5 s). */
  private findingsLast: { at: number; report: TriageReport } | undefined;
  private findingsRunning: Promise<TriageReport> | undefined;
  private latestCache: { sample: number; rows: ProcessLatest[] } | undefined;
  private timelineCache: { key: string; t: Timeline } | undefined;
  private hostCache: { t: Timeline; host: Columns } | undefined;
  private views: Background | undefined;
  private detect: Background | undefined;
  private started = 0;
  /** The newest views from the worker, and the windows to keep fresh. */
  private prepared:
    | { version: number; overviews: Map<string, { version: number; doc: unknown }>; latest: ProcessLatest[] }
    | undefined;
  private readonly windows = new Map<string, { since: string | null; points: number; askedAt: number }>();
  private viewsJob: { keys: Set<string>; done: Promise<void> } | undefined;
  private readonly suspectStates = new Map<string, SuspectsState>();
  private detectRunning = false;
  private lastDetect: { startedAt: number; ms: number } | undefined;
  private log: (line: Record<string, unknown>) => void = () => undefined;

  constructor(o: ApiOptions) {
    this.o = o;
    this.view = new RecordView(o.reader);
  }

  /**
   * Starts the workers (once for any number of callers) and resolves when the default views are ready,
   * so the first request after start is answered from them.
   */
  async start(log = this.o.log ?? (() => undefined)): Promise<void> {
    if (this.started++ > 0) return this.viewsJob?.done;
    this.log = log;
    const data = {
      dbPath: this.o.reader.store.path,
      redact: this.o.redact,
      version: this.o.version,
      detectors: this.o.detectors,
      procRoot: this.o.procRoot,
      sysRoot: this.o.sysRoot,
      noLiveLimits: this.o.live === undefined,
    };
    this.views = new Background('views', data, log);
    this.want(DEFAULT_WINDOW.since, DEFAULT_WINDOW.points);
    if (this.o.findings) void this.refreshFindings().catch(() => undefined);
    this.tick();
    await this.viewsJob?.done;
    // The detectors take seconds of CPU: not while the first views are computed on a 2-core machine.
    if (this.o.detectors) {
      this.detect = new Background('suspects', { ...data, nice: 10 }, log);
      this.suspectState(DEFAULT_WINDOW.since);
      this.tick();
    }
    // The page's first requests, answered before the server is announced: the process table as the
    // page sorts it by default, and the busiest process's page, which also reads the 24 h timeline
    // that other process pages reuse and compiles their code paths.
    try {
      this.processes(new URLSearchParams('sort=cpu&order=desc&group=0&limit=200'));
      const busiest = this.latest().reduce<ProcessLatest | undefined>(
        (a, b) => (!b.kernelThread && (b.cpuPercent ?? -1) > (a?.cpuPercent ?? -1) ? b : a),
        undefined,
      );
      if (busiest) this.process(String(busiest.pid), new URLSearchParams(`since=${DEFAULT_WINDOW.since}`));
    } catch (err) {
      log({
        level: 'warn',
        msg: 'warming the first views failed',
        error: err instanceof Error ? err.message : String(err),
      });
    }
    // Then the page's other windows, once, before the server is announced (~0.1 s more): switching to
    // one is answered at once, even as the first request; each is kept fresh only after someone asks.
    for (const since of PAGE_WINDOWS) {
      const key = windowKey(since, DEFAULT_WINDOW.points);
      if (!this.windows.has(key))
        this.windows.set(key, { since, points: DEFAULT_WINDOW.points, askedAt: -Infinity });
    }
    await this.refreshViews();
  }

  async stop(): Promise<void> {
    if (this.started === 0 || --this.started > 0) return;
    const v = this.views;
    const d = this.detect;
    this.views = undefined;
    this.detect = undefined;
    await Promise.all([v?.close(), d?.close()]);
  }

  /** Called often by the server: recomputes what newer samples made stale (never two at once). */
  tick(): void {
    const now = this.now();
    for (const [k, w] of this.windows)
      if (now - w.askedAt > WANT_MS && k !== windowKey(DEFAULT_WINDOW.since, DEFAULT_WINDOW.points))
        this.windows.delete(k);
    const v = this.version();
    const p = this.prepared;
    const stale =
      !p ||
      p.version !== v ||
      [...this.windows.keys()].some((k) => (p.overviews.get(k)?.version ?? -1) !== p.version);
    if (this.views && !this.viewsJob && stale) void this.refreshViews();
    if (this.detect && !this.detectRunning) this.nextDetection(now, v);
  }

  private want(since: string | null, points: number): string {
    const key = windowKey(since, points);
    const w = this.windows.get(key);
    if (w) w.askedAt = this.now();
    else {
      if (this.windows.size >= MAX_WINDOWS) {
        const dflt = windowKey(DEFAULT_WINDOW.since, DEFAULT_WINDOW.points);
        const oldest = [...this.windows.entries()]
          .filter(([k]) => k !== dflt)
          .sort((a, b) => a[1].askedAt - b[1].askedAt)[0];
        if (oldest) this.windows.delete(oldest[0]);
      }
      this.windows.set(key, { since, points, askedAt: this.now() });
    }
    return key;
  }

  /** One views job at a time; a caller whose window is not in the running job waits for the next. */
  private refreshViews(): Promise<void> {
    const bg = this.views;
    if (!bg) return Promise.resolve();
    const running = this.viewsJob;
    if (running) {
      if ([...this.windows.keys()].every((k) => running.keys.has(k))) return running.done;
      return running.done.then(() => this.refreshViews());
    }
    const list = [...this.windows.entries()];
    const done = bg
      .run<ViewsResult>({
        job: 'views',
        windows: list.map(([, w]) => ({ since: w.since, points: w.points })),
      })
      .then((r) => {
        const overviews = new Map(this.prepared?.overviews);
        list.forEach(([k], i) => overviews.set(k, { version: r.version, doc: r.overviews[i] }));
        this.prepared = { version: r.version, overviews, latest: r.latest };
      })
      .catch((err: unknown) => {
        if (this.views !== bg) return; // stopped meanwhile
        this.log({
          level: 'warn',
          msg: 'views refresh failed',
          error: err instanceof Error ? err.message : String(err),
        });
      })
      .finally(() => {
        if (this.viewsJob?.done === done) this.viewsJob = undefined;
      });
    this.viewsJob = { keys: new Set(list.map(([k]) => k)), done };
    return done;
  }

  /** The detectors' state for a window, starting a run when none is going and one is due. */
  private askSuspects(sinceText: string | null): SuspectsState {
    const st = this.suspectState(sinceText);
    if (!st.running && !this.detectRunning) this.nextDetection(this.now(), this.version());
    return st;
  }

  /** How current the detectors' last result for a window is, as both suspect documents say it. */
  private runStatus(st: SuspectsState): {
    pending: boolean;
    computedAt: string | null;
    upToDate: boolean;
    error: string | null;
  } {
    const r = st.result;
    return {
      pending: r === undefined && st.error === undefined,
      computedAt: r ? new Date(r.startedMs).toISOString() : null,
      upToDate: r ? r.version === this.version() : false,
      error: st.error ?? null,
    };
  }

  private suspectState(sinceText: string | null): SuspectsState {
    // no `since` is the whole record, as `all` is: one computation for both
    const since = sinceText ?? 'all';
    const key = since;
    let st = this.suspectStates.get(key);
    if (!st) {
      if (this.suspectStates.size >= MAX_WINDOWS) {
        const oldest = [...this.suspectStates.entries()]
          .filter(([, x]) => !x.running)
          .sort((a, b) => a[1].askedAt - b[1].askedAt)[0];
        if (oldest) this.suspectStates.delete(oldest[0]);
      }
      this.suspectStates.set(
        key,
        (st = { since, askedAt: this.now(), result: undefined, running: false, error: undefined }),
      );
    }
    st.askedAt = this.now();
    return st;
  }

  /**
   * The next window for the detectors: one never computed first, then the stalest one asked for
   * recently, once newer samples exist and the pause since the last run has passed.
   */
  private nextDetection(now: number, version: number): void {
    const bg = this.detect;
    if (!bg) return;
    // Nobody looking: no run of the detectors, which cost seconds of CPU each.
    const states = [...this.suspectStates.values()].filter((s) => now - s.askedAt <= WANT_MS);
    let st = states.find((s) => !s.result && !s.error);
    if (!st) {
      const gap = Math.max(this.o.suspectsMinIntervalMs ?? 60_000, 5 * (this.lastDetect?.ms ?? 0));
      if (this.lastDetect && now - this.lastDetect.startedAt < gap) return;
      st = states
        .filter((s) => (s.result?.version ?? -1) !== version)
        .sort((a, b) => (a.result?.startedMs ?? 0) - (b.result?.startedMs ?? 0))[0];
    }
    if (!st) return;
    const s = st;
    s.running = true;
    this.detectRunning = true;
    const startedAt = now;
    bg.run<SuspectsResult>({ job: 'suspects', since: s.since, now })
      .then((r) => {
        s.result = r;
        s.error = undefined;
        this.lastDetect = { startedAt, ms: r.ms };
      })
      .catch((err: unknown) => {
        s.error = err instanceof Error ? err.message : String(err);
        this.lastDetect = { startedAt, ms: this.now() - startedAt };
      })
      .finally(() => {
        s.running = false;
        this.detectRunning = false;
        // Another window may be waiting for its first result: no need to wait for the server's tick.
        if (this.detect) this.nextDetection(this.now(), this.version());
      });
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** The newest sample id: the cache key's version. */
  version(): number {
    return this.view.latestSample()?.id ?? 0;
  }

  private cached<T>(key: string, f: () => T, v = this.version()): T {
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

  /** A document made only of the worker's latest rows, which it redacted already (worker.ts). */
  private outRows<T>(doc: T): T {
    return this.prepared ? doc : this.out(doc);
  }

  /**
   * A relative window (`24h`) is placed when first read and moves on with the next sample, not with the
   * clock: on a record that no longer grows, moving it every minute would only cost rereads.
   */
  private timeline(sinceText: string | null, sinceMs: number | undefined): Timeline {
    const key = `${sinceText ?? ''}:${this.version()}`;
    const prev = this.timelineCache;
    if (prev?.key === key) return prev.t;
    const read = this.o.reader.timeline(sinceMs ?? 0);
    // Windows longer than the record (7d, all on a day) read the same points: keep the object the host
    // series are cached on. Same newest sample, same first point and count: the same contiguous run.
    const p = prev?.t;
    const same =
      p !== undefined &&
      prev?.key.endsWith(`:${this.version()}`) === true &&
      p.length === read.length &&
      p.firstRaw === read.firstRaw &&
      p.tMs[0] === read.tMs[0] &&
      p.sample[p.length - 1] === read.sample[read.length - 1];
    const t = same ? p : read;
    this.timelineCache = { key, t };
    return t;
  }

  private host(t: Timeline): Columns {
    if (this.hostCache?.t === t) return this.hostCache.host;
    const host = this.view.host(t);
    this.hostCache = { t, host };
    return host;
  }

  /** The newest latest values: the worker's when it runs (at most one refresh behind). */
  latest(): ProcessLatest[] {
    if (this.prepared) return this.prepared.latest;
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

  async overview(q: URLSearchParams): Promise<unknown> {
    const sinceText = q.get('since');
    parseSince(sinceText, this.now());
    const points = parseInt10(q.get('points'), 'points', 600, 10, MAX_POINTS);
    if (!this.views) return this.computeOverview(sinceText, points);
    const key = this.want(sinceText, points);
    // Possibly older than the newest sample: its refresh is under way (tick), and this answer is now.
    const ready = this.prepared?.overviews.get(key);
    if (ready !== undefined) return ready.doc;
    await this.refreshViews();
    const doc = this.prepared?.overviews.get(key);
    if (doc === undefined) throw new Error('the views worker gave no overview');
    return doc.doc;
  }

  /** The overview of one window, computed here (in the worker, or on a server without one). */
  computeOverview(sinceText: string | null, points: number): unknown {
    const since = parseSince(sinceText, this.now());
    return this.cached(`overview:${windowKey(sinceText, points)}`, () => {
      const t = this.timeline(sinceText, since);
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
    const kernel = q.get('kernel') === '1';
    const rowsVersion = this.prepared?.version ?? this.version();
    return this.cached(
      `processes:${sort}:${order}:${grouped}:${limit}:${kernel}`,
      () => {
        const rows = this.latest().filter((p) => !p.kernelThread || kernel);
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
          return this.outRows({
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
        return this.outRows({
          schema: 'procsleuth.api.processes/1',
          grouped: false,
          sort,
          order,
          total: list.length,
          rows: list.slice(0, limit),
        });
      },
      rowsVersion,
    );
  }

  process(pidText: string | undefined, q: URLSearchParams): unknown {
    const pid = parsePid(pidText);
    const sinceText = q.get('since');
    const since = parseSince(sinceText, this.now());
    const points = parseInt10(q.get('points'), 'points', 600, 10, MAX_POINTS);
    const startText = q.get('start');
    if (startText !== null && !/^\d{1,15}$/.test(startText))
      throw new ApiError(400, 'start: want the start time in ticks');
    const start = startText === null ? undefined : Number(startText);
    const page = this.cached(`process:${pid}:${start ?? ''}:${q.get('since') ?? ''}:${points}`, () => {
      const all = this.o.reader.processesByPid(pid);
      const row = start === undefined ? all[0] : all.find((p) => p.startTimeTicks === start);
      if (!row) throw new ApiError(404, `no process with PID ${pid} in the record`);
      const t = this.timeline(sinceText, since);
      const e = this.view.entity(thin(t, SERIES_POINTS), [row]);
      const alive = row.endMs === null && this.isLiveHere(row.pid, row.startTimeTicks, row.bootId);
      const doc = this.out({
        schema: 'procsleuth.api.process/2',
        process: {
          pid: row.pid,
          startTimeTicks: row.startTimeTicks,
          bootId: row.bootId,
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
      });
      return { doc, e };
    });
    return { ...page.doc, leaks: this.processLeaks(sinceText, page, points) };
  }

  /**
   * This process's leak verdicts as the last `procsleuth leaks` run over the window gave them (the
   * background detectors; `pending` until their first run ends), each drawn on the process's series,
   * and the suspects of its group and of the process tree rooted at it.
   */
  private processLeaks(
    sinceText: string | null,
    page: {
      doc: { process: { pid: number; startTimeTicks: number; bootId: string; group: string | null } };
      e: Columns;
    },
    points: number,
  ): unknown {
    if (!this.detect)
      return { available: false, pending: false, computedAt: null, suspects: [], related: [] };
    const st = this.askSuspects(sinceText);
    const doc = st.result?.leaks as LeaksDocument | undefined;
    const p = page.doc.process;
    const related = (s: Suspect): boolean =>
      (s.entity.kind === 'group' && p.group !== null && s.entity.group === p.group) ||
      (s.entity.kind === 'tree' && s.entity.pid === p.pid && s.entity.startTimeTicks === p.startTimeTicks);
    return {
      available: true,
      ...this.runStatus(st),
      suspects: (doc?.suspects ?? [])
        .filter((s) => isProcess(s.entity, p))
        .map((s) => ({ ...s, chart: suspectChart(page.e, s, points, `leak-${s.metric}`) })),
      related: (doc?.suspects ?? []).filter(related).map((s) => ({
        kind: s.entity.kind,
        key: s.entity.key,
        label: s.entity.label,
        metric: s.metric,
        verdict: s.verdict,
        slopePerHour: s.slopePerHour,
        unit: s.unit,
      })),
    };
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
    const last = this.findingsLast;
    // A stale triage is answered at once while a new one runs; only the very first is waited for.
    if (!last || this.now() - last.at > (this.o.findingsTtlMs ?? 30_000)) this.refreshFindings();
    const r = last?.report ?? (await this.refreshFindings());
    return this.out({
      schema: 'procsleuth.api.findings/1',
      available: true,
      takenAt: r.takenAt,
      findings: r.findings,
      hotGroups: r.hotGroups,
      notes: r.notes,
    });
  }

  private refreshFindings(): Promise<TriageReport> {
    const f = this.o.findings;
    if (!f) return Promise.reject(new Error('no triage on this server'));
    if (this.findingsRunning) return this.findingsRunning;
    const at = this.now();
    const running = f()
      .then((report) => {
        this.findingsLast = { at, report };
        return report;
      })
      .finally(() => {
        if (this.findingsRunning === running) this.findingsRunning = undefined;
      });
    this.findingsRunning = running;
    // A failure reaches whoever awaits it; a background refresh must not become an unhandled rejection.
    running.catch(() => undefined);
    return running;
  }

  /**
   * Leak suspects and CPU spikes as `procsleuth leaks --json` and `procsleuth spikes --json` see them,
   * from the last run of the detectors over this window; `pending` until the first run ends.
   */
  suspects(q: URLSearchParams): unknown {
    const sinceText = q.get('since');
    parseSince(sinceText, this.now());
    const base = { schema: 'procsleuth.api.suspects/2', since: sinceText ?? 'all' };
    if (!this.detect)
      return {
        ...base,
        available: false,
        reason: this.o.detectors
          ? 'the background analysis is not running'
          : 'no leak and spike detectors on this server',
        pending: false,
        leaks: null,
        spikes: null,
      };
    const st = this.askSuspects(sinceText);
    const r = st.result;
    return {
      ...base,
      available: true,
      ...this.runStatus(st),
      refreshing: r !== undefined && st.running,
      computeMs: r ? Math.round(r.ms) : null,
      leaks: r?.leaks ?? null,
      spikes: r?.spikes ?? null,
      chart: r?.chart ?? null,
    };
  }
}

function windowKey(since: string | null, points: number): string {
  return `${since ?? ''}:${points}`;
}

const TCP_NAMES: readonly string[] = TCP_STATES;
