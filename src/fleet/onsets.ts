/**
 * Onsets across nodes, pure. A CPU spike of one group on one node may be that node's load; the same
 * group rising on many nodes within a couple of minutes is one event, and its breadth is the clue:
 * nodes that serve no more connections than before (a passive fail-over, a drained node) cannot have
 * been pushed by their own traffic, so the cause is something every node received — a deploy or a
 * config push, a scheduled job, data or a dependency they all read, the clock.
 *
 * Grouping: per group label, spikes sorted by onset; a cluster opens at a spike and takes every later
 * spike within `windowMs` of its first onset, one per node (the earliest). Clusters of two nodes or more
 * are fleet events. Traffic around the onset is each node's count of ESTABLISHED TCP sockets: the
 * median over `windowMs` before the onset against the median over `windowMs` after it.
 */
import { median } from '../detect/robust.js';
import type { Spike } from '../detect/spikes.js';

/** Onsets within this much of the first one are the same event (the "within 2 minutes"). */
export const FLEET_WINDOW_MS = 120_000;
/** Connections "did not rise": the count after is at most this share above the count before (or +1). */
export const TRAFFIC_RISE_SHARE = 0.1;

export interface NodeSpike {
  node: string;
  group: string;
  spike: Spike;
}

/** ESTABLISHED TCP sockets of one node over time. */
export interface TrafficSeries {
  tMs: Float64Array;
  values: Float64Array;
}

export interface FleetEventMember {
  node: string;
  onset: string;
  onsetMs: number;
  before: number;
  after: number;
  persistent: boolean;
  /** Median ESTABLISHED TCP sockets before and after the onset; null when unknown. */
  connectionsBefore: number | null;
  connectionsAfter: number | null;
}

export interface FleetEvent {
  onset: string;
  onsetMs: number;
  group: string;
  /** Nodes where the group's CPU rose, in onset order. */
  nodes: string[];
  /** Nodes the analysis covered, and of those the nodes where the group ran in the range. */
  nodesTotal: number;
  nodesRunning: number;
  /** Last onset minus first. */
  spreadMs: number;
  /** Medians across the nodes, % of one core. */
  before: number;
  after: number;
  persistent: boolean;
  /** Nodes whose ESTABLISHED TCP sockets did not rise at the onset (no new traffic to explain it). */
  quietNodes: string[];
  members: FleetEventMember[];
  summary: string;
  suggests: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const r1 = (x: number): number => Math.round(x * 10) / 10;
const pct = (x: number): string => `${x >= 10 ? Math.round(x) : r1(x)} %`;

function spread(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${r1(ms / 1000)} s`;
  return `${r1(ms / 60_000)} min`;
}

/** Median of the finite values with fromMs ≤ t < toMs; undefined when there is none. */
export function medianIn(s: TrafficSeries, fromMs: number, toMs: number): number | undefined {
  const xs: number[] = [];
  for (let i = 0; i < s.tMs.length; i++) {
    const t = s.tMs[i]!;
    const v = s.values[i]!;
    if (t >= fromMs && t < toMs && Number.isFinite(v)) xs.push(v);
  }
  return xs.length === 0 ? undefined : median(xs);
}

export function connectionsRose(before: number, after: number): boolean {
  return after - before > Math.max(1, TRAFFIC_RISE_SHARE * before);
}

export interface GroupOnsetsOptions {
  /** Every node the analysis covered. */
  nodes: readonly string[];
  /** Nodes where each group had CPU series in the range. */
  running: ReadonlyMap<string, ReadonlySet<string>>;
  traffic: ReadonlyMap<string, TrafficSeries>;
  windowMs?: number;
}

/** Fleet events, widest first, then earliest. */
export function groupOnsets(spikes: readonly NodeSpike[], o: GroupOnsetsOptions): FleetEvent[] {
  const windowMs = o.windowMs ?? FLEET_WINDOW_MS;
  const byGroup = new Map<string, NodeSpike[]>();
  for (const s of spikes) {
    let l = byGroup.get(s.group);
    if (!l) byGroup.set(s.group, (l = []));
    l.push(s);
  }
  const events: FleetEvent[] = [];
  for (const [group, list] of byGroup) {
    list.sort((a, b) => a.spike.onsetMs - b.spike.onsetMs || (a.node < b.node ? -1 : 1));
    let i = 0;
    while (i < list.length) {
      const first = list[i]!.spike.onsetMs;
      const cluster = new Map<string, NodeSpike>();
      let j = i;
      for (; j < list.length && list[j]!.spike.onsetMs - first <= windowMs; j++) {
        const s = list[j]!;
        if (!cluster.has(s.node)) cluster.set(s.node, s);
      }
      i = j;
      if (cluster.size < 2) continue;
      events.push(fleetEvent(group, [...cluster.values()], o, windowMs));
    }
  }
  events.sort((a, b) => b.nodes.length - a.nodes.length || a.onsetMs - b.onsetMs);
  return events;
}

function fleetEvent(
  group: string,
  members: NodeSpike[],
  o: GroupOnsetsOptions,
  windowMs: number,
): FleetEvent {
  const onsets = members.map((m) => m.spike.onsetMs);
  const onsetMs = median(onsets);
  const spreadMs = Math.max(...onsets) - Math.min(...onsets);
  const quiet: string[] = [];
  const rows: FleetEventMember[] = members.map((m) => {
    const tr = o.traffic.get(m.node);
    const t = m.spike.onsetMs;
    const before = tr ? medianIn(tr, t - windowMs, t) : undefined;
    const after = tr ? medianIn(tr, t, t + windowMs) : undefined;
    if (before !== undefined && after !== undefined && !connectionsRose(before, after)) quiet.push(m.node);
    return {
      node: m.node,
      onset: m.spike.onset,
      onsetMs: t,
      before: m.spike.before,
      after: m.spike.after,
      persistent: m.spike.persistent,
      connectionsBefore: before ?? null,
      connectionsAfter: after ?? null,
    };
  });
  const before = r1(median(rows.map((r) => r.before)));
  const after = r1(median(rows.map((r) => r.after)));
  const persistent = rows.filter((r) => r.persistent).length * 2 > rows.length;
  const total = o.nodes.length;
  const running = o.running.get(group)?.size ?? members.length;
  const k = members.length;
  const at = iso(onsetMs).slice(11, 19);
  const idle =
    quiet.length === 0
      ? ''
      : quiet.length === k
        ? ', on every one of them with no rise in TCP connections'
        : `, including ${quiet.length} node${quiet.length === 1 ? '' : 's'} with no rise in TCP connections (${quiet.join(', ')})`;
  const runs = running < total ? ` (it runs on ${running})` : '';
  const summary = `CPU of group ${group} rose on ${k} of ${total} nodes${runs} within ${spread(spreadMs)} of ${at} UTC, from ${pct(before)} to ${pct(after)} of one core${persistent ? ' and stayed' : ' and came back down'}${idle}`;
  let suggests: string;
  if (k >= running) {
    suggests =
      quiet.length > 0
        ? 'the same onset on every node running the group, idle ones included, points to a shared input — a deploy or config push, a scheduled job, data or a dependency every node reads, the clock — not local load'
        : 'the same onset on every node running the group points to a shared input or a fleet-wide change rather than the load of one node; check whether their traffic rose together (a shared upstream) or not (a push, a schedule)';
  } else {
    suggests =
      quiet.length > 0
        ? 'a subset of the nodes rising together, some with no more connections than before, points to something those nodes share — a rollout wave, a shard or a zone, a common dependency — not their own load'
        : 'a subset of the nodes rising together points to something those nodes share — a rollout wave, a shard or a zone, a load-balancer pool';
  }
  return {
    onset: iso(onsetMs),
    onsetMs,
    group,
    nodes: rows.map((r) => r.node),
    nodesTotal: total,
    nodesRunning: running,
    spreadMs,
    before,
    after,
    persistent,
    quietNodes: quiet,
    members: rows,
    summary,
    suggests,
  };
}
