/**
 * A chart as the page draws it (client.ts): times in epoch seconds, series of numbers or gaps, marks.
 * `chart` makes one from dense columns, decimated to at most `maxPoints` and rounded for the page.
 */
import { columnsJson, decimate, type Columns, type Reduce } from './data.js';

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

/** Per bucket of points drawn as one: rates (CPU) are averaged, levels keep their peak. */
const reduceFor = (name: string): Reduce => (/cpu/i.test(name) ? 'mean' : 'max');

export function chart(
  id: string,
  title: string,
  unit: Unit,
  c: Columns,
  series: { col: string; label: string; color?: string; dash?: number[]; fill?: boolean }[],
  maxPoints: number,
  reduce: (name: string) => Reduce = reduceFor,
): ChartSpec {
  const picked: Record<string, Float64Array> = {};
  for (const s of series) {
    const v = c.cols[s.col];
    if (v) picked[s.col] = v;
  }
  const d = decimate(c.tMs, picked, maxPoints, reduce);
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
