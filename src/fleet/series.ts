/**
 * From Prometheus' answers to the detectors' inputs, pure. The fleet commands read back what
 * `record --remote-write` / `--metrics-listen` exported (record/exporters/exposition.ts): per node, the
 * per-group gauges for leaks and the per-group CPU counters for spikes. A group on a node is one entity
 * (`kind: 'group'`, `node` set); the top-N series are not used, because a rank changes holder and a
 * series of ranks is no one's series.
 *
 * Range and step: `query_range` refuses more than 11,000 points per series, so the step is at least the
 * recorder's interval (a finer step only repeats samples) and at least span / MAX_POINTS_PER_SERIES, and
 * a longer span is asked for in chunks of at most CHUNK_POINTS evaluation steps, concatenated here.
 */
import type { EntityRef, SeriesInput } from '../detect/leaks.js';
import type { CpuSeriesInput } from '../detect/spikes.js';

/** Prometheus refuses `query_range` with more points than this per series. */
export const PROMETHEUS_MAX_POINTS = 11_000;
/** Evaluation steps per request, under the limit with room for an inclusive end. */
export const CHUNK_POINTS = 10_000;
/** Points per series the detectors get at most (leakVerdict is ≈ 1 ms per 7,200 points). */
export const MAX_POINTS_PER_SERIES = 50_000;

/** One series of a `query_range` answer (`resultType: "matrix"`). */
export interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

export interface RangePlan {
  stepMs: number;
  /** Inclusive evaluation ranges, each of at most CHUNK_POINTS steps, on one grid from the start. */
  chunks: { startMs: number; endMs: number }[];
}

/**
 * The step and the chunks of one range. `intervalMs` is the largest recorder interval among the nodes
 * (a smaller step would evaluate the same sample twice); `stepMs` forces a step (still raised to keep
 * under MAX_POINTS_PER_SERIES).
 */
export function planRange(
  startMs: number,
  endMs: number,
  intervalMs: number,
  o: { stepMs?: number | undefined; maxPoints?: number; chunkPoints?: number } = {},
): RangePlan {
  if (!(endMs > startMs)) throw new RangeError(`empty range: ${startMs} … ${endMs}`);
  const maxPoints = o.maxPoints ?? MAX_POINTS_PER_SERIES;
  const chunkPoints = Math.min(o.chunkPoints ?? CHUNK_POINTS, PROMETHEUS_MAX_POINTS - 1);
  const span = endMs - startMs;
  // Prometheus takes a step in (fractional) seconds: whole milliseconds keep the grid exact.
  const stepMs = Math.max(1, Math.ceil(Math.max(o.stepMs ?? intervalMs, span / (maxPoints - 1))));
  const chunks: RangePlan['chunks'] = [];
  for (let s = startMs; s <= endMs; s += chunkPoints * stepMs)
    chunks.push({ startMs: s, endMs: Math.min(endMs, s + (chunkPoints - 1) * stepMs) });
  return { stepMs, chunks };
}

/** The identity of a series in an answer: its label set, sorted. */
export function seriesKey(metric: Record<string, string>): string {
  return Object.keys(metric)
    .sort()
    .map((k) => `${k}\u0000${metric[k]}`)
    .join('\u0001');
}

/**
 * The answers of consecutive chunks as one matrix: each series' points concatenated in time order; a
 * point repeated at a chunk boundary is kept once.
 */
export function mergeChunks(chunks: readonly (readonly MatrixSeries[])[]): MatrixSeries[] {
  const byKey = new Map<string, MatrixSeries>();
  for (const answer of chunks)
    for (const s of answer) {
      const k = seriesKey(s.metric);
      const cur = byKey.get(k);
      if (!cur) {
        byKey.set(k, { metric: s.metric, values: [...s.values] });
        continue;
      }
      const lastT = cur.values[cur.values.length - 1]?.[0] ?? -Infinity;
      for (const p of s.values) if (p[0] > lastT) cur.values.push(p);
    }
  return [...byKey.values()];
}

/** Times (ms) and values of one series; values Prometheus writes as "NaN", "+Inf" become NaN. */
export function toArrays(s: MatrixSeries, scale = 1): { tMs: Float64Array; values: Float64Array } {
  const n = s.values.length;
  const tMs = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = s.values[i]!;
    tMs[i] = Math.round(p[0] * 1000);
    const v = Number(p[1]);
    values[i] = Number.isFinite(v) ? v * scale : NaN;
  }
  return { tMs, values };
}

/** An entity of the fleet: the detectors' reference plus the node it lives on. */
export type FleetEntity = EntityRef & { node: string };

export function groupEntity(node: string, group: string): FleetEntity {
  return { kind: 'group', key: `n:${node}:g:${group}`, label: `${group} on ${node}`, group, node };
}

export function hostEntity(node: string): FleetEntity {
  return { kind: 'tree', key: `n:${node}:host`, label: `host ${node}`, node };
}

/**
 * One leak metric of every (node, group) of an answer. The query keeps `node` and `group` (a `sum by`
 * over the other labels); a series without them is not ours and is skipped, and so is `_other`, whose
 * members change as the export's group set does (a step there is a membership change, not a leak).
 */
export function leakInputs(
  metric: string,
  answer: readonly MatrixSeries[],
  o: { otherGroup?: string } = {},
): SeriesInput[] {
  const out: SeriesInput[] = [];
  for (const s of answer) {
    const node = s.metric['node'];
    const group = s.metric['group'];
    if (node === undefined || group === undefined || group === (o.otherGroup ?? '_other')) continue;
    const { tMs, values } = toArrays(s);
    if (tMs.length === 0) continue;
    const entity: FleetEntity = groupEntity(node, group);
    out.push({ entity, metric, tMs, values });
  }
  return out;
}

/**
 * CPU series of an answer holding a rate in cores (1 = one core) by `node` and `group` — or by `node`
 * only, for the host — as % of one core, the unit of detect/spikes.ts.
 */
export function cpuInputs(answer: readonly MatrixSeries[]): CpuSeriesInput[] {
  const out: CpuSeriesInput[] = [];
  for (const s of answer) {
    const node = s.metric['node'];
    if (node === undefined) continue;
    const group = s.metric['group'];
    const { tMs, values } = toArrays(s, 100);
    if (tMs.length === 0) continue;
    const entity: FleetEntity = group === undefined ? hostEntity(node) : groupEntity(node, group);
    out.push({ entity, tMs, percent: values });
  }
  return out;
}

/** PromQL string literal (double-quoted): backslash, quote and newline escaped. */
export function promString(v: string): string {
  return `"${v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`;
}

/**
 * `name{node="…",<extra>}`: the selector of one metric on one node. `extra` is the user's own matchers
 * (`job="x",env=~"prod.*"`), passed through; `more` are matchers of ours.
 */
export function selector(name: string, node: string | undefined, extra = '', more: string[] = []): string {
  const m = [...(node === undefined ? [] : [`node=${promString(node)}`]), ...more];
  const e = extra
    .trim()
    .replace(/^\{|\}$/g, '')
    .trim();
  if (e !== '') m.push(e);
  return `${name}{${m.join(',')}}`;
}
