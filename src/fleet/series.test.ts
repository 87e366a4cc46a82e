import { describe, expect, it } from 'vitest';
import {
  CHUNK_POINTS,
  PROMETHEUS_MAX_POINTS,
  cpuInputs,
  leakInputs,
  mergeChunks,
  planRange,
  promString,
  selector,
  type MatrixSeries,
} from './series.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('planRange', () => {
  it('steps at the recorder interval, in one chunk, when that fits', () => {
    const p = planRange(0, HOUR, 10_000);
    expect(p.stepMs).toBe(10_000);
    expect(p.chunks).toEqual([{ startMs: 0, endMs: HOUR }]);
  });

  it('cuts a long range into chunks each under the 11,000 points Prometheus allows, on one grid', () => {
    const p = planRange(1_000, 1_000 + DAY, 1_000); // 86,401 points at 1 s: over the 50,000 cap
    expect(p.stepMs).toBe(Math.ceil(DAY / 49_999));
    expect(p.chunks.length).toBeGreaterThan(1);
    let expected = 1_000;
    for (const c of p.chunks) {
      expect(c.startMs).toBe(expected);
      const points = Math.floor((c.endMs - c.startMs) / p.stepMs) + 1;
      expect(points).toBeLessThanOrEqual(CHUNK_POINTS);
      expect(points).toBeLessThan(PROMETHEUS_MAX_POINTS);
      expected = c.startMs + CHUNK_POINTS * p.stepMs;
    }
    expect(p.chunks.at(-1)?.endMs).toBe(1_000 + DAY);
    // every step of the range is evaluated once
    const total = p.chunks.reduce((a, c) => a + Math.floor((c.endMs - c.startMs) / p.stepMs) + 1, 0);
    expect(total).toBe(Math.floor(DAY / p.stepMs) + 1);
  });

  it('takes a forced step, raised to keep a series under the cap; refuses an empty range', () => {
    expect(planRange(0, HOUR, 10_000, { stepMs: 1_000 }).stepMs).toBe(1_000);
    expect(planRange(0, DAY, 10_000, { stepMs: 1 }).stepMs).toBe(Math.ceil(DAY / 49_999));
    expect(() => planRange(5, 5, 1_000)).toThrow(RangeError);
  });
});

describe('mergeChunks', () => {
  it('concatenates each series across chunks, once per time, whatever the label order', () => {
    const a: MatrixSeries[] = [
      {
        metric: { node: 'a', group: 'g' },
        values: [
          [1, '1'],
          [2, '2'],
        ],
      },
      { metric: { node: 'b', group: 'g' }, values: [[1, '5']] },
    ];
    const b: MatrixSeries[] = [
      {
        metric: { group: 'g', node: 'a' },
        values: [
          [2, '2'],
          [3, '3'],
        ],
      },
      { metric: { node: 'c', group: 'g' }, values: [[3, '7']] },
    ];
    const m = mergeChunks([a, b]);
    expect(m.map((s) => [s.metric['node'], s.values])).toEqual([
      [
        'a',
        [
          [1, '1'],
          [2, '2'],
          [3, '3'],
        ],
      ],
      ['b', [[1, '5']]],
      ['c', [[3, '7']]],
    ]);
  });
});

describe('leakInputs and cpuInputs', () => {
  it('one group entity per (node, group), named with its node; _other and foreign series skipped', () => {
    const answer: MatrixSeries[] = [
      {
        metric: { node: 'web-1', group: '/usr/sbin/nginx' },
        values: [
          [10, '100'],
          [20.5, 'NaN'],
          [31, '300'],
        ],
      },
      { metric: { node: 'web-1', group: '_other' }, values: [[10, '1']] },
      { metric: { group: 'x' }, values: [[10, '1']] },
    ];
    const [s, ...rest] = leakInputs('anon', answer);
    expect(rest).toEqual([]);
    expect(s?.entity).toEqual({
      kind: 'group',
      key: 'n:web-1:g:/usr/sbin/nginx',
      label: '/usr/sbin/nginx on web-1',
      group: '/usr/sbin/nginx',
      node: 'web-1',
    });
    expect(s?.metric).toBe('anon');
    expect([...(s?.tMs ?? [])]).toEqual([10_000, 20_500, 31_000]);
    expect([...(s?.values ?? [])]).toEqual([100, NaN, 300]);
  });

  it("cores become % of one core; a series without group is the node's host", () => {
    const [g, h] = cpuInputs([
      { metric: { node: 'n1', group: 'g' }, values: [[1, '0.5']] },
      { metric: { node: 'n1' }, values: [[1, '1.25']] },
    ]);
    expect(g?.entity).toMatchObject({ kind: 'group', node: 'n1', group: 'g' });
    expect([...(g?.percent ?? [])]).toEqual([50]);
    expect(h?.entity).toMatchObject({ kind: 'tree', key: 'n:n1:host', node: 'n1' });
    expect([...(h?.percent ?? [])]).toEqual([125]);
  });
});

describe('selectors', () => {
  it('escapes a node name and keeps the user matchers', () => {
    expect(promString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(selector('m', 'we"ird', '{job="x"}', ['kind="k"'])).toBe('m{node="we\\"ird",kind="k",job="x"}');
    expect(selector('m', undefined)).toBe('m{}');
  });
});
