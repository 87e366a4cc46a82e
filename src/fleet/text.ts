/** Terminal text of the fleet documents: the header says which Prometheus and which nodes. */
import { renderSuspectsText } from '../report/text-leaks.js';
import type { FleetLeaksDocument, FleetSpikesDocument } from './analyze.js';

const pct = (x: number): string => `${x >= 10 ? Math.round(x) : x.toFixed(1)} %`;

function nodesLine(nodes: readonly string[]): string {
  const shown = nodes.slice(0, 10).join(', ');
  return nodes.length > 10 ? `${shown}, … (${nodes.length} in all)` : shown;
}

export function renderFleetLeaksText(doc: FleetLeaksDocument, opts: { limit?: number } = {}): string {
  return renderSuspectsText(
    doc,
    [
      `on ${doc.scanned.nodes} node${doc.scanned.nodes === 1 ? '' : 's'} from ${doc.source.url}`,
      `  nodes: ${nodesLine(doc.source.nodes)}`,
      `  ${doc.samples} points${doc.from ? `, ${doc.from} … ${doc.to}` : ''}; ${doc.scanned.groups} groups; ${doc.scanned.judged} of ${doc.scanned.series} series grew enough to be judged`,
    ],
    opts,
  );
}

export function renderFleetSpikesText(doc: FleetSpikesDocument): string {
  const out = [
    `spikes: ${doc.spikes.length} CPU level shift${doc.spikes.length === 1 ? '' : 's'} on ${doc.scanned.nodes} node${doc.scanned.nodes === 1 ? '' : 's'} from ${doc.source.url}`,
    `  nodes: ${nodesLine(doc.source.nodes)}`,
    `  ${doc.samples} points${doc.from ? `, ${doc.from} … ${doc.to}` : ''}; ${doc.scanned.groups} groups`,
  ];
  if (doc.fleetEvents.length > 0) {
    out.push('', 'across nodes:');
    for (const e of doc.fleetEvents.slice(0, 20)) out.push(`  ${e.summary}`, `    → ${e.suggests}`);
  }
  if (doc.spikes.length > 0) {
    out.push('', 'onset                     before →  after  held  entity');
    for (const s of doc.spikes.slice(0, 40))
      out.push(
        `${s.onset.slice(0, 23).replace('T', ' ')}Z  ${pct(s.before).padStart(6)} → ${pct(s.after).padStart(6)}  ${s.persistent ? 'yes ' : 'no  '}  ${s.entity.kind} ${s.entity.label}`,
      );
    if (doc.spikes.length > 40) out.push(`… ${doc.spikes.length - 40} more (--json)`);
  } else out.push('', 'no CPU level shift found');
  return out.join('\n') + '\n';
}
