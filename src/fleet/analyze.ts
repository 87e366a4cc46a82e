/**
 * `leaks` and `spikes` across a fleet, on what the recorders exported to Prometheus. The same detectors
 * as on one node's record (detect/leaks.ts, detect/spikes.ts) run on every (node, group) series;
 * `spikes` then groups onsets across nodes (onsets.ts).
 *
 * Cost: nodes are fetched one at a time (a few in parallel), so memory holds one node's series, never
 * the fleet's: per node, 7 `query_range` requests for leaks (3 for spikes) per chunk of 10,000 steps,
 * each answering ~groups × points values. Discovery and limits are one instant query each for the
 * whole fleet.
 */
import {
  judgeSeries,
  rankSuspects,
  type JudgeStats,
  type LeakMetric,
  type LeaksDocument,
  type Limit,
  type SeriesInput,
  type Suspect,
} from '../detect/leaks.js';
import { findSpikes, type Spike, type SpikesDocument } from '../detect/spikes.js';
import { FLEET_WINDOW_MS, groupOnsets, type FleetEvent, type TrafficSeries } from './onsets.js';
import type { PromSource } from './prometheus-api.js';
import {
  cpuInputs,
  leakInputs,
  mergeChunks,
  planRange,
  promString,
  selector,
  toArrays,
  type FleetEntity,
  type MatrixSeries,
  type RangePlan,
} from './series.js';

export interface FleetQuery {
  startMs: number;
  endMs: number;
  /** A regular expression on the `node` label (PromQL `=~`, anchored). */
  nodeRegex?: string | undefined;
  /** More label matchers, PromQL syntax: `job="procsleuth",env="prod"`. */
  selector?: string | undefined;
  /** Force the step (raised when it would exceed the points per series). */
  stepMs?: number | undefined;
  /** Nodes fetched at the same time (default 4). */
  concurrency?: number | undefined;
  /** Onsets within this much are one fleet event (default 2 min, at least 3 steps). */
  windowMs?: number | undefined;
  now?: number | undefined;
}

export interface PrometheusSourceRef {
  kind: 'prometheus';
  url: string;
  /** The nodes analysed, sorted. */
  nodes: string[];
  /** The evaluation step of the range queries. */
  stepMs: number;
  /** The node and label matchers applied, PromQL. */
  selector: string;
}

export type FleetLeaksDocument = Omit<LeaksDocument, 'source' | 'scanned'> & {
  source: PrometheusSourceRef;
  scanned: LeaksDocument['scanned'] & { nodes: number };
};

export type FleetSpikesDocument = Omit<SpikesDocument, 'source' | 'scanned'> & {
  source: PrometheusSourceRef;
  scanned: SpikesDocument['scanned'] & { nodes: number };
  /** The same group's CPU rising on several nodes at once, widest first. */
  fleetEvents: FleetEvent[];
};

/** Which exported family holds each leak metric, summed over labels other than node and group. */
export const LEAK_FAMILIES: Record<LeakMetric, { name: string; more: string[] }> = {
  anon: { name: 'procsleuth_group_anon_bytes', more: [] },
  rss: { name: 'procsleuth_group_resident_bytes', more: [] },
  pss: { name: 'procsleuth_group_pss_bytes', more: [] },
  fds: { name: 'procsleuth_group_fds', more: [] },
  sockets: { name: 'procsleuth_group_sockets', more: [] },
  close_wait: { name: 'procsleuth_group_sockets', more: ['kind="tcp_close_wait"'] },
  threads: { name: 'procsleuth_group_threads', more: [] },
};
export const GROUP_CPU = 'procsleuth_group_cpu_seconds_total';
export const HOST_CPU = 'procsleuth_host_cpu_seconds_total';
export const HOST_TCP = 'procsleuth_host_tcp_sockets';
export const RECORDER_INTERVAL = 'procsleuth_recorder_interval_seconds';
export const HOST_MEM_AVAILABLE = 'procsleuth_host_memory_available_bytes';
export const HOST_SWAP_FREE = 'procsleuth_host_swap_free_bytes';
const MEMORY_METRICS: ReadonlySet<string> = new Set(['anon', 'rss', 'pss']);

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

interface Fleet {
  nodes: string[];
  intervalMs: number;
  plan: RangePlan;
  matchers: string[];
}

/** What both documents say of where and when their data came from. */
function documentHead(
  src: PromSource,
  fleet: Fleet,
  q: FleetQuery,
  acc: { lo: number; hi: number; points: number },
): {
  generatedAt: string;
  source: PrometheusSourceRef;
  since: string | null;
  from: string | null;
  to: string | null;
  samples: number;
} {
  return {
    generatedAt: new Date(q.now ?? Date.now()).toISOString(),
    source: sourceRef(src, fleet),
    since: iso(q.startMs),
    from: Number.isFinite(acc.lo) ? iso(acc.lo) : null,
    to: Number.isFinite(acc.hi) ? iso(acc.hi) : null,
    samples: acc.points,
  };
}

function fleetMatchers(q: FleetQuery): string[] {
  const m: string[] = [];
  if (q.nodeRegex !== undefined) m.push(`node=~${promString(q.nodeRegex)}`);
  const extra = (q.selector ?? '')
    .trim()
    .replace(/^\{|\}$/g, '')
    .trim();
  if (extra !== '') m.push(extra);
  return m;
}

/** The nodes that exported anything in the range, and their largest sampling interval. */
async function discover(src: PromSource, q: FleetQuery): Promise<Fleet> {
  const matchers = fleetMatchers(q);
  const rangeSec = Math.max(1, Math.ceil((q.endMs - q.startMs) / 1000));
  const answer = await src.query(
    `max by (node) (max_over_time(${selector(RECORDER_INTERVAL, undefined, '', matchers)}[${rangeSec}s]))`,
    q.endMs,
  );
  const nodes: string[] = [];
  let intervalSec = 0;
  for (const s of answer) {
    const node = s.metric['node'];
    if (node === undefined) continue;
    nodes.push(node);
    const v = Number(s.value[1]);
    if (Number.isFinite(v) && v > intervalSec) intervalSec = v;
  }
  nodes.sort();
  const plan = planRange(q.startMs, q.endMs, intervalSec > 0 ? intervalSec * 1000 : 60_000, {
    stepMs: q.stepMs,
  });
  return { nodes, intervalMs: intervalSec * 1000, plan, matchers };
}

async function fetchRange(src: PromSource, promql: string, plan: RangePlan): Promise<MatrixSeries[]> {
  const parts: MatrixSeries[][] = [];
  for (const c of plan.chunks) parts.push(await src.queryRange(promql, c.startMs, c.endMs, plan.stepMs));
  return parts.length === 1 ? (parts[0] ?? []) : mergeChunks(parts);
}

async function eachNode(
  nodes: readonly string[],
  concurrency: number,
  f: (node: string) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < nodes.length) await f(nodes[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, nodes.length)) }, worker));
}

function sourceRef(src: PromSource, fleet: Fleet): PrometheusSourceRef {
  return {
    kind: 'prometheus',
    url: src.url,
    nodes: fleet.nodes,
    stepMs: fleet.plan.stepMs,
    selector: `{${fleet.matchers.join(',')}}`,
  };
}

function span(all: readonly { tMs: Float64Array }[], acc: { lo: number; hi: number; points: number }): void {
  for (const s of all) {
    if (s.tMs.length === 0) continue;
    acc.lo = Math.min(acc.lo, s.tMs[0]!);
    acc.hi = Math.max(acc.hi, s.tMs[s.tMs.length - 1]!);
    acc.points += s.tMs.length;
  }
}

function noNodes(src: PromSource, fleet: Fleet): string {
  return `no procsleuth series (${RECORDER_INTERVAL}${sourceRef(src, fleet).selector}) at ${src.url} in the range: are recorders writing there (record --remote-write, or a scrape of --metrics-listen)?`;
}

/** Memory headroom per node at the end of the range: MemAvailable + SwapFree. */
async function memoryHeadroom(src: PromSource, fleet: Fleet, atMs: number): Promise<Map<string, number>> {
  const sel = (name: string): string => selector(name, undefined, '', fleet.matchers);
  const answer = await src.query(
    `sum by (node) (last_over_time(${sel(HOST_MEM_AVAILABLE)}[10m])) + on (node) sum by (node) (last_over_time(${sel(HOST_SWAP_FREE)}[10m]))`,
    atMs,
  );
  const out = new Map<string, number>();
  for (const s of answer) {
    const v = Number(s.value[1]);
    if (s.metric['node'] !== undefined && Number.isFinite(v)) out.set(s.metric['node'], v);
  }
  return out;
}

/** `leaks` over every node: every exported group's memory, fds, sockets and threads judged. */
export async function fleetLeaks(src: PromSource, q: FleetQuery): Promise<FleetLeaksDocument> {
  const fleet = await discover(src, q);
  const stats: JudgeStats = { series: 0, judged: 0 };
  const suspects: Suspect[] = [];
  const groups = new Set<string>();
  const acc = { lo: Infinity, hi: -Infinity, points: 0 };
  const notes: string[] = [];
  if (fleet.nodes.length === 0) notes.push(noNodes(src, fleet));
  const headroom = fleet.nodes.length > 0 ? await memoryHeadroom(src, fleet, q.endMs) : new Map();
  await eachNode(fleet.nodes, q.concurrency ?? 4, async (node) => {
    for (const [metric, fam] of Object.entries(LEAK_FAMILIES) as [
      LeakMetric,
      (typeof LEAK_FAMILIES)[LeakMetric],
    ][]) {
      const promql = `sum by (node, group) (${selector(fam.name, node, '', [...fleet.matchers, ...fam.more])})`;
      const inputs = leakInputs(metric, await fetchRange(src, promql, fleet.plan));
      span(inputs, acc);
      for (const s of inputs) {
        groups.add(s.entity.key);
        if (MEMORY_METRICS.has(metric)) s.limit = memoryLimit(s, headroom.get(node), q.endMs);
        const found = judgeSeries(s, stats);
        if (found) suspects.push(found);
      }
    }
  });
  notes.push(
    "fleet series are per group (executable and normalised arguments) per node, as the recorders export them; a leak in one of a group's processes shows in the group's sum",
    "restarts inside a group are not visible in Prometheus: a leak that restarts hide (shape per-run) needs the node's own record (procsleuth leaks --db)",
    'fd, socket and thread limits are not exported: exhaustion is projected for memory only (MemAvailable + SwapFree of the node)',
  );
  if (fleet.nodes.length > 0)
    notes.push(
      `${fleet.nodes.length} node${fleet.nodes.length === 1 ? '' : 's'}, step ${fleet.plan.stepMs / 1000} s (recorder interval ${fleet.intervalMs / 1000} s), ${fleet.plan.chunks.length} chunk${fleet.plan.chunks.length === 1 ? '' : 's'} per query`,
    );
  return {
    schema: 'procsleuth.leaks/1',
    ...documentHead(src, fleet, q, acc),
    scanned: {
      processes: 0,
      groups: groups.size,
      trees: 0,
      series: stats.series,
      judged: stats.judged,
      nodes: fleet.nodes.length,
    },
    notes,
    suspects: rankSuspects(suspects),
  };
}

function memoryLimit(
  s: SeriesInput,
  headroom: number | undefined,
  atMs: number,
): (() => Limit | undefined) | undefined {
  if (headroom === undefined) return undefined;
  const node = (s.entity as FleetEntity).node;
  return () => {
    let last: number | undefined;
    for (let i = s.values.length - 1; i >= 0; i--)
      if (Number.isFinite(s.values[i]!)) {
        last = s.values[i]!;
        break;
      }
    if (last === undefined) return undefined;
    return {
      value: last + headroom,
      name: 'MemAvailable+SwapFree',
      source: `the group's last level plus ${HOST_MEM_AVAILABLE} + ${HOST_SWAP_FREE} of node ${node} at ${new Date(atMs).toISOString()}, from Prometheus`,
    };
  };
}

/** A counter's rate in cores: irate (the last interval) while the step is near the interval, else rate over one step. */
export function rateExpr(sel: string, stepMs: number, intervalMs: number): string {
  if (intervalMs > 0 && stepMs <= 2 * intervalMs)
    return `irate(${sel}[${Math.ceil(Math.max(3 * intervalMs, 2 * stepMs))}ms])`;
  return `rate(${sel}[${Math.ceil(stepMs + Math.max(intervalMs, 0))}ms])`;
}

/** `spikes` over every node: CPU level shifts of every group and host, and onsets shared across nodes. */
export async function fleetSpikes(src: PromSource, q: FleetQuery): Promise<FleetSpikesDocument> {
  const fleet = await discover(src, q);
  const spikes: Spike[] = [];
  const running = new Map<string, Set<string>>();
  const traffic = new Map<string, TrafficSeries>();
  const acc = { lo: Infinity, hi: -Infinity, points: 0 };
  let series = 0;
  const groups = new Set<string>();
  const { stepMs } = fleet.plan;
  await eachNode(fleet.nodes, q.concurrency ?? 4, async (node) => {
    const sel = (name: string, more: string[] = []): string =>
      selector(name, node, '', [...fleet.matchers, ...more]);
    const groupCpu = cpuInputs(
      await fetchRange(
        src,
        `sum by (node, group) (${rateExpr(sel(GROUP_CPU), stepMs, fleet.intervalMs)})`,
        fleet.plan,
      ),
    );
    const hostCpu = cpuInputs(
      await fetchRange(
        src,
        `sum by (node) (${rateExpr(sel(HOST_CPU, ['mode!~"idle|iowait"']), stepMs, fleet.intervalMs)})`,
        fleet.plan,
      ),
    );
    const tcp = await fetchRange(
      src,
      `sum by (node) (${sel(HOST_TCP, ['state="ESTABLISHED"'])})`,
      fleet.plan,
    );
    const t = tcp[0];
    if (t) traffic.set(node, toArrays(t));
    span(groupCpu, acc);
    for (const s of [...groupCpu, ...hostCpu]) {
      series++;
      const e = s.entity as FleetEntity;
      if (e.kind === 'group' && e.group !== undefined && s.percent.some(Number.isFinite)) {
        groups.add(e.key);
        let set = running.get(e.group);
        if (!set) running.set(e.group, (set = new Set()));
        set.add(node);
      }
      spikes.push(...findSpikes(s));
    }
  });
  spikes.sort((a, b) => a.onsetMs - b.onsetMs || b.after - b.before - (a.after - a.before));
  const windowMs = q.windowMs ?? Math.max(FLEET_WINDOW_MS, 3 * stepMs);
  const fleetEvents = groupOnsets(
    spikes
      .filter((s) => s.entity.kind === 'group' && s.entity.group !== undefined)
      .map((s) => ({ node: (s.entity as FleetEntity).node, group: s.entity.group!, spike: s })),
    { nodes: fleet.nodes, running, traffic, windowMs },
  );
  const notes = [
    'CPU is % of one core, per group per node (the rate of procsleuth_group_cpu_seconds_total) and per host (every mode but idle and iowait)',
    `onsets of one group on several nodes within ${windowMs / 1000} s are one fleet event; traffic is each node's ESTABLISHED TCP sockets before and after the onset`,
  ];
  if (fleet.nodes.length === 0) notes.unshift(noNodes(src, fleet));
  return {
    schema: 'procsleuth.spikes/1',
    ...documentHead(src, fleet, q, acc),
    scanned: { processes: 0, groups: groups.size, series, nodes: fleet.nodes.length },
    notes,
    events: [],
    spikes,
    fleetEvents,
  };
}
