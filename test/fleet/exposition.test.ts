/**
 * The exposition model and text format: escaping (checked by Prometheus' own parser, promtool), the
 * cardinality bound on groups, the top-N rank scheme, counters that stay monotonic as processes come
 * and go, and "unknown is not zero".
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ExportModel,
  OTHER_GROUP,
  boundLabel,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  kthreadName,
  renderText,
  type Family,
} from '../../src/record/exporters/exposition.js';
import { Sampler } from '../../src/record/sampler.js';
import type { ProcessSampleInput, SampleInput } from '../../src/store/index.js';
import { processInput } from '../helpers/sample-input.js';

const PROMTOOL = '/usr/bin/promtool';

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

const proc = processInput;

function sample(tMs: number, processes: ProcessSampleInput[]): SampleInput {
  return { tMs, bootId: 'b', host: { load1_x100: 150, mem_total_kib: 1024 }, processes };
}

const series = (fams: Family[], name: string): Family['series'] =>
  fams.find((f) => f.name === name)?.series ?? [];
const byGroup = (fams: Family[], name: string): Record<string, number> =>
  Object.fromEntries(series(fams, name).map((s) => [s.labels.find(([k]) => k === 'group')?.[1], s.value]));

describe('escaping', () => {
  it('label values escape backslash, quote and newline, and nothing else', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeLabelValue('tab\there ünï ✓ {x="y"}')).toBe('tab\there ünï ✓ {x=\\"y\\"}');
    expect(escapeLabelValue('\\n')).toBe('\\\\n'); // a literal backslash-n is not a newline
    expect(escapeLabelValue('')).toBe('');
  });

  it('HELP escapes backslash and newline but not quotes', () => {
    expect(escapeHelp('say "hi"\\\nbye')).toBe('say "hi"\\\\\\nbye');
  });

  it('values print as Prometheus parses them', () => {
    expect([NaN, Infinity, -Infinity, 0, -0.5, 1e21, 2 ** 53 + 2, 1.5e-7].map(formatValue)).toEqual([
      'NaN',
      '+Inf',
      '-Inf',
      '0',
      '-0.5',
      '1e+21',
      '9007199254740994',
      '1.5e-7',
    ]);
  });

  it('refuses names the format cannot carry', () => {
    const f = (name: string, label = 'ok'): Family[] => [
      { name, help: 'h', type: 'gauge', series: [{ labels: [[label, 'v']], value: 1 }] },
    ];
    expect(() => renderText(f('bad-name'), 'n')).toThrow(/invalid metric name/);
    expect(() => renderText(f('good', '__reserved'), 'n')).toThrow(/invalid label name/);
    expect(() => renderText(f('good', '1x'), 'n')).toThrow(/invalid label name/);
  });

  it.skipIf(!existsSync(PROMTOOL))('adversarial labels render to text that Prometheus parses', () => {
    const nasty = ['"', '\\', '\n', '\\"', 'a\\nb', 'ünïcødé ✓', '} 1\nfake_metric 2', '\u0000nul', '#', ' '];
    const fams: Family[] = [
      {
        name: 'procsleuth_test_thing',
        help: 'A help with "quotes", a \\ backslash\nand a newline.',
        type: 'gauge',
        series: nasty.map((v, i) => ({
          labels: [['group', v] as const, ['i', String(i)] as const],
          value: i,
        })),
      },
      {
        name: 'procsleuth_test_total',
        help: 'counter',
        type: 'counter',
        series: [{ labels: [], value: NaN }],
      },
    ];
    const text = renderText(fams, 'node "with" \\ quirks\n');
    const r = promtool(text);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
    // One line per series (plus HELP/TYPE): the injected "fake_metric" stayed inside its label.
    expect(text.split('\n').filter((l) => l.startsWith('procsleuth_test_thing{'))).toHaveLength(nasty.length);
    expect(text).not.toMatch(/^fake_metric/m);
    // And the check can fail: an unescaped quote is refused.
    expect(promtool('procsleuth_x{a="b"c"} 1\n').status).not.toBe(0);
  });
});

describe('labels', () => {
  it('cuts long labels with a hash of the whole, so two never collide', () => {
    const a = 'x'.repeat(300) + 'a';
    const b = 'x'.repeat(300) + 'b';
    expect([...boundLabel(a)].length).toBe(200);
    expect(boundLabel(a)).not.toBe(boundLabel(b));
    expect(boundLabel('short')).toBe('short');
    // counted in characters, not UTF-16 units: a cut never splits a surrogate pair
    const emoji = '😀'.repeat(250);
    expect(boundLabel(emoji)).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('groups kernel threads without per-CPU and per-workqueue suffixes', () => {
    expect(
      [
        'kworker/u8:2-events_unbound',
        'ksoftirqd/1',
        'migration/0',
        'jbd2/sda1-8',
        'rcu_preempt',
        'kswapd0',
      ].map(kthreadName),
    ).toEqual(['kworker', 'ksoftirqd', 'migration', 'jbd2', 'rcu_preempt', 'kswapd0']);
  });
});

describe('ExportModel', () => {
  it('bounds groups: at most maxGroups of their own, the rest summed into _other', () => {
    const m = new ExportModel({ maxGroups: 10, topN: 3 });
    const ps = Array.from({ length: 200 }, (_, i) => proc(100 + i, { rssBytes: (i + 1) * 1_000_000 }));
    const fams = m.update(sample(0, ps));
    const groups = byGroup(fams, 'procsleuth_group_processes');
    expect(Object.keys(groups)).toHaveLength(11);
    expect(groups[OTHER_GROUP]).toBe(190);
    // the ten largest by RSS got their own series
    for (let i = 190; i < 200; i++) expect(groups[`/usr/bin/p${100 + i}`]).toBe(1);
    // totals still add up
    const rss = byGroup(fams, 'procsleuth_group_resident_bytes');
    const total = Object.values(rss).reduce((a, b) => a + b, 0);
    expect(total).toBe(ps.reduce((a, p) => a + (p.rssBytes ?? 0), 0));
    // bounded whatever the process count: no series carries a pid but the top-N info
    for (const f of fams)
      for (const s of f.series)
        if (s.labels.some(([k]) => k === 'pid')) expect(f.name).toBe('procsleuth_top_process_info');
    const total2 = fams.reduce((n, f) => n + f.series.length, 0);
    expect(total2).toBeLessThan(11 * 12 + 2 * 8 * 3 + 60);
  });

  it('lets a runaway in only past twice the weakest share and after the minimum residency', () => {
    const base = Array.from({ length: 4 }, (_, i) => proc(10 + i, { rssBytes: 10_000_000 }));
    const m = new ExportModel({ maxGroups: 4, minResidencyMs: 60_000 });
    m.update(sample(0, base));
    const spike = (ticks: number): ProcessSampleInput => proc(99, { utimeTicks: ticks, rssBytes: 1_000 });
    // t=1s: a CPU hog appears while every member is younger than the residency: it waits in _other
    let g = byGroup(m.update(sample(1_000, [...base, spike(100)])), 'procsleuth_group_processes');
    expect(g['/usr/bin/p99']).toBeUndefined();
    expect(g[OTHER_GROUP]).toBe(1);
    // t=61s: the residency has passed; it takes the weakest member's place
    g = byGroup(m.update(sample(61_000, [...base, spike(6_100)])), 'procsleuth_group_processes');
    expect(g['/usr/bin/p99']).toBe(1);
    expect(Object.keys(g)).toHaveLength(4 + 1); // four groups and _other (the evicted one)
    // a newcomer only slightly larger than the weakest does not reshuffle the set
    const m2 = new ExportModel({ maxGroups: 2, minResidencyMs: 0 });
    m2.update(sample(0, [proc(1, { rssBytes: 100 }), proc(2, { rssBytes: 100 })]));
    g = byGroup(
      m2.update(
        sample(1_000, [proc(1, { rssBytes: 100 }), proc(2, { rssBytes: 100 }), proc(3, { rssBytes: 150 })]),
      ),
      'procsleuth_group_processes',
    );
    expect(g['/usr/bin/p3']).toBeUndefined();
  });

  it('keeps group counters monotonic as processes start, exit and exec', () => {
    const m = new ExportModel({ clockTicksPerSecond: 100 });
    const w = (pid: number, ticks: number): ProcessSampleInput =>
      proc(pid, {
        exe: '/usr/bin/worker',
        argv: ['worker', `--id=${pid}`],
        utimeTicks: ticks,
        stimeTicks: 0,
      });
    const cpu = (f: Family[]): number | undefined =>
      series(f, 'procsleuth_group_cpu_seconds_total').find((s) =>
        s.labels.some(([k, v]) => k === 'mode' && v === 'user'),
      )?.value;
    // first sample is a baseline: CPU spent before the recorder started is not counted
    expect(cpu(m.update(sample(0, [w(1, 500), w(2, 700)])))).toBe(0);
    expect(cpu(m.update(sample(1_000, [w(1, 550), w(2, 720)])))).toBeCloseTo(0.7);
    // pid 2 exits: the group keeps what it counted
    expect(cpu(m.update(sample(2_000, [w(1, 560)])))).toBeCloseTo(0.8);
    // pid 3 is born after our first sample: all its CPU is in this interval
    expect(cpu(m.update(sample(3_000, [w(1, 560), w(3, 30)])))).toBeCloseTo(1.1);
    // pid 1 is reused by a new process (new start time) with fewer ticks: no decrease
    expect(cpu(m.update(sample(4_000, [{ ...w(1, 5), startTimeTicks: 999_999 }, w(3, 30)])))).toBeCloseTo(
      1.15,
    );
  });

  it('leaves unknown values out instead of exporting zero', () => {
    const m = new ExportModel();
    const fams = m.update(
      sample(0, [proc(1, { pssBytes: undefined, fdCount: undefined, swapBytes: undefined })]),
    );
    expect(series(fams, 'procsleuth_group_pss_bytes')).toHaveLength(0);
    expect(series(fams, 'procsleuth_group_fds')).toHaveLength(0);
    expect(series(fams, 'procsleuth_group_sockets')).toHaveLength(0);
    expect(series(fams, 'procsleuth_group_resident_bytes')).toHaveLength(1);
    // one known value is enough for the group
    const m2 = new ExportModel();
    const f2 = m2.update(sample(0, [proc(1, { pssBytes: 5 }), proc(2, { pssBytes: undefined })]));
    expect(series(f2, 'procsleuth_group_pss_bytes').map((s) => s.value)).toEqual([5]);
  });

  it('ranks the top N by resource, with who holds each rank in the info series', () => {
    const m = new ExportModel({ topN: 5 });
    const ps = [proc(1, { fdCount: 10 }), proc(2, { fdCount: 30 }), proc(3, { fdCount: 20 })];
    const fams = m.update(sample(0, ps));
    expect(series(fams, 'procsleuth_top_fds').map((s) => [s.labels, s.value])).toEqual([
      [[['rank', '1']], 30],
      [[['rank', '2']], 20],
      [[['rank', '3']], 10],
    ]);
    const info = series(fams, 'procsleuth_top_process_info').filter((s) =>
      s.labels.some(([k, v]) => k === 'resource' && v === 'fds'),
    );
    expect(info.map((s) => Object.fromEntries(s.labels))).toEqual([
      { resource: 'fds', rank: '1', pid: '2', comm: 'p2', group: '/usr/bin/p2' },
      { resource: 'fds', rank: '2', pid: '3', comm: 'p3', group: '/usr/bin/p3' },
      { resource: 'fds', rank: '3', pid: '1', comm: 'p1', group: '/usr/bin/p1' },
    ]);
    // no CPU ranks on the first sample (no interval yet), then CPU as a share of one core
    expect(series(fams, 'procsleuth_top_cpu_ratio')).toHaveLength(0);
    const f2 = m.update(sample(2_000, [proc(1, { utimeTicks: 100 }), proc(2), proc(3)]));
    expect(series(f2, 'procsleuth_top_cpu_ratio').map((s) => s.value)).toEqual([0.5]);
  });

  it('carries socket counts between socket passes and keeps a kind once seen', () => {
    const m = new ExportModel();
    const sk = { tcp: { CLOSE_WAIT: 3, ESTABLISHED: 1 }, udp: 0, unix: 2, other: 0 };
    m.update(sample(0, [proc(1, { sockets: sk })]));
    const f = m.update(sample(1_000, [proc(1, { sockets: undefined })]));
    const kinds = Object.fromEntries(
      series(f, 'procsleuth_group_sockets').map((s) => [s.labels.find(([k]) => k === 'kind')?.[1], s.value]),
    );
    expect(kinds).toEqual({ tcp_established: 1, tcp_close_wait: 3, unix: 2 });
    const f3 = m.update(sample(2_000, [proc(1, { sockets: { tcp: {}, udp: 0, unix: 2, other: 0 } })]));
    expect(
      series(f3, 'procsleuth_group_sockets').find((s) => s.labels.some(([, v]) => v === 'tcp_close_wait'))
        ?.value,
    ).toBe(0);
  });

  it.skipIf(!existsSync(PROMTOOL))('a real sample of this machine renders to valid exposition', async () => {
    const sampler = new Sampler({ procRoot: '/proc', intervalMs: 500 });
    const m = new ExportModel();
    m.update(sampler.sample(true));
    await new Promise((r) => setTimeout(r, 500));
    const fams = m.update(sampler.sample(), {
      intervalMs: 500,
      stats: sampler.lastStats,
      sources: [{ source: 'sample', durationMs: sampler.lastStats?.durationMs, ok: true }],
      samplesWritten: 2,
      samplesDropped: 0,
      self: { cpuMs: 10, rssBytes: 1 },
    });
    const text = renderText(fams, 'this-machine');
    const r = promtool(text);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines.length).toBe(series(fams, 'procsleuth_recorder_exported_series')[0]?.value);
    expect(lines.length).toBeLessThan(45 + 18 * 65 + 80 + 30);
  });
});
