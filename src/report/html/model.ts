/**
 * The report's content, built from the record (and a triage taken now, when the caller has one): host
 * series, leak suspects with their fitted trend and projected exhaustion, CPU spikes with their onset,
 * the biggest groups with their memory / fd / socket series, the TCP states with top remotes, and how
 * the data was collected. A plain JSON-able value: the HTML renderer and the vendor bundle both use it,
 * and redaction runs over it as a whole (redact.ts) before either sees it.
 */
import { TCP_STATES } from '../../collect/types.js';
import { leakVerdict, type LeakVerdict } from '../../detect/leak-verdict.js';
import { upwardShifts } from '../../detect/change-point.js';
import type { TriageReport } from '../../rules/types.js';
import type { ProcessInfo } from '../../collect/types.js';
import type { SyscallProfile } from '../../trace/types.js';
import type { ProcessRow, RecordReader, Timeline } from '../../store/index.js';
import {
  HOST_TCP_STATES,
  RecordView,
  thin,
  columnsJson,
  decimate,
  groupLatest,
  type Columns,
  type GroupLatest,
  type ProcessLatest,
  type Reduce,
  type RunInfo,
} from './data.js';

export type Unit = 'bytes' | 'percent' | 'count' | 'per-second' | 'load';

export interface ChartSpec {
  id: string;
  title: string;
  unit: Unit;
  /** Seconds since the epoch. */
  t: number[];
  series: {
    label: string;
    values: (number | null)[];
    color?: string;
    dash?: number[];
    fill?: boolean;
    width?: number;
  }[];
  marks?: { t: number; label: string; color?: string }[];
  height?: number;
  /** false: the y axis fits the data instead of starting at 0 (a slow leak on a big base shows). */
  yMin0?: boolean;
}

export interface LeakSuspect {
  pid: number;
  startTimeTicks: number;
  comm: string;
  cmdline: string;
  group: string | null;
  metric: 'rss' | 'fds' | 'sockets';
  unit: Unit;
  limit: number | undefined;
  limitSource: string | undefined;
  verdict: LeakVerdict['verdict'];
  confidence: number;
  shape: LeakVerdict['shape'];
  slopePerHour: number;
  slopeInterval: [number, number];
  exhaustsAt: string | undefined;
  exhaustsRange: [string, string | null] | undefined;
  first: number;
  last: number;
  reasons: string[];
  chart: ChartSpec;
}

export interface Spike {
  onset: string;
  onsetMs: number;
  beforePercent: number;
  afterPercent: number;
  persistent: boolean;
  /** Processes that used the most CPU in the spike's first minutes. */
  top: { pid: number; comm: string; cmdline: string; cpuPercent: number }[];
}

export interface EntitySection {
  kind: 'group' | 'process';
  label: string;
  count: number;
  pids: number[];
  latest: {
    cpuPercent?: number | undefined;
    rssBytes?: number | undefined;
    pssBytes?: number | undefined;
    fds?: number | undefined;
    sockets?: number | undefined;
  };
  charts: ChartSpec[];
}

export interface ReportModel {
  schema: 'procsleuth.report/1';
  generatedAt: string;
  tool: { name: 'procsleuth'; version: string; chartLibrary: string };
  redacted: boolean;
  host: {
    source: 'snapshot' | 'record';
    hostname: string;
    kernel: string | undefined;
    cpus: number | undefined;
    uptimeSeconds: number | undefined;
    loadavg: [number, number, number] | undefined;
    cpuPercent: number | undefined;
    memTotalBytes: number | undefined;
    memAvailableBytes: number | undefined;
    swapTotalBytes: number | undefined;
    swapFreeBytes: number | undefined;
    fileNrAllocated: number | undefined;
    fileMax: number | 'unlimited' | undefined;
    socketsUsed: number | undefined;
    processes: number | undefined;
  };
  collection: {
    db: string;
    runs: (Omit<RunInfo, 'startedMs' | 'endedMs'> & { started: string; ended: string | null })[];
    from: string | null;
    to: string | null;
    spanSeconds: number;
    samples: number;
    processesRecorded: number;
    intervalMs: number | undefined;
    since: string | null;
    bucketsNote: string | undefined;
    buildMs: number;
  };
  triage: TriageReport | undefined;
  triageNote: string | undefined;
  hostCharts: ChartSpec[];
  leaks: { method: string; analysed: number; suspects: LeakSuspect[]; note: string | undefined };
  spikes: { items: Spike[]; chart: ChartSpec | undefined };
  groups: GroupLatest[];
  processes: ProcessLatest[];
  entities: EntitySection[];
  tcp: {
    source: 'snapshot' | 'record' | 'none';
    at: string | null;
    states: { state: string; count: number }[];
    remotes: { state: string; address: string; count: number }[];
  };
  profile: SyscallProfile | undefined;
}

export interface BuildOptions {
  db: string;
  version: string;
  chartLibrary: string;
  sinceMs: number | undefined;
  triage: TriageReport | undefined;
  triageNote?: string | undefined;
  /** Live processes of this host (from the triage snapshot): fd limits for the fd-leak projection. */
  live?: readonly ProcessInfo[] | undefined;
  maxPoints?: number;
  /** Groups drawn with their own charts. */
  entities?: number;
  now?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
/** Points of the timeline the leak verdict is computed on (every k-th sample above that). */
export const LEAK_POINTS = 2000;
const reduceFor = (name: string): Reduce => (/cpu/i.test(name) ? 'mean' : 'max');

function chart(
  id: string,
  title: string,
  unit: Unit,
  c: Columns,
  series: { col: string; label: string; color?: string; dash?: number[]; fill?: boolean }[],
  maxPoints: number,
  from = 0,
): ChartSpec {
  const picked: Record<string, Float64Array> = {};
  for (const s of series) {
    const v = c.cols[s.col];
    if (v) picked[s.col] = v;
  }
  const d = decimate(c.tMs, picked, maxPoints, reduceFor, from);
  const j = columnsJson(d);
  return {
    id,
    title,
    unit,
    t: j.t,
    series: series
      .filter((s) => j.series[s.col])
      .map((s) => ({
        label: s.label,
        values: j.series[s.col] ?? [],
        ...(s.color ? { color: s.color } : {}),
        ...(s.dash ? { dash: s.dash } : {}),
        ...(s.fill ? { fill: true } : {}),
      })),
  };
}

export function hostCharts(host: Columns, maxPoints: number, idPrefix = 'host'): ChartSpec[] {
  const stateColors: Record<string, string> = {
    ESTABLISHED: '#2563eb',
    TIME_WAIT: '#9ca3af',
    CLOSE_WAIT: '#dc2626',
    LISTEN: '#16a34a',
    SYN_RECV: '#ea580c',
    SYN_SENT: '#9333ea',
    FIN_WAIT1: '#0891b2',
    FIN_WAIT2: '#0d9488',
    LAST_ACK: '#db2777',
    CLOSING: '#ca8a04',
    CLOSE: '#4b5563',
    NEW_SYN_RECV: '#65a30d',
  };
  const states = HOST_TCP_STATES.filter((s) => {
    const v = host.cols[`tcp:${s}`];
    return v !== undefined && v.some((x) => x > 0);
  });
  return [
    chart(
      `${idPrefix}-cpu`,
      'CPU busy, % of all cores',
      'percent',
      host,
      [
        { col: 'cpuPercent', label: 'busy', fill: true },
        { col: 'cpuUserPercent', label: 'user' },
        { col: 'cpuSystemPercent', label: 'system' },
        { col: 'cpuIowaitPercent', label: 'iowait' },
      ],
      maxPoints,
    ),
    chart(
      `${idPrefix}-load`,
      'Load average',
      'load',
      host,
      [
        { col: 'load1', label: '1 min' },
        { col: 'load5', label: '5 min' },
        { col: 'load15', label: '15 min' },
        { col: 'procsBlocked', label: 'blocked on I/O' },
      ],
      maxPoints,
    ),
    chart(
      `${idPrefix}-mem`,
      'Memory',
      'bytes',
      host,
      [
        { col: 'memUsedBytes', label: 'used (total − available)', fill: true },
        { col: 'memTotalBytes', label: 'total', dash: [6, 4], color: '#4b5563' },
        { col: 'cachedBytes', label: 'page cache' },
        { col: 'swapUsedBytes', label: 'swap used' },
      ],
      maxPoints,
    ),
    chart(
      `${idPrefix}-tcp`,
      'TCP sockets by state',
      'count',
      host,
      states.map((s) => ({ col: `tcp:${s}`, label: s, color: stateColors[s] ?? '#4b5563' })),
      maxPoints,
    ),
    chart(
      `${idPrefix}-files`,
      'Open files and sockets (host)',
      'count',
      host,
      [
        { col: 'fileNr', label: 'file handles (file-nr)' },
        { col: 'socketsUsed', label: 'sockets used' },
        { col: 'tcpOrphan', label: 'TCP orphans' },
      ],
      maxPoints,
    ),
  ];
}

export function entityCharts(e: Columns, idPrefix: string, maxPoints: number): ChartSpec[] {
  const present = (c: string): boolean => e.cols[c]?.some((v) => v > 0) ?? false;
  const states = Object.keys(e.cols).filter((c) => c.startsWith('tcp:') && present(c));
  return [
    chart(
      `${idPrefix}-cpu`,
      'CPU, % of one core',
      'percent',
      e,
      [{ col: 'cpuPercent', label: 'CPU', fill: true }],
      maxPoints,
    ),
    chart(
      `${idPrefix}-mem`,
      'Memory',
      'bytes',
      e,
      [
        { col: 'rssBytes', label: 'RSS', fill: true },
        { col: 'pssBytes', label: 'PSS' },
        { col: 'anonBytes', label: 'anonymous' },
        { col: 'swapBytes', label: 'swap' },
      ],
      maxPoints,
    ),
    chart(
      `${idPrefix}-fds`,
      'Open file descriptors and threads',
      'count',
      e,
      [
        { col: 'fds', label: 'fds' },
        { col: 'threads', label: 'threads' },
      ],
      maxPoints,
    ),
    chart(
      `${idPrefix}-sock`,
      'Sockets',
      'count',
      e,
      [
        { col: 'sockets', label: 'all sockets' },
        ...states.map((s) => ({ col: s, label: s.slice(4) })),
        ...(present('udp') ? [{ col: 'udp', label: 'UDP' }] : []),
        ...(present('unix') ? [{ col: 'unix', label: 'unix' }] : []),
      ],
      maxPoints,
    ),
  ];
}

/** The leak verdict of one series, with a chart of the series, its fitted trend and the limit. */
export function leakOf(
  tMs: Float64Array,
  values: Float64Array,
  metric: LeakSuspect['metric'],
  limit: number | undefined,
  maxPoints: number,
  id: string,
): { verdict: LeakVerdict; chart: ChartSpec } {
  const v = leakVerdict(tMs, values, limit !== undefined ? { limit } : {});
  const unit: Unit = metric === 'rss' ? 'bytes' : 'count';
  const ev = v.evidence;
  // The trend line through the floor: Theil–Sen slope, intercept the median residual of the floor.
  const slopePerMs = v.slopePerHour / 3_600_000;
  const res: number[] = [];
  for (let i = 0; i < ev.floorTimesMs.length; i++)
    res.push((ev.floorValues[i] ?? 0) - slopePerMs * (ev.floorTimesMs[i] ?? 0));
  res.sort((a, b) => a - b);
  const intercept = res.length ? (res[res.length >> 1] ?? 0) : NaN;
  let firstI = 0;
  while (firstI < tMs.length && Number.isNaN(values[firstI] ?? NaN)) firstI++;
  let lastI = tMs.length - 1;
  while (lastI > firstI && Number.isNaN(values[lastI] ?? NaN)) lastI--;
  const span = (tMs[lastI] ?? 0) - (tMs[firstI] ?? 0);
  // Extend the time axis to the projected exhaustion when it falls within one more span.
  const extendTo =
    v.exhaustsAtMs !== undefined &&
    v.exhaustsAtMs > (tMs[lastI] ?? 0) &&
    v.exhaustsAtMs - (tMs[lastI] ?? 0) < span
      ? v.exhaustsAtMs
      : undefined;
  const d = decimate(
    tMs.subarray(firstI, lastI + 1),
    { v: values.subarray(firstI, lastI + 1) },
    maxPoints,
    () => 'max',
  );
  const t = Array.from(d.tMs);
  const vals = Array.from(d.cols['v'] ?? [], (x) => (Number.isFinite(x) ? x : null));
  if (extendTo !== undefined) {
    t.push(extendTo);
    vals.push(null);
  }
  const trendOk = v.verdict !== 'none' && Number.isFinite(intercept) && ev.floorTimesMs.length > 1;
  const trend = t.map((ms) => (trendOk ? Math.round((intercept + slopePerMs * ms) * 100) / 100 : null));
  const label = { rss: 'RSS', fds: 'open fds', sockets: 'sockets' }[metric];
  const series: ChartSpec['series'] = [
    { label, values: vals.map((x) => (x === null ? null : Math.round(x * 100) / 100)), fill: true },
    { label: 'fitted trend', values: trend, color: '#dc2626', dash: [6, 4], width: 2 },
  ];
  if (limit !== undefined && extendTo !== undefined)
    series.push({ label: 'limit', values: t.map(() => limit), color: '#111827', dash: [2, 3] });
  const marks: ChartSpec['marks'] = [];
  if (extendTo !== undefined) marks.push({ t: extendTo / 1000, label: 'projected exhaustion' });
  return {
    verdict: v,
    chart: {
      id,
      title: `${label} with the fitted trend`,
      unit,
      t: t.map((ms) => ms / 1000),
      series,
      marks,
      yMin0: metric !== 'rss',
    },
  };
}

function cmdlineOf(argv: readonly string[], comm: string): string {
  return argv.length ? argv.join(' ') : `[${comm}]`;
}

export function buildReport(reader: RecordReader, o: BuildOptions): ReportModel {
  const started = performance.now();
  const maxPoints = o.maxPoints ?? 1200;
  const view = new RecordView(reader);
  const now = o.now ?? Date.now();
  const t = reader.timeline(o.sinceMs ?? 0);
  const stats = reader.stats();
  const runs = view.runs();
  const host = view.host(t);
  const latest = view.latest();
  const userProcs = latest.filter((p) => !p.kernelThread);
  const groups = groupLatest(userProcs).sort((a, b) => (b.rssBytes ?? 0) - (a.rssBytes ?? 0));

  const memTotal = lastFinite(host.cols['memTotalBytes']);
  const { suspects, analysed } = analyseLeaks(reader, view, t, userProcs, {
    memTotalBytes: memTotal,
    live: o.live,
    maxPoints,
  });

  const spikes = findSpikes(reader, t, host, maxPoints);

  const entities: EntitySection[] = [];
  for (const g of groups.slice(0, o.entities ?? 4)) {
    const found = reader.findGroups(g.group).filter((x) => x.label === g.group);
    const members: ProcessRow[] = found.length
      ? reader.processesInGroups(found.map((x) => x.id))
      : g.pids.flatMap((pid) => reader.processesByPid(pid).slice(0, 1));
    const e = view.entity(thin(t, maxPoints), members);
    entities.push({
      kind: g.count > 1 ? 'group' : 'process',
      label: g.group,
      count: g.count,
      pids: g.pids.slice(0, 50),
      latest: {
        cpuPercent: g.cpuPercent,
        rssBytes: g.rssBytes,
        pssBytes: g.pssBytes,
        fds: g.fds,
        sockets: g.sockets,
      },
      charts: entityCharts(e, `ent-${entities.length}`, maxPoints),
    });
  }

  const tri = o.triage;
  const tcp: ReportModel['tcp'] = tri
    ? {
        source: 'snapshot',
        at: tri.takenAt,
        states: Object.entries(tri.tcp.states)
          .filter(([, n]) => n > 0)
          .map(([state, count]) => ({ state, count }))
          .sort((a, b) => b.count - a.count),
        remotes: Object.entries(tri.tcp.remotes).flatMap(([state, list]) =>
          (list ?? []).slice(0, 10).map((r) => ({ state, address: r.address, count: r.count })),
        ),
      }
    : recordTcp(reader, host);

  const last = t.length ? (t.tMs[t.length - 1] ?? 0) : 0;
  const first = t.length ? (t.tMs[0] ?? 0) : 0;
  const intervals = runs.map((r) => r.intervalMs).sort((a, b) => a - b);
  const sh = tri?.host;
  const lastHost = (c: string): number | undefined => lastFinite(host.cols[c]);
  const model: ReportModel = {
    schema: 'procsleuth.report/1',
    generatedAt: iso(now),
    tool: { name: 'procsleuth', version: o.version, chartLibrary: o.chartLibrary },
    redacted: false,
    host: sh
      ? {
          source: 'snapshot',
          hostname: sh.hostname,
          kernel: sh.kernel,
          cpus: sh.cpus,
          uptimeSeconds: sh.uptimeSeconds,
          loadavg: sh.loadavg,
          cpuPercent: sh.cpuPercent,
          memTotalBytes: sh.memTotalBytes,
          memAvailableBytes: sh.memAvailableBytes,
          swapTotalBytes: sh.swapTotalBytes,
          swapFreeBytes: sh.swapFreeBytes,
          fileNrAllocated: tri.limits.fileNrAllocated,
          fileMax: tri.limits.fileMax,
          socketsUsed: tri.sockstat.socketsUsed,
          processes: sh.totalTasks,
        }
      : {
          source: 'record',
          hostname: runs[runs.length - 1]?.hostname ?? 'unknown',
          kernel: undefined,
          cpus: undefined,
          uptimeSeconds: undefined,
          loadavg: [lastHost('load1'), lastHost('load5'), lastHost('load15')].every((x) => x !== undefined)
            ? [lastHost('load1')!, lastHost('load5')!, lastHost('load15')!]
            : undefined,
          cpuPercent: lastHost('cpuPercent'),
          memTotalBytes: lastHost('memTotalBytes'),
          memAvailableBytes: lastHost('memAvailableBytes'),
          swapTotalBytes: undefined,
          swapFreeBytes: undefined,
          fileNrAllocated: lastHost('fileNr'),
          fileMax: undefined,
          socketsUsed: lastHost('socketsUsed'),
          processes: latest.length,
        },
    collection: {
      db: o.db,
      runs: runs.map(({ startedMs, endedMs, ...r }) => ({
        ...r,
        started: iso(startedMs),
        ended: endedMs === null ? null : iso(endedMs),
      })),
      from: t.length ? iso(first) : null,
      to: t.length ? iso(last) : null,
      spanSeconds: Math.round((last - first) / 1000),
      samples: t.length - t.firstRaw,
      processesRecorded: stats.processes,
      intervalMs: intervals[intervals.length >> 1],
      since: o.sinceMs === undefined ? null : iso(o.sinceMs),
      bucketsNote:
        t.firstRaw > 0
          ? `${t.firstRaw} ten-minute buckets older than the retention (min, max and last kept)`
          : undefined,
      buildMs: 0,
    },
    triage: tri,
    triageNote: o.triageNote,
    hostCharts: hostCharts(host, maxPoints),
    leaks: {
      method: `src/detect/leak-verdict.ts on up to ${LEAK_POINTS} samples of the window (every k-th beyond that): Mann–Kendall with the Hamed–Rao correction on the series floor, Theil–Sen slope, vetoes for plateaus, steps and daily cycles`,
      analysed,
      suspects,
      note:
        analysed === 0
          ? 'no leak analysis available: no process with enough samples in this window'
          : undefined,
    },
    spikes,
    groups: groups.slice(0, 20),
    processes: [...userProcs].sort((a, b) => (b.rssBytes ?? 0) - (a.rssBytes ?? 0)).slice(0, 30),
    entities,
    tcp,
    profile: tri?.profile,
  };
  model.collection.buildMs = Math.round(performance.now() - started);
  return model;
}

/**
 * Leak analysis: the biggest holders of memory, fds and sockets (12 each), each series judged on every
 * sample of the window. Limits: host memory for RSS, the process's RLIMIT_NOFILE for fds when it is
 * alive on this host (from a snapshot), none for sockets.
 */
export function analyseLeaks(
  reader: RecordReader,
  view: RecordView,
  t: Timeline,
  userProcs: readonly ProcessLatest[],
  o: {
    memTotalBytes: number | undefined;
    live?: readonly ProcessInfo[] | undefined;
    maxPoints: number;
    perMetric?: number;
  },
): { suspects: LeakSuspect[]; analysed: number } {
  const maxPoints = o.maxPoints;
  const memTotal = o.memTotalBytes;
  const per = o.perMetric ?? 12;
  const topBy = (f: (p: ProcessLatest) => number | undefined, n: number): ProcessLatest[] =>
    [...userProcs].sort((a, b) => (f(b) ?? -1) - (f(a) ?? -1)).slice(0, n);
  const candidates = new Map<number, ProcessLatest>();
  for (const p of [
    ...topBy((p) => p.rssBytes, per),
    ...topBy((p) => p.fds, per),
    ...topBy((p) => p.sockets, per),
  ])
    candidates.set(p.id, p);
  const liveByPid = new Map((o.live ?? []).map((p) => [p.pid, p]));
  const suspects: LeakSuspect[] = [];
  let analysed = 0;
  // The verdict works on block floors of ~120 points: 2,000 points carry all its evidence.
  const tl = thin(t, LEAK_POINTS);
  for (const p of candidates.values()) {
    const row = reader.process(p.id);
    if (!row) continue;
    const e = view.leakSeries(tl, row);
    const live = liveByPid.get(p.pid);
    const fdLimit =
      live && live.startTimeTicks === p.startTimeTicks && typeof live.fdLimit === 'number'
        ? live.fdLimit
        : undefined;
    const metrics: [LeakSuspect['metric'], string, number | undefined, string | undefined][] = [
      ['rss', 'rssBytes', memTotal, memTotal !== undefined ? 'host memory' : undefined],
      ['fds', 'fds', fdLimit, fdLimit !== undefined ? 'RLIMIT_NOFILE (soft)' : undefined],
      ['sockets', 'sockets', undefined, undefined],
    ];
    for (const [metric, col, limit, limitSource] of metrics) {
      const values = e.cols[col];
      if (!values) continue;
      analysed++;
      const { verdict, chart: c } = leakOf(
        tl.tMs,
        values,
        metric,
        limit,
        maxPoints,
        `leak-${p.pid}-${metric}`,
      );
      if (verdict.verdict === 'none') continue;
      const known = Array.from(values).filter((x) => Number.isFinite(x));
      suspects.push({
        pid: p.pid,
        startTimeTicks: p.startTimeTicks,
        comm: p.comm,
        cmdline: cmdlineOf(p.argv, p.comm),
        group: p.group,
        metric,
        unit: metric === 'rss' ? 'bytes' : 'count',
        limit,
        limitSource,
        verdict: verdict.verdict,
        confidence: Math.round(verdict.confidence * 1000) / 1000,
        shape: verdict.shape,
        slopePerHour: verdict.slopePerHour,
        slopeInterval: verdict.slopeInterval,
        exhaustsAt:
          verdict.exhaustsAtMs !== undefined && Number.isFinite(verdict.exhaustsAtMs)
            ? iso(verdict.exhaustsAtMs)
            : undefined,
        exhaustsRange: verdict.exhaustsRangeMs
          ? [
              iso(verdict.exhaustsRangeMs[0]),
              Number.isFinite(verdict.exhaustsRangeMs[1]) ? iso(verdict.exhaustsRangeMs[1]) : null,
            ]
          : undefined,
        first: known[0] ?? NaN,
        last: known[known.length - 1] ?? NaN,
        reasons: verdict.reasons,
        chart: { ...c, title: `${p.pid} ${p.comm}: ${c.title}` },
      });
    }
  }
  suspects.sort((a, b) =>
    a.verdict === b.verdict ? b.confidence - a.confidence : a.verdict === 'leak' ? -1 : 1,
  );

  return { suspects, analysed };
}

export function lastFinite(a: Float64Array | undefined): number | undefined {
  if (!a) return undefined;
  for (let i = a.length - 1; i >= 0; i--) if (Number.isFinite(a[i] ?? NaN)) return a[i];
  return undefined;
}

function recordTcp(reader: RecordReader, host: Columns): ReportModel['tcp'] {
  const r = reader.remotesAt();
  const states = HOST_TCP_STATES.map((s) => ({ state: s, count: lastFinite(host.cols[`tcp:${s}`]) ?? 0 }))
    .filter((s) => s.count > 0)
    .sort((a, b) => b.count - a.count);
  if (!r && states.length === 0) return { source: 'none', at: null, states: [], remotes: [] };
  const names: readonly string[] = TCP_STATES;
  return {
    source: 'record',
    at: r ? new Date(r.tMs).toISOString() : null,
    states,
    remotes: r
      ? Object.entries(r.byState).flatMap(([code, list]) =>
          list.slice(0, 10).map((x) => ({
            state: names[Number(code) - 1] ?? names[Number(code)] ?? code,
            address: x.address,
            count: x.count,
          })),
        )
      : [],
  };
}

/**
 * CPU spikes of the host: upward level shifts of host CPU (PELT), each with the processes that used the
 * most CPU in its first minutes (the sum of their counter increases over that stretch).
 */
export function findSpikes(
  reader: RecordReader,
  t: Timeline,
  host: Columns,
  maxPoints: number,
): ReportModel['spikes'] {
  const cpu = host.cols['cpuPercent'];
  if (!cpu || t.length < 30) return { items: [], chart: undefined };
  const idx: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < cpu.length; i++)
    if (Number.isFinite(cpu[i] ?? NaN)) {
      idx.push(i);
      vals.push(cpu[i] ?? 0);
    }
  const shifts = upwardShifts(vals, { minShiftSigma: 4 }).filter((s) => s.after - s.before >= 10);
  const items: Spike[] = [];
  const db = reader.store.db;
  const top = db.prepare(
    `SELECT p.pid, sc.s AS comm, sa.s AS cmd, sum(coalesce(r.utime_ticks, 0) + coalesce(r.stime_ticks, 0)) AS ticks
     FROM (SELECT proc, utime_ticks, stime_ticks FROM proc_raw WHERE sample > ? AND sample <= ? AND k IS NULL
           UNION ALL SELECT proc, utime_ticks, stime_ticks FROM proc_recent WHERE sample > ? AND sample <= ? AND k IS NULL) r
     JOIN processes p ON p.id = r.proc LEFT JOIN strings sc ON sc.id = p.comm LEFT JOIN strings sa ON sa.id = p.cmdline
     GROUP BY r.proc ORDER BY ticks DESC LIMIT 3`,
  );
  for (const s of shifts.slice(0, 8)) {
    const i = idx[s.onsetIndex] ?? 0;
    const j = Math.min(t.length - 1, i + 6);
    const s0 = t.sample[Math.max(0, i - 1)] ?? -1;
    const s1 = t.sample[j] ?? -1;
    const spanS = ((t.tMs[j] ?? 0) - (t.tMs[Math.max(0, i - 1)] ?? 0)) / 1000;
    const rows =
      s0 >= 0 && s1 >= 0
        ? (top.all(s0, s1, s0, s1) as {
            pid: number;
            comm: string | null;
            cmd: string | null;
            ticks: number;
          }[])
        : [];
    items.push({
      onset: new Date(t.tMs[i] ?? 0).toISOString(),
      onsetMs: t.tMs[i] ?? 0,
      beforePercent: Math.round(s.before * 10) / 10,
      afterPercent: Math.round(s.after * 10) / 10,
      persistent: s.persistent,
      top: rows.map((r) => ({
        pid: r.pid,
        comm: r.comm ?? '',
        cmdline: cmdlineOf(r.cmd ? r.cmd.split('\u0000') : [], r.comm ?? ''),
        cpuPercent: spanS > 0 ? Math.round((r.ticks / 100 / spanS) * 1000) / 10 : 0,
      })),
    });
  }
  if (items.length === 0) return { items, chart: undefined };
  const c = chart(
    'spikes',
    'Host CPU with spike onsets',
    'percent',
    host,
    [{ col: 'cpuPercent', label: 'busy', fill: true }],
    maxPoints,
  );
  c.marks = items.map((s, k) => ({ t: s.onsetMs / 1000, label: `spike ${k + 1}` }));
  return { items, chart: c };
}
