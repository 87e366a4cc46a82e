import { describe, expect, it } from 'vitest';
import type { Spike } from '../detect/spikes.js';
import { connectionsRose, groupOnsets, medianIn, type NodeSpike, type TrafficSeries } from './onsets.js';

const T0 = Date.parse('2026-01-01T05:01:00Z');

function spike(node: string, group: string, onsetMs: number, before = 1, after = 90): NodeSpike {
  const s: Spike = {
    entity: { kind: 'group', key: `n:${node}:g:${group}`, label: group, group },
    metric: 'cpu',
    onset: new Date(onsetMs).toISOString(),
    onsetMs,
    onsetIndex: 0,
    before,
    after,
    persistent: true,
    sizeSigma: 10,
    resolutionMs: 10_000,
  };
  return { node, group, spike: s };
}

function flat(level: number, rise = 0): TrafficSeries {
  const tMs = Float64Array.from({ length: 60 }, (_, i) => T0 - 300_000 + i * 10_000);
  return { tMs, values: Float64Array.from(tMs, (t) => (t >= T0 ? level + rise : level)) };
}

const nodes = ['a', 'b', 'c', 'd'];
const running = new Map([['X', new Set(nodes)]]);

describe('groupOnsets', () => {
  it('one event for one group rising on every node within the window; quiet nodes named', () => {
    const traffic = new Map([
      ['a', flat(100, 80)],
      ['b', flat(100)],
      ['c', flat(0)],
      ['d', flat(50, 2)],
    ]);
    const ev = groupOnsets(
      [
        spike('b', 'X', T0 + 30_000),
        spike('a', 'X', T0),
        spike('c', 'X', T0 + 90_000),
        spike('d', 'X', T0 + 60_000),
      ],
      { nodes, running, traffic },
    );
    expect(ev).toHaveLength(1);
    const e = ev[0]!;
    expect(e.nodes).toEqual(['a', 'b', 'd', 'c']);
    expect([e.nodesTotal, e.nodesRunning, e.spreadMs]).toEqual([4, 4, 90_000]);
    expect(e.quietNodes).toEqual(['b', 'd', 'c']);
    expect(e.members.find((m) => m.node === 'a')).toMatchObject({
      connectionsBefore: 100,
      connectionsAfter: 180,
    });
    expect(e.summary).toBe(
      'CPU of group X rose on 4 of 4 nodes within 90 s of 05:01:45 UTC, from 1 % to 90 % of one core and stayed, including 3 nodes with no rise in TCP connections (b, d, c)',
    );
    expect(e.suggests).toMatch(/shared input.*not local load/);
  });

  it('onsets further apart than the window, and lone nodes, are not fleet events', () => {
    const ev = groupOnsets(
      [
        spike('a', 'X', T0),
        spike('b', 'X', T0 + 121_000),
        spike('c', 'Y', T0),
        spike('d', 'X', T0 + 130_000),
      ],
      { nodes, running, traffic: new Map() },
    );
    expect(ev).toHaveLength(1);
    expect(ev[0]?.nodes).toEqual(['b', 'd']);
    expect(ev[0]?.quietNodes).toEqual([]);
    expect(ev[0]?.summary).toMatch(/^CPU of group X rose on 2 of 4 nodes within 9 s of /);
    expect(ev[0]?.suggests).toMatch(/^a subset of the nodes/);
  });

  it('a node counts once per event, at its earliest onset; widest events first', () => {
    const ev = groupOnsets(
      [
        spike('a', 'X', T0),
        spike('a', 'X', T0 + 10_000),
        spike('b', 'X', T0 + 20_000),
        spike('a', 'Z', T0 + 500_000),
        spike('b', 'Z', T0 + 500_000),
        spike('c', 'Z', T0 + 500_000),
      ],
      { nodes, running: new Map([['Z', new Set(['a', 'b', 'c'])]]), traffic: new Map(), windowMs: 60_000 },
    );
    expect(ev.map((e) => [e.group, e.nodes])).toEqual([
      ['Z', ['a', 'b', 'c']],
      ['X', ['a', 'b']],
    ]);
    expect(ev[0]?.summary).toMatch(/rose on 3 of 4 nodes \(it runs on 3\) within 0 ms/);
    expect(ev[0]?.suggests).toMatch(/^the same onset on every node running the group/);
  });
});

describe('traffic', () => {
  it('medians over a half-open window; a rise needs more than 10 % and more than one connection', () => {
    const s = flat(10, 5);
    expect(medianIn(s, T0 - 60_000, T0)).toBe(10);
    expect(medianIn(s, T0, T0 + 60_000)).toBe(15);
    expect(medianIn(s, 0, 1)).toBeUndefined();
    expect(connectionsRose(100, 110)).toBe(false);
    expect(connectionsRose(100, 111)).toBe(true);
    expect(connectionsRose(0, 1)).toBe(false);
    expect(connectionsRose(0, 2)).toBe(true);
  });
});
