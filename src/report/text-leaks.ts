/** Terminal text for `leaks` and `spikes`. */
import type { LeaksDocument, Suspect } from '../detect/leaks.js';
import type { SpikesDocument } from '../detect/spikes.js';
import { humanBytes } from '../util/format.js';

const BARS = '▁▂▃▄▅▆▇█';

function spark(values: readonly number[], width = 40): string {
  if (values.length === 0) return '';
  const cols = Math.min(width, values.length);
  const m: number[] = [];
  for (let c = 0; c < cols; c++) {
    const a = Math.floor((c * values.length) / cols);
    const b = Math.max(a + 1, Math.floor(((c + 1) * values.length) / cols));
    let s = 0;
    for (let i = a; i < b; i++) s += values[i]!;
    m.push(s / (b - a));
  }
  const lo = Math.min(...m);
  const hi = Math.max(...m);
  return m
    .map((x) => (hi === lo ? BARS[0] : BARS[Math.min(7, Math.floor(((x - lo) / (hi - lo)) * 8))]))
    .join('');
}

function amount(s: Pick<Suspect, 'unit'>, v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (s.unit === 'bytes') return (v < 0 ? '-' : '') + humanBytes(Math.round(Math.abs(v)));
  return String(Math.round(v * 100) / 100);
}

export function duration(ms: number): string {
  const a = Math.abs(ms);
  if (a < 120_000) return `${Math.round(ms / 1000)} s`;
  if (a < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (a < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

function when(isoTime: string, fromMs: number): string {
  return `${duration(Date.parse(isoTime) - fromMs)} (${isoTime.slice(0, 16).replace('T', ' ')}Z)`;
}

export function renderSuspect(s: Suspect): string[] {
  const e = s.entity;
  const head = `${s.verdict === 'leak' ? 'LEAK ' : 'watch'}  ${e.kind} ${e.label}`;
  const rate = `${amount(s, s.slopePerHour)}/h [${amount(s, s.slopePerHourInterval[0])} … ${amount(s, s.slopePerHourInterval[1])}]`;
  const lines = [head, `       ${s.metric} grows ${rate}, ${s.shape}, confidence ${s.confidence.toFixed(3)}`];
  const ev = s.evidence;
  const endMs = Date.parse(ev.to);
  if (s.limit && s.exhaustsAt) {
    const range = s.exhaustsRange
      ? ` (between ${duration(Date.parse(s.exhaustsRange[0]) - endMs)} and ${s.exhaustsRange[1] ? duration(Date.parse(s.exhaustsRange[1]) - endMs) : 'never'})`
      : '';
    lines.push(
      `       reaches ${s.limit.name} (${amount(s, s.limit.value)}) in ${when(s.exhaustsAt, endMs)}${range}`,
    );
  } else if (s.limit) {
    lines.push(`       limit ${s.limit.name} ${amount(s, s.limit.value)}`);
  }
  if (ev.runs)
    lines.push(
      `       ${ev.runs.growing} of ${ev.runs.count} runs grew, ${amount(s, ev.runs.medianGrowth)} each over ${duration(ev.runs.medianDurationMs)}`,
    );
  const floor = ev.floor.map((p) => p[1]);
  if (!ev.runs)
    lines.push(
      `       ${floor.length > 1 ? `${spark(floor)}  ` : ''}${amount(s, ev.first)} → ${amount(s, ev.last)} over ${duration(Date.parse(ev.to) - Date.parse(ev.from))}, ${ev.samples} samples`,
    );
  if (s.alsoGrowing.length > 0) lines.push(`       also growing: ${s.alsoGrowing.join(', ')}`);
  for (const r of ev.reasons.slice(0, 3)) lines.push(`       · ${r}`);
  return lines;
}

export function renderLeaksText(doc: LeaksDocument, opts: { limit?: number } = {}): string {
  const src = doc.source.kind === 'csv' ? `series from ${doc.source.file}` : `the record ${doc.source.db}`;
  return renderSuspectsText(
    doc,
    [
      `in ${src}`,
      `  ${doc.samples} points${doc.from ? `, ${doc.from} … ${doc.to}` : ''}; ${doc.scanned.processes} processes, ${doc.scanned.groups} groups, ${doc.scanned.trees} trees; ${doc.scanned.judged} of ${doc.scanned.series} series grew enough to be judged`,
    ],
    opts,
  );
}

/** The suspects under a header whose first line ends "leaks: N leaks, M to watch, <header[0]>". */
export function renderSuspectsText(
  doc: Pick<LeaksDocument, 'suspects' | 'notes'>,
  header: readonly string[],
  opts: { limit?: number } = {},
): string {
  const leaks = doc.suspects.filter((s) => s.verdict === 'leak').length;
  const watch = doc.suspects.length - leaks;
  const out = [
    `leaks: ${leaks} leak${leaks === 1 ? '' : 's'}, ${watch} to watch, ${header[0] ?? ''}`,
    ...header.slice(1),
  ];
  for (const n of doc.notes) out.push(`  note: ${n}`);
  const limit = opts.limit ?? 20;
  doc.suspects.slice(0, limit).forEach((s) => out.push('', ...renderSuspect(s)));
  if (doc.suspects.length > limit) out.push('', `… ${doc.suspects.length - limit} more (--all, or --json)`);
  if (doc.suspects.length === 0) out.push('', 'no series grew in a way that looks like a leak');
  return out.join('\n') + '\n';
}

const pct = (x: number): string => `${x >= 10 ? Math.round(x) : x.toFixed(1)} %`;

export function renderSpikesText(doc: SpikesDocument): string {
  const out = [
    `spikes: ${doc.spikes.length} CPU level shift${doc.spikes.length === 1 ? '' : 's'} in the record ${doc.source.db}`,
    `  ${doc.samples} points${doc.from ? `, ${doc.from} … ${doc.to}` : ''}; ${doc.scanned.processes} processes, ${doc.scanned.groups} groups`,
  ];
  if (doc.events.length > 0) {
    out.push('', 'together:');
    for (const e of doc.events.slice(0, 20)) out.push(`  ${e.summary}`);
  }
  const rows = doc.spikes
    .filter((s) => s.entity.kind !== 'process')
    .concat(doc.spikes.filter((s) => s.entity.kind === 'process'));
  if (rows.length > 0) {
    out.push('', 'onset                     before →  after  held  entity');
    for (const s of rows.slice(0, 40)) {
      out.push(
        `${s.onset.slice(0, 23).replace('T', ' ')}Z  ${pct(s.before).padStart(6)} → ${pct(s.after).padStart(6)}  ${s.persistent ? 'yes ' : 'no  '}  ${s.entity.kind} ${s.entity.label}`,
      );
    }
    if (rows.length > 40) out.push(`… ${rows.length - 40} more (--json)`);
  } else out.push('', 'no CPU level shift found');
  return out.join('\n') + '\n';
}
