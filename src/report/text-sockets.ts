import type { SocketsReport } from '../collect/sockets.js';
import { TCP_STATES } from '../collect/types.js';
import { truncate } from '../util/format.js';

/** Side by side, one column per state, like the script people wrote for this. */
export function renderSockets(r: SocketsReport): string {
  const out: string[] = [];
  const counts = TCP_STATES.filter((s) => r.states[s] > 0)
    .map((s) => `${s} ${r.states[s]}`)
    .join('  ');
  out.push(`TCP sockets by state: ${counts || 'none'}`);
  out.push('');
  const cols = r.query.states.map((s) => {
    const lines = [`${s} (${r.states[s]})`];
    for (const t of r.top[s] ?? []) lines.push(`${String(t.count).padStart(7)} ${t.address}`);
    const local = r.localRemotes[s];
    if (local) lines.push(`${String(local).padStart(7)} (this host)`);
    if (lines.length === 1) lines.push('      -');
    return lines;
  });
  const widths = cols.map((c) => Math.max(...c.map((l) => l.length)));
  const height = Math.max(...cols.map((c) => c.length));
  for (let i = 0; i < height; i++) {
    out.push(
      cols
        .map((c, j) => (c[i] ?? '').padEnd(widths[j] ?? 0))
        .join('   ')
        .trimEnd(),
    );
  }
  if (r.owners) {
    out.push('');
    out.push('Owners (sockets per process and state):');
    for (const s of r.query.states) {
      const owners = r.owners[s] ?? [];
      if (owners.length === 0) continue;
      const list = owners.map((o) => `${o.comm}[${o.pid}] ${o.count}`).join(', ');
      out.push(`  ${s.padEnd(12)} ${truncate(list, 160)}`);
    }
    if (r.unowned) {
      out.push(
        `  (${r.unowned} sockets in these states have no owning process we could see: TIME_WAIT and orphans belong to the kernel` +
          (r.deniedProcesses
            ? `; the fds of ${r.deniedProcesses} process(es) were not readable (permission denied; run as root to see all)`
            : '') +
          ')',
      );
    }
  }
  return out.join('\n');
}
