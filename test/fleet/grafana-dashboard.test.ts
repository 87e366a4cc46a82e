/**
 * contrib/grafana/procsleuth.json cannot rot silently: every metric its queries (panels and template
 * variables) name must be one the exposition emits. The emitted names come from the export model run on
 * two real samples of this machine, with the recorder's and the remote writer's health, as a recorder
 * would export them — not from a list kept by hand.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sampler } from '../../src/record/sampler.js';
import { ExportModel, type Family } from '../../src/record/exporters/exposition.js';

const DASHBOARD = resolve(import.meta.dirname, '../../contrib/grafana/procsleuth.json');

interface Panel {
  type: string;
  title: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function exprs(panels: readonly Panel[]): { title: string; expr: string }[] {
  return panels.flatMap((p) => [
    ...(p.targets ?? []).flatMap((t) => (t.expr === undefined ? [] : [{ title: p.title, expr: t.expr }])),
    ...exprs(p.panels ?? []),
  ]);
}

function emittedNames(): Set<string> {
  const sampler = new Sampler({ procRoot: '/proc', intervalMs: 1_000 });
  const model = new ExportModel();
  const names = new Set<string>();
  const health = (stats: Sampler['lastStats']): Parameters<ExportModel['update']>[1] => ({
    intervalMs: 1_000,
    stats,
    sources: [
      { source: 'sample', durationMs: 12, ok: true },
      { source: 'store', durationMs: 3, ok: true },
    ],
    samplesWritten: 2,
    samplesDropped: 0,
    self: { cpuMs: 1_000, rssBytes: 50 << 20 },
  });
  const rw = {
    samplesSent: 10,
    samplesRejected: 0,
    samplesDropped: 0,
    failures: 0,
    bufferBytes: 0,
    bufferSamples: 0,
    lastSend: { source: 'remote_write', durationMs: 5, ok: true },
  };
  let families: Family[] = [];
  for (let i = 0; i < 2; i++) {
    const input = sampler.sample(true);
    families = model.update(input, health(sampler.lastStats), rw);
    for (const f of families) if (f.series.length > 0) names.add(f.name);
    // let some CPU time pass between the samples, so the CPU top-N has a rate
    const end = Date.now() + 50;
    while (Date.now() < end);
  }
  return names;
}

describe('the Grafana dashboard', () => {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    schemaVersion: number;
    panels: Panel[];
    templating: { list: { name: string; type: string; query?: unknown; definition?: string }[] };
  };

  it('is a current dashboard with a node variable taken from the exported label', () => {
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    const node = dash.templating.list.find((v) => v.name === 'node');
    expect(node?.type).toBe('query');
    expect(node?.definition).toMatch(/^label_values\(procsleuth_[a-z_]+, node\)$/);
    const titles = dash.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(titles).toEqual([
      'Host',
      'Sockets',
      'Groups (executable and normalised arguments)',
      'Recorder health',
    ]);
  });

  it('queries only metrics the exposition emits, every one filtered by $node', () => {
    const emitted = emittedNames();
    const all = exprs(dash.panels);
    expect(all.length).toBeGreaterThan(20);
    const queries = [
      ...all,
      {
        title: 'variable node',
        expr: String(dash.templating.list.find((v) => v.name === 'node')?.definition),
      },
    ];
    const unknown: string[] = [];
    const used = new Set<string>();
    for (const q of queries)
      for (const m of q.expr.matchAll(/\b(procsleuth_[a-zA-Z0-9_:]+)/g)) {
        used.add(m[1]!);
        if (!emitted.has(m[1]!)) unknown.push(`${q.title}: ${m[1]}`);
      }
    expect(unknown).toEqual([]);
    // Every selector in a panel is narrowed to the chosen nodes.
    for (const q of all)
      for (const m of q.expr.matchAll(/\b(procsleuth_[a-zA-Z0-9_:]+)(\{[^}]*\})?/g))
        expect(`${q.title}: ${m[0]}`).toMatch(/node=~"\$node"/);
    // The views the issue asks for are there: host, sockets by state, groups by CPU/RSS/fds, health.
    for (const name of [
      'procsleuth_host_load1',
      'procsleuth_host_cpu_seconds_total',
      'procsleuth_host_memory_available_bytes',
      'procsleuth_host_tcp_sockets',
      'procsleuth_group_cpu_seconds_total',
      'procsleuth_group_resident_bytes',
      'procsleuth_group_fds',
      'procsleuth_recorder_source_success',
      'procsleuth_recorder_source_duration_seconds',
    ])
      expect(used).toContain(name);
  });
});
