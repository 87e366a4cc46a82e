import type { FdsReport } from '../collect/fds.js';
import { table } from '../util/format.js';

export function renderFds(r: FdsReport): string {
  const counts = Object.entries(r.counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const rows = r.fds.map((f) => [
    String(f.fd),
    f.kind,
    f.flags?.includes('O_NONBLOCK') ? 'nonblock' : '',
    f.target,
  ]);
  const out = [
    `${r.comm}[${r.pid}]: ${r.fds.length} fds (${counts || 'none'})`,
    '',
    table(['FD', 'KIND', 'FLAGS', 'TARGET'], rows, ['right', 'left', 'left', 'left']),
  ];
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
