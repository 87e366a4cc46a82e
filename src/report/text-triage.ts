import type { Finding, TriageReport } from '../rules/types.js';
import { colours as makeColours, type Colours } from '../util/format.js';

function badge(f: Finding, c: Colours): string {
  if (f.severity === 'critical') return c.red(c.bold('CRITICAL'));
  if (f.severity === 'warning') return c.yellow(c.bold('WARNING '));
  return c.cyan('info    ');
}

function evidenceLines(e: Record<string, unknown>): string[] {
  return Object.entries(e)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `      ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .map((l) => (l.length > 200 ? `${l.slice(0, 199)}…` : l));
}

export function renderTriage(r: TriageReport, c: Colours = makeColours(false)): string {
  const h = r.host;
  const out: string[] = [];
  out.push(
    c.bold(
      `${h.hostname}: load ${h.loadavg.map((x) => x.toFixed(2)).join(' ')} on ${h.cpus} CPUs, ${h.cpuPercent?.toFixed(0) ?? '?'}% CPU busy, ${Math.round((h.memAvailableBytes ?? 0) / 1024 ** 2)} MiB available`,
    ),
  );
  if (r.hotGroups.length && (r.hotGroups[0]?.cpuPercent ?? 0) >= 1) {
    out.push(
      'hottest: ' +
        r.hotGroups
          .filter((g) => (g.cpuPercent ?? 0) >= 1)
          .slice(0, 3)
          .map((g) => `${g.count}× ${g.comm} ${g.cpuPercent?.toFixed(0)}%`)
          .join(', '),
    );
  }
  if (r.traced) out.push(`traced: ${r.traced.reason}${r.profile ? ` with ${r.profile.backend}` : ''}`);
  out.push('');
  const serious = r.findings.filter((f) => f.severity !== 'info');
  if (serious.length === 0) out.push(c.green('No warning or critical finding.'));
  for (const f of r.findings) {
    out.push(`${badge(f, c)} ${c.bold(f.title)}  ${c.dim(`[${f.rule}]`)}`);
    out.push(`    ${f.summary}`);
    if (f.severity !== 'info') {
      out.push(c.dim('    evidence:'));
      out.push(...evidenceLines(f.evidence).map((l) => c.dim(l)));
    }
    if (f.command) out.push(`    see it: ${f.command}`);
    if (f.next) out.push(`    next:   ${f.next}`);
    out.push('');
  }
  if (r.profile) {
    const p = r.profile;
    out.push(
      c.dim(
        `syscall profile (${p.backend}, ${(p.durationMs / 1000).toFixed(1)} s): ${p.syscalls
          .slice(0, 5)
          .map((s) => `${s.name} ${Math.round(s.ratePerSec)}/s`)
          .join(', ')} — procsleuth trace ${p.pids[0] ?? ''} for the full table`,
      ),
    );
  }
  for (const n of r.notes) out.push(c.dim(`note: ${n}`));
  const pr = r.problems;
  if (pr.vanished || pr.denied.length)
    out.push(
      c.dim(`note: ${pr.vanished} process(es) exited while read; ${pr.denied.length} partly unreadable`),
    );
  return out.join('\n');
}
