/**
 * `history`: one series per metric for a process, a group (same executable and normalised arguments,
 * across restarts — the twelve workers) or a tree (a process and every descendant), read from the
 * record. Counters become rates here (CPU % of one core, faults per second); levels of several processes
 * are summed at each sample over the processes alive then. The JSON document is
 * `procsleuth.history/1`; its field names are a contract.
 */
import { ProcsleuthError } from '../util/errors.js';
import { USER_HZ } from '../procfs/pid-stat.js';
import {
  PROC_SERIES,
  SOCK_SERIES,
  SOCK_TCP_STATES,
  type ProcessRow,
  type RecordReader,
  type Timeline,
} from '../store/index.js';

export type Unit = 'percent' | 'bytes' | 'count' | 'per-second' | 'ms';

interface MetricDef {
  series: 'proc' | 'sock' | 'self';
  columns: string[];
  kind: 'rate' | 'level';
  /** Multiplies the stored value (or its rate per second) into the unit. */
  scale: number;
  unit: Unit;
  description: string;
}

const level = (
  series: 'proc' | 'sock',
  columns: string[],
  scale: number,
  unit: Unit,
  description: string,
): MetricDef => ({
  series,
  columns,
  kind: 'level',
  scale,
  unit,
  description,
});

export const METRICS: Record<string, MetricDef> = {
  cpu: {
    series: 'proc',
    columns: ['utime_ticks', 'stime_ticks'],
    kind: 'rate',
    scale: 100 / USER_HZ,
    unit: 'percent',
    description: 'CPU, % of one core',
  },
  rss: level('proc', ['rss_kib'], 1024, 'bytes', 'resident set size'),
  anon: level('proc', ['anon_kib'], 1024, 'bytes', 'anonymous resident memory'),
  swap: level('proc', ['swap_kib'], 1024, 'bytes', 'swapped out'),
  pss: level('proc', ['pss_kib'], 1024, 'bytes', 'proportional set size'),
  vsz: level('proc', ['vsz_kib'], 1024, 'bytes', 'virtual size'),
  threads: level('proc', ['threads'], 1, 'count', 'threads'),
  fds: level('proc', ['fds'], 1, 'count', 'open file descriptors'),
  minflt: {
    series: 'proc',
    columns: ['minflt'],
    kind: 'rate',
    scale: 1,
    unit: 'per-second',
    description: 'minor page faults per second',
  },
  majflt: {
    series: 'proc',
    columns: ['majflt'],
    kind: 'rate',
    scale: 1,
    unit: 'per-second',
    description: 'major page faults per second',
  },
  sockets: level(
    'sock',
    SOCK_SERIES.columns.map((c) => c.name),
    1,
    'count',
    'sockets of every kind',
  ),
  tcp: level(
    'sock',
    SOCK_TCP_STATES.map((s) => `tcp_${s.toLowerCase()}`),
    1,
    'count',
    'TCP sockets',
  ),
  ...Object.fromEntries(
    SOCK_TCP_STATES.map((s) => [
      s.toLowerCase(),
      level('sock', [`tcp_${s.toLowerCase()}`], 1, 'count', `TCP sockets in ${s}`),
    ]),
  ),
  udp: level('sock', ['udp'], 1, 'count', 'UDP sockets'),
  unix: level('sock', ['unix'], 1, 'count', 'unix sockets'),
};

/** The recorder's own series (`--recorder`). */
export const RECORDER_METRICS: Record<string, MetricDef> = {
  cpu: {
    series: 'self',
    columns: ['cpuMs'],
    kind: 'rate',
    scale: 100 / 1000,
    unit: 'percent',
    description: "the recorder's CPU, % of one core",
  },
  rss: {
    series: 'self',
    columns: ['rssKib'],
    kind: 'level',
    scale: 1024,
    unit: 'bytes',
    description: "the recorder's RSS",
  },
  duration: {
    series: 'self',
    columns: ['durationMs'],
    kind: 'level',
    scale: 1,
    unit: 'ms',
    description: 'time to take and write one sample',
  },
};

export const DEFAULT_METRICS = ['cpu', 'rss', 'fds'];

export type HistorySelector =
  | { kind: 'process'; pid: number }
  | { kind: 'group'; name: string }
  | { kind: 'tree'; pid: number }
  | { kind: 'recorder' };

export interface HistoryPoint {
  t: string;
  tMs: number;
  value: number;
  /** Bucket points of a single process: the min and max within the 10 minutes. */
  min?: number;
  max?: number;
  /** Processes contributing to this point (groups and trees). */
  processes: number;
}

export interface HistorySeries {
  metric: string;
  unit: Unit;
  description: string;
  points: HistoryPoint[];
  summary: { first: number; last: number; min: number; max: number; mean: number } | undefined;
}

export interface HistoryProcess {
  pid: number;
  startTimeTicks: number;
  bootId: string;
  comm: string;
  exe: string | null;
  cmdline: string;
  firstSeen: string;
  ended: string | null;
}

export interface HistoryDocument {
  schema: 'procsleuth.history/1';
  db: string;
  generatedAt: string;
  query: {
    kind: HistorySelector['kind'];
    pid?: number;
    group?: string;
    metrics: string[];
    since: string | null;
  };
  entity: {
    kind: HistorySelector['kind'];
    label: string;
    pid?: number;
    startTimeTicks?: number;
    comm?: string;
    cmdline?: string;
    group?: string;
    processes: HistoryProcess[];
  };
  /** Timeline points in the window (samples, and 10-minute buckets older than the retention). */
  samples: number;
  from: string | null;
  to: string | null;
  series: HistorySeries[];
}

export interface HistoryQuery {
  selector: HistorySelector;
  metrics: string[];
  sinceMs: number | undefined;
  dbPath: string;
  now?: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function resolveEntity(
  r: RecordReader,
  sel: HistorySelector,
): { members: ProcessRow[]; entity: HistoryDocument['entity'] } {
  const describe = (p: ProcessRow): HistoryProcess => ({
    pid: p.pid,
    startTimeTicks: p.startTimeTicks,
    bootId: p.bootId,
    comm: p.comm,
    exe: p.exe,
    cmdline: p.argv.join(' '),
    firstSeen: iso(p.firstMs),
    ended: p.endMs === null ? null : iso(p.endMs),
  });
  if (sel.kind === 'recorder')
    return { members: [], entity: { kind: 'recorder', label: 'the recorder itself', processes: [] } };
  if (sel.kind === 'group') {
    const groups = r.findGroups(sel.name);
    if (groups.length === 0)
      throw new ProcsleuthError('NOT_FOUND', `no recorded group matches "${sel.name}"`);
    if (groups.length > 1) {
      const list = groups
        .slice(0, 10)
        .map((g) => `  ${g.label} (${g.processes} processes)`)
        .join('\n');
      throw new ProcsleuthError(
        'USAGE',
        `"${sel.name}" matches ${groups.length} groups; give one label exactly:\n${list}`,
      );
    }
    const g = groups[0]!;
    const members = r.processesInGroups([g.id]);
    return {
      members,
      entity: { kind: 'group', label: g.label, group: g.label, processes: members.map(describe) },
    };
  }
  const found = r.processesByPid(sel.pid);
  const root = found[0];
  if (!root) throw new ProcsleuthError('NOT_FOUND', `no process with PID ${sel.pid} in the record`);
  const members = sel.kind === 'tree' ? r.tree(root.id) : [root];
  const cmdline = root.argv.join(' ') || `[${root.comm}]`;
  return {
    members,
    entity: {
      kind: sel.kind,
      label: `${root.pid} ${root.comm} (${cmdline})`,
      pid: root.pid,
      startTimeTicks: root.startTimeTicks,
      comm: root.comm,
      cmdline,
      group: root.groupLabel ?? undefined,
      processes: members.map(describe),
    },
  };
}

export function buildHistory(r: RecordReader, q: HistoryQuery): HistoryDocument {
  const defs = q.selector.kind === 'recorder' ? RECORDER_METRICS : METRICS;
  for (const m of q.metrics) {
    if (!Object.hasOwn(defs, m)) {
      throw new ProcsleuthError('USAGE', `unknown metric "${m}"; known: ${Object.keys(defs).join(', ')}`);
    }
  }
  const { members, entity } = resolveEntity(r, q.selector);
  const t = r.timeline(q.sinceMs ?? 0);
  const ranges = members.map((p) => r.aliveRange(p, t));
  const series = q.metrics.map((m) =>
    seriesOf(r, t, members, ranges, m, defs[m]!, q.selector.kind === 'process'),
  );
  let lo = Infinity;
  let hi = -Infinity;
  const counted = new Set<number>();
  for (const s of series) {
    for (const p of s.points) {
      lo = Math.min(lo, p.tMs);
      hi = Math.max(hi, p.tMs);
      counted.add(p.tMs);
    }
  }
  return {
    schema: 'procsleuth.history/1',
    db: q.dbPath,
    generatedAt: iso(q.now ?? Date.now()),
    query: {
      kind: q.selector.kind,
      ...(q.selector.kind === 'process' || q.selector.kind === 'tree' ? { pid: q.selector.pid } : {}),
      ...(q.selector.kind === 'group' ? { group: q.selector.name } : {}),
      metrics: q.metrics,
      since: q.sinceMs === undefined ? null : iso(q.sinceMs),
    },
    entity,
    samples: counted.size,
    from: Number.isFinite(lo) ? iso(lo) : null,
    to: Number.isFinite(hi) ? iso(hi) : null,
    series,
  };
}

function seriesOf(
  r: RecordReader,
  t: Timeline,
  members: ProcessRow[],
  ranges: ([number, number] | undefined)[],
  metric: string,
  def: MetricDef,
  single: boolean,
): HistorySeries {
  const n = t.length;
  const sum = new Float64Array(n);
  const mins = new Float64Array(n).fill(NaN);
  const maxs = new Float64Array(n).fill(NaN);
  const count = new Int32Array(n);
  const add = (i: number, v: number, mn: number, mx: number): void => {
    if (Number.isNaN(v)) return;
    sum[i] = (sum[i] ?? 0) + v;
    count[i] = (count[i] ?? 0) + 1;
    mins[i] = mn;
    maxs[i] = mx;
  };
  if (def.series === 'self') {
    const col = t.self[def.columns[0] as keyof Timeline['self']];
    for (let i = t.firstRaw; i < n; i++) {
      const v = col[i] ?? NaN;
      if (def.kind === 'level') add(i, v * def.scale, NaN, NaN);
      else if (i > t.firstRaw && t.boot[i] === t.boot[i - 1]) {
        const d = v - (col[i - 1] ?? NaN);
        const dt = ((t.tMs[i] ?? 0) - (t.tMs[i - 1] ?? 0)) / 1000;
        // The recorder's CPU counter restarts with each run: a drop is a new run, no rate.
        if (d >= 0 && dt > 0) add(i, (d / dt) * def.scale, NaN, NaN);
      }
    }
  } else {
    const spec = def.series === 'proc' ? PROC_SERIES : SOCK_SERIES;
    members.forEach((p, k) => {
      const range = ranges[k];
      if (!range) return;
      const d = r.decode(spec, p.id, def.columns, t, range);
      const len = range[1] - range[0] + 1;
      for (let j = 0; j < len; j++) {
        const i = range[0] + j;
        let v = 0;
        let mn = 0;
        let mx = 0;
        let known = false;
        for (let c = 0; c < def.columns.length; c++) {
          const x = d.values[c]?.[j] ?? NaN;
          if (def.kind === 'rate') {
            if (j === 0) continue;
            const prev = d.values[c]?.[j - 1] ?? NaN;
            const dt = ((t.tMs[i] ?? 0) - (t.tMs[i - 1] ?? 0)) / 1000;
            const dv = x - prev;
            if (Number.isNaN(dv) || dv < 0 || dt <= 0) continue;
            v += (dv / dt) * def.scale;
            known = true;
          } else if (!Number.isNaN(x)) {
            v += x * def.scale;
            mn += (d.min[c]?.[j] ?? NaN) * def.scale;
            mx += (d.max[c]?.[j] ?? NaN) * def.scale;
            known = true;
          }
        }
        if (known) add(i, v, mn, mx);
      }
    });
  }
  const points: HistoryPoint[] = [];
  for (let i = 0; i < n; i++) {
    const c = count[i] ?? 0;
    if (c === 0) continue;
    const tMs = t.tMs[i] ?? 0;
    const p: HistoryPoint = { t: iso(tMs), tMs, value: round(sum[i] ?? 0), processes: c };
    if (single && i < t.firstRaw && def.kind === 'level' && !Number.isNaN(mins[i] ?? NaN)) {
      p.min = round(mins[i] ?? 0);
      p.max = round(maxs[i] ?? 0);
    }
    points.push(p);
  }
  return {
    metric,
    unit: def.unit,
    description: def.description,
    points,
    summary: summarise(points.map((p) => p.value)),
  };
}

function summarise(v: number[]): HistorySeries['summary'] {
  if (v.length === 0) return undefined;
  let min = Infinity;
  let max = -Infinity;
  let s = 0;
  for (const x of v) {
    min = Math.min(min, x);
    max = Math.max(max, x);
    s += x;
  }
  return { first: v[0] ?? NaN, last: v[v.length - 1] ?? NaN, min, max, mean: round(s / v.length) };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A text sparkline of at most `width` characters: each character is the mean of its share of points. */
export function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return '';
  const cols = Math.min(width, values.length);
  const means: number[] = [];
  for (let c = 0; c < cols; c++) {
    const a = Math.floor((c * values.length) / cols);
    const b = Math.max(a + 1, Math.floor(((c + 1) * values.length) / cols));
    let s = 0;
    let k = 0;
    for (let i = a; i < b; i++) {
      const v = values[i] ?? NaN;
      if (!Number.isNaN(v)) {
        s += v;
        k++;
      }
    }
    means.push(k > 0 ? s / k : NaN);
  }
  const known = means.filter((m) => !Number.isNaN(m));
  const lo = Math.min(...known);
  const hi = Math.max(...known);
  return means
    .map((m) => {
      if (Number.isNaN(m)) return ' ';
      if (hi === lo) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.floor(((m - lo) / (hi - lo)) * BARS.length))];
    })
    .join('');
}
