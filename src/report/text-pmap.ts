import type { PmapReport } from '../collect/pmap-report.js';
import { humanBytes, table } from '../util/format.js';

const kb = (n: number | undefined): string => (n === undefined ? '-' : String(Math.round(n / 1024)));

export function renderPmap(r: PmapReport): string {
  const rows = r.mappings.map((m) => [
    m.address,
    kb(m.sizeBytes),
    kb(m.rssBytes),
    kb(m.dirtyBytes),
    m.perms,
    m.kind,
    m.path + (m.deleted ? ' (deleted)' : ''),
  ]);
  const t = r.totals;
  const kinds = Object.entries(r.byKind)
    .sort((a, b) => (b[1]?.sizeBytes ?? 0) - (a[1]?.sizeBytes ?? 0))
    .map(([k, v]) => [k, String(v?.count ?? 0), humanBytes(v?.sizeBytes), humanBytes(v?.rssBytes)]);
  return [
    `${r.pid}:   ${r.comm}`,
    table(['Address', 'Kbytes', 'RSS', 'Dirty', 'Mode', 'Kind', 'Mapping'], rows, [
      'left',
      'right',
      'right',
      'right',
      'left',
      'left',
      'left',
    ]),
    `total kB ${kb(t.mappedBytes)} RSS ${kb(t.rssBytes)} Dirty ${kb(t.dirtyBytes)}          (pmap -x)`,
    `mapped: ${kb(t.mappedBytes)}K    writeable/private: ${kb(t.writeablePrivateBytes)}K    shared: ${kb(t.sharedBytes)}K    (pmap -d)`,
    '',
    table(['KIND', 'N', 'SIZE', 'RSS'], kinds, ['left', 'right', 'right', 'right']),
    ...r.notes.map((n) => `note: ${n}`),
  ].join('\n');
}
