/**
 * The report's content, built from the record (and a triage taken now, when the caller has one): host
 * series, leak suspects with their fitted trend and projected exhaustion, CPU spikes with their onset,
 * the biggest groups with their memory / fd / socket series, the TCP states with top remotes, and how
 * the data was collected. A plain JSON-able value: the HTML renderer and the vendor bundle both use it,
 * and redaction runs over it as a whole (redact.ts) before either sees it.
 */
import { TCP_STATES } from '../../collect/types.js';
import type { LeaksDocument } from '../../detect/leaks.js';
import type { SpikesDocument } from '../../detect/spikes.js';
import type { TriageReport } from '../../rules/types.js';
import type { SyscallProfile } from '../../trace/types.js';
import type { ProcessRow, RecordReader } from '../../store/index.js';
import { reportLeaks, reportSpikes, type ReportLeaks, type ReportSpikes } from './suspects.js';
import {
  HOST_TCP_STATES,
  RecordView,
  thin,
  groupLatest,
  type Columns,
  type GroupLatest,
  type ProcessLatest,
  type RunInfo,
} from './data.js';
import { chart, type ChartSpec } from './chart.js';

export type { ChartSpec, Unit } from './chart.js';

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
  schema: 'procsleuth.report/2';
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
  /** The `procsleuth leaks` document over the window, each suspect drawn. */
  leaks: ReportLeaks;
  /** The `procsleuth spikes` document over the window, each event drawn. */
  spikes: ReportSpikes;
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
  /** `procsleuth leaks` and `procsleuth spikes` over the same window (undefined: not run, and said so). */
  leaks: LeaksDocument | undefined;
  spikes: SpikesDocument | undefined;
  maxPoints?: number;
  /** Groups drawn with their own charts. */
  entities?: number;
  now?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
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

  const leaks = reportLeaks(reader, view, t, o.leaks, maxPoints);
  const spikes = reportSpikes(reader, view, t, host, o.spikes, maxPoints);

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
  const lastHost = (c: string): number | undefined => {
    const v = lastFinite(host.cols[c]);
    // the record stores load × 100 as an integer: 0.95, not 0.9500000000000001
    return v === undefined ? v : Math.round(v * 100) / 100;
  };
  const model: ReportModel = {
    schema: 'procsleuth.report/2',
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
    leaks,
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
