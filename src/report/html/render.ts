/**
 * The report as one self-contained HTML file: the model as JSON in the page, uPlot and our chart code
 * inlined, no network access (a Content-Security-Policy in the page forbids any). The static parts are
 * rendered here as escaped HTML, so the findings and tables read without JavaScript; only the charts
 * need it.
 */
import type { Finding } from '../../rules/types.js';
import { chartAssets, esc, scriptJson, scriptText, type ChartAssets } from './assets.js';
import { CHART_JS, TABLE_JS } from './client.js';
import type { ChartSpec, ReportModel } from './model.js';
import { METRIC_LABEL, type ReportLeaks, type ReportSpikes, type ReportSuspect } from './suspects.js';
import { STYLE_CSS } from './style.js';

export function bytes(v: number | undefined | null): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${x.toFixed(0)} B` : `${x.toFixed(Math.abs(x) >= 100 ? 0 : 1)} ${units[i]}`;
}

function num(v: number | undefined | null, digits = 0): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '–';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${Math.round(s % 60)}s`;
  return `${Math.round(s)}s`;
}

function when(isoText: string | null | undefined): string {
  return isoText ? isoText.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
}

function card(k: string, v: string, s = ''): string {
  return `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div>${s ? `<div class="s">${esc(s)}</div>` : ''}</div>`;
}

function chartDiv(c: ChartSpec): string {
  return `<div class="ps-chart" data-chart="${esc(c.id)}"><div class="ps-empty">${esc(c.title)} (chart needs JavaScript)</div></div>`;
}

function evidence(e: Record<string, unknown>): string {
  return Object.entries(e)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
      if (s.length > 400) s = `${s.slice(0, 399)}…`;
      return `<dt>${esc(k)}</dt><dd class="mono">${esc(s)}</dd>`;
    })
    .join('');
}

function finding(f: Finding): string {
  return `<div class="finding ${esc(f.severity)}">
<h3><span class="badge ${esc(f.severity)}">${esc(f.severity)}</span> ${esc(f.title)} <span class="muted mono">[${esc(f.rule)}]</span></h3>
<div>${esc(f.summary)}</div>
<dl>${f.pids.length ? `<dt>pids</dt><dd class="mono">${esc(f.pids.slice(0, 40).join(', '))}${f.pids.length > 40 ? ' …' : ''}</dd>` : ''}${evidence(f.evidence)}
<dt>see it</dt><dd><code>${esc(f.command)}</code></dd><dt>next</dt><dd>${esc(f.next)}</dd></dl></div>`;
}

function unitFmt(unit: string, v: number): string {
  return unit === 'bytes' ? bytes(v) : num(v, Math.abs(v) < 10 ? 2 : 0);
}

function pct(v: number): string {
  return `${v.toFixed(v >= 10 ? 0 : 1)}%`;
}

function suspectHtml(s: ReportSuspect): string {
  const e = s.entity;
  const metric = METRIC_LABEL[s.metric] ?? s.metric;
  const ev = s.evidence;
  const lim = s.limit;
  const exhausted = s.exhaustsAt
    ? `${when(s.exhaustsAt)}${s.exhaustsRange ? ` (between ${when(s.exhaustsRange[0])} and ${s.exhaustsRange[1] ? when(s.exhaustsRange[1]) : 'never'})` : ''}`
    : s.shape === 'per-run'
      ? 'each run restarts from its base'
      : lim
        ? 'not within the projection'
        : 'no limit known';
  const facts: [string, string][] = [
    ['confidence', `${(s.confidence * 100).toFixed(1)}% (p of no growth ${ev.pGrowth.toPrecision(2)})`],
    ['shape', s.shape],
    [
      'growth',
      `${unitFmt(s.unit, s.slopePerHour)} per hour (${unitFmt(s.unit, s.slopePerHourInterval[0])} … ${unitFmt(s.unit, s.slopePerHourInterval[1])})`,
    ],
    [
      ev.runs ? 'runs' : 'from → to',
      ev.runs
        ? `${ev.runs.growing} of ${ev.runs.count} grew, ${unitFmt(s.unit, ev.runs.medianGrowth)} each`
        : `${unitFmt(s.unit, ev.first)} → ${unitFmt(s.unit, ev.last)} over ${ev.samples} samples`,
    ],
  ];
  if (lim) facts.push(['limit', `${unitFmt(s.unit, lim.value)}: ${lim.name} (${lim.source})`]);
  facts.push(['exhausted', exhausted]);
  if (e.group && e.kind !== 'group') facts.push(['group', e.group]);
  if (e.processes !== undefined) facts.push(['processes', String(e.processes)]);
  if (s.alsoGrowing.length) facts.push(['also growing', s.alsoGrowing.join(', ')]);
  const who = e.kind === 'process' ? `${e.pid ?? ''} ${e.comm ?? ''}`.trim() : e.label;
  return `<div class="suspect" data-suspect="${esc(e.key)}/${esc(s.metric)}"><div class="facts">
<h3><span class="badge ${esc(s.verdict)}">${esc(s.verdict)}</span> ${esc(e.kind === 'process' ? '' : `${e.kind} `)}${esc(who)} — ${esc(metric)}</h3>
${e.cmdline ? `<div class="mono cmdline">${esc(e.cmdline.slice(0, 400))}</div>` : ''}
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
${ev.reasons.length ? `<ul>${ev.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
</div>${s.chart ? chartDiv(s.chart) : '<div class="note">not drawn: see the table below, report.json or <code>procsleuth leaks</code></div>'}</div>`;
}

function leaksHtml(l: ReportLeaks): string {
  if (!l.available) return `<p class="note" data-no-leak-analysis>${esc(l.notes.join(' '))}</p>`;
  const drawn = l.suspects.filter((s) => s.chart);
  const rest = l.suspects.filter((s) => !s.chart);
  const leaks = l.suspects.filter((s) => s.verdict === 'leak').length;
  const sc = l.scanned;
  const restTable = rest.length
    ? `<h3>${rest.length} more suspect${rest.length === 1 ? '' : 's'}</h3><table class="sortable"><thead><tr><th>verdict</th><th>what</th><th>metric</th><th class="n">per hour</th><th class="n">confidence</th><th>exhausted</th></tr></thead><tbody>${rest
        .map(
          (s) =>
            `<tr><td>${esc(s.verdict)}</td><td class="cmd">${esc(s.entity.kind)} ${esc(s.entity.label.slice(0, 200))}</td><td>${esc(s.metric)}</td><td class="n" data-v="${s.slopePerHour}">${esc(unitFmt(s.unit, s.slopePerHour))}</td><td class="n" data-v="${s.confidence}">${esc((s.confidence * 100).toFixed(1))}%</td><td>${esc(when(s.exhaustsAt))}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  return `<p class="summary">${l.suspects.length ? `${leaks} leak${leaks === 1 ? '' : 's'} and ${l.suspects.length - leaks} to watch` : 'No series grows like a leak'}${sc ? `: ${esc(num(sc.processes))} processes, ${esc(num(sc.groups))} groups and ${esc(num(sc.trees))} process trees scanned; ${esc(num(sc.judged))} of ${esc(num(sc.series))} series grew enough to be judged.` : '.'}</p>
${drawn.map(suspectHtml).join('\n')}
${restTable}
<p class="note">The same suspects as <code>procsleuth leaks</code> over this window. Method: ${esc(l.method)}.${l.notes.length ? ` ${l.notes.map(esc).join(' ')}` : ''}</p>`;
}

function spikesHtml(sp: ReportSpikes): string {
  if (!sp.available) return `<p class="note" data-no-spike-analysis>${esc(sp.notes.join(' '))}</p>`;
  if (!sp.events.length && !sp.aggregates.length)
    return `<p>No CPU level shift in this window${sp.scanned ? ` (${esc(num(sp.scanned.series))} series scanned)` : ''}.</p>`;
  const eventRows = sp.events
    .map(
      (e, k) =>
        `<tr><td>event ${k + 1}</td><td>${esc(when(e.onset))}</td><td>${esc(e.summary)}</td><td class="n" data-v="${e.processes}">${esc(e.processes)}</td><td class="n">${esc(pct(e.before))} → ${esc(pct(e.after))}</td><td>${e.persistent ? 'stayed up' : 'came back down'}</td><td class="mono">${esc(
          e.members
            .slice(0, 12)
            .map((x) => `${x.pid ?? ''} ${x.comm ?? ''}`.trim())
            .join(', '),
        )}${e.members.length > 12 ? ' …' : ''}</td></tr>`,
    )
    .join('');
  const aggRows = sp.aggregates
    .map(
      (s) =>
        `<tr><td>${esc(when(s.onset))}</td><td class="cmd">${esc(s.entity.key === 'host' ? s.entity.label : `${s.entity.kind} ${s.entity.label}`)}</td><td class="n">${esc(pct(s.before))} → ${esc(pct(s.after))}</td><td>${s.persistent ? 'stayed up' : 'came back down'}</td></tr>`,
    )
    .join('');
  const charted = sp.events.filter((e) => e.chart);
  return `${sp.chart ? `<div class="charts">${chartDiv(sp.chart)}</div>` : ''}
${sp.events.length ? `<h3>Processes whose CPU rose, gathered by moment and group</h3><table class="sortable"><thead><tr><th>event</th><th>onset</th><th>what</th><th class="n">processes</th><th class="n">each, before → after</th><th>then</th><th>pids</th></tr></thead><tbody>${eventRows}</tbody></table>` : ''}
${charted.length ? `<div class="charts">${charted.map((e) => chartDiv(e.chart!)).join('\n')}</div>` : ''}
${sp.aggregates.length ? `<h3>Groups and the host</h3><table class="sortable"><thead><tr><th>onset</th><th>what</th><th class="n">before → after, % of one core</th><th>then</th></tr></thead><tbody>${aggRows}</tbody></table>` : ''}
<p class="note">The same onsets as <code>procsleuth spikes</code> over this window: PELT change points on each process's CPU (% of one core), onsets within two samples gathered.${sp.notes.length ? ` ${sp.notes.map(esc).join(' ')}` : ''}</p>`;
}

export function renderReportHtml(m: ReportModel, assets: ChartAssets = chartAssets()): string {
  const charts: ChartSpec[] = [
    ...m.hostCharts,
    ...m.leaks.suspects.flatMap((s) => (s.chart ? [s.chart] : [])),
    ...(m.spikes.chart ? [m.spikes.chart] : []),
    ...m.spikes.events.flatMap((e) => (e.chart ? [e.chart] : [])),
    ...m.entities.flatMap((e) => e.charts),
  ];
  const h = m.host;
  const memUsed =
    h.memTotalBytes !== undefined && h.memAvailableBytes !== undefined
      ? h.memTotalBytes - h.memAvailableBytes
      : undefined;
  const severe = m.triage ? m.triage.findings.filter((f) => f.severity !== 'info').length : 0;
  const title = `procsleuth report — ${h.hostname}`;

  const hostSection = `<section id="host"><h2>Host</h2><div class="cards">
${card('host', h.hostname, h.kernel ?? '')}
${card('CPUs', num(h.cpus), h.uptimeSeconds !== undefined ? `up ${duration(h.uptimeSeconds)}` : '')}
${card('load', h.loadavg ? h.loadavg.map((x) => x.toFixed(2)).join(' ') : '–', h.cpuPercent !== undefined ? `${h.cpuPercent.toFixed(0)}% CPU busy` : '')}
${card('memory used', bytes(memUsed), `of ${bytes(h.memTotalBytes)}, ${bytes(h.memAvailableBytes)} available`)}
${card('swap used', h.swapTotalBytes !== undefined && h.swapFreeBytes !== undefined ? bytes(h.swapTotalBytes - h.swapFreeBytes) : '–', h.swapTotalBytes !== undefined ? `of ${bytes(h.swapTotalBytes)}` : '')}
${card('file handles', num(h.fileNrAllocated), h.fileMax !== undefined ? `max ${h.fileMax === 'unlimited' ? 'unlimited' : num(h.fileMax)}` : '')}
${card('sockets', num(h.socketsUsed))}
${card('processes', num(h.processes))}
${m.triage ? card('findings', `${severe} to act on`, `${m.triage.findings.length} in all`) : ''}
</div><p class="note">${h.source === 'snapshot' ? `From a snapshot of this host taken ${esc(when(m.triage?.takenAt))}.` : 'From the newest sample of the record (no snapshot was taken).'}</p>
<div class="charts">${m.hostCharts.map(chartDiv).join('\n')}</div></section>`;

  const findings = m.triage
    ? m.triage.findings.length
      ? m.triage.findings.map(finding).join('\n')
      : '<p>No finding: nothing on the checklist is wrong right now.</p>'
    : `<p class="note">${esc(m.triageNote ?? 'No triage was run.')}</p>`;
  const triageNotes = m.triage?.notes.length
    ? `<p class="note">${m.triage.notes.map(esc).join('<br>')}</p>`
    : '';
  const findingsSection = `<section id="findings"><h2>Triage findings</h2>${findings}${triageNotes}</section>`;

  const leakSection = `<section id="leaks"><h2>Leak suspects</h2>${leaksHtml(m.leaks)}</section>`;
  const spikeSection = `<section id="spikes"><h2>CPU spikes</h2>${spikesHtml(m.spikes)}</section>`;

  const groupRows = m.groups
    .map(
      (g) =>
        `<tr><td class="cmd">${esc(g.group)}</td><td class="n" data-v="${g.count}">${esc(g.count)}</td><td class="n" data-v="${g.cpuPercent ?? ''}">${esc(g.cpuPercent === undefined ? '–' : g.cpuPercent.toFixed(1) + '%')}</td><td class="n" data-v="${g.rssBytes ?? ''}">${esc(bytes(g.rssBytes))}</td><td class="n" data-v="${g.pssBytes ?? ''}">${esc(bytes(g.pssBytes))}</td><td class="n" data-v="${g.fds ?? ''}">${esc(num(g.fds))}</td><td class="n" data-v="${g.sockets ?? ''}">${esc(num(g.sockets))}</td></tr>`,
    )
    .join('');
  const procRows = m.processes
    .map(
      (p) =>
        `<tr><td class="n" data-v="${p.pid}">${esc(p.pid)}</td><td>${esc(p.comm)}</td><td class="n" data-v="${p.cpuPercent ?? ''}">${esc(p.cpuPercent === undefined ? '–' : p.cpuPercent.toFixed(1) + '%')}</td><td class="n" data-v="${p.rssBytes ?? ''}">${esc(bytes(p.rssBytes))}</td><td class="n" data-v="${p.pssBytes ?? ''}">${esc(bytes(p.pssBytes))}</td><td class="n" data-v="${p.fds ?? ''}">${esc(num(p.fds))}</td><td class="n" data-v="${p.sockets ?? ''}">${esc(num(p.sockets))}</td><td class="cmd">${esc((p.argv.join(' ') || `[${p.comm}]`).slice(0, 300))}</td></tr>`,
    )
    .join('');
  const entitySection = `<section id="processes"><h2>Processes and groups</h2>
<p class="note">Latest recorded values; CPU over the last minute of the record. A group is one executable with the same normalised arguments (the workers of one daemon), summed.</p>
<h3>Groups by memory</h3><table class="sortable"><thead><tr><th>group</th><th class="n">processes</th><th class="n">CPU</th><th class="n">RSS</th><th class="n">PSS</th><th class="n">fds</th><th class="n">sockets</th></tr></thead><tbody>${groupRows}</tbody></table>
<h3>Processes by memory</h3><table class="sortable"><thead><tr><th class="n">pid</th><th>comm</th><th class="n">CPU</th><th class="n">RSS</th><th class="n">PSS</th><th class="n">fds</th><th class="n">sockets</th><th>command</th></tr></thead><tbody>${procRows}</tbody></table>
${m.entities
  .map(
    (
      e,
    ) => `<div class="entity"><h3>${esc(e.kind)} <span class="mono">${esc(e.label)}</span> <span class="muted">(${esc(e.count)} process${e.count === 1 ? '' : 'es'} alive; RSS ${esc(bytes(e.latest.rssBytes))}, ${esc(num(e.latest.fds))} fds, ${esc(num(e.latest.sockets))} sockets)</span></h3>
<div class="charts">${e.charts.map(chartDiv).join('\n')}</div></div>`,
  )
  .join('\n')}</section>`;

  const stateRows = m.tcp.states
    .map(
      (s) => `<tr><td>${esc(s.state)}</td><td class="n" data-v="${s.count}">${esc(num(s.count))}</td></tr>`,
    )
    .join('');
  const remoteRows = m.tcp.remotes
    .map(
      (r) =>
        `<tr><td>${esc(r.state)}</td><td class="mono">${esc(r.address)}</td><td class="n" data-v="${r.count}">${esc(num(r.count))}</td></tr>`,
    )
    .join('');
  const tcpSection = `<section id="tcp"><h2>TCP states and top remote addresses</h2>${
    m.tcp.source === 'none'
      ? '<p class="note">No TCP state counts: no snapshot and no socket pass in the record.</p>'
      : `<p class="note">${m.tcp.source === 'snapshot' ? 'From the snapshot' : 'From the newest socket pass of the record'} at ${esc(when(m.tcp.at))}. The host's own addresses are not counted as remotes.</p>
<div class="charts"><table class="sortable"><thead><tr><th>state</th><th class="n">sockets</th></tr></thead><tbody>${stateRows}</tbody></table>
<table class="sortable"><thead><tr><th>state</th><th>remote address</th><th class="n">sockets</th></tr></thead><tbody>${remoteRows || '<tr><td colspan="3" class="muted">none</td></tr>'}</tbody></table></div>`
  }</section>`;

  const p = m.profile;
  const profileSection = p
    ? `<section id="profile"><h2>Syscall profile</h2><p class="note">${esc(p.backend)} on pids ${esc(p.pids.join(', '))} for ${esc((p.durationMs / 1000).toFixed(1))} s from ${esc(when(p.startedAt))}; ${esc(num(p.totalCalls))} ${esc(p.unit)}.</p>
<table class="sortable"><thead><tr><th>syscall</th><th class="n">${esc(p.unit)}</th><th class="n">per second</th><th class="n">errors</th><th class="n">returned 0</th></tr></thead><tbody>${p.syscalls
        .slice(0, 30)
        .map(
          (s) =>
            `<tr><td class="mono">${esc(s.name)}</td><td class="n" data-v="${s.count}">${esc(num(s.count))}</td><td class="n" data-v="${s.ratePerSec}">${esc(num(s.ratePerSec, 1))}</td><td class="n">${esc(
              Object.entries(s.errors)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ') || '–',
            )}</td><td class="n">${esc(num(s.zeroReturns))}</td></tr>`,
        )
        .join('')}</tbody></table>
${
  p.fds.length
    ? `<h3>Per fd</h3><table class="sortable"><thead><tr><th class="n">pid</th><th class="n">fd</th><th>target</th><th class="n">calls</th><th class="n">per second</th><th>calls</th></tr></thead><tbody>${p.fds
        .slice(0, 20)
        .map(
          (f) =>
            `<tr><td class="n">${esc(f.pid)}</td><td class="n">${esc(f.fd)}</td><td class="mono">${esc(f.target ?? '')}</td><td class="n" data-v="${f.totalCalls}">${esc(num(f.totalCalls))}</td><td class="n">${esc(num(f.ratePerSec, 1))}</td><td class="mono">${esc(
              f.calls
                .slice(0, 4)
                .map((c) => `${c.name} ${c.count}`)
                .join(', '),
            )}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : ''
}</section>`
    : `<section id="profile"><h2>Syscall profile</h2><p class="note">No syscall profile was taken for this report (run <code>procsleuth report --trace-seconds 5</code>, or <code>procsleuth trace PID</code>).</p></section>`;

  const c = m.collection;
  const runRows = c.runs
    .map(
      (r) =>
        `<tr><td class="n">${esc(r.id)}</td><td>${esc(r.hostname)}</td><td>${esc(when(r.started))}</td><td>${esc(r.ended ? when(r.ended) : 'running or killed')}</td><td class="n">${esc(duration(r.intervalMs / 1000))}</td><td>${esc(r.version)}</td><td class="n">${esc(r.pid)}</td></tr>`,
    )
    .join('');
  const collectionSection = `<section id="collection"><h2>How the data was collected</h2><div class="cards">
${card('record', c.db.split('/').pop() ?? c.db, c.db)}
${card('span', duration(c.spanSeconds), `${when(c.from)} → ${when(c.to)}`)}
${card('interval', c.intervalMs !== undefined ? duration(c.intervalMs / 1000) : '–', 'median over recorder runs')}
${card('samples', num(c.samples), c.bucketsNote ?? '')}
${card('processes recorded', num(c.processesRecorded), 'each (pid, start time) once')}
${card('tool', `procsleuth ${m.tool.version}`, `charts: ${m.tool.chartLibrary}`)}
${card('report built', `${(c.buildMs / 1000).toFixed(2)} s`, when(m.generatedAt))}
${card('secrets', m.redacted ? 'redacted' : 'NOT redacted', m.redacted ? 'passwords, tokens, credentials in URLs, AWS keys' : '--no-redact was given')}
</div>${c.since ? `<p class="note">Window: since ${esc(when(c.since))}.</p>` : ''}
<h3>Recorder runs</h3><table><thead><tr><th class="n">run</th><th>host</th><th>started</th><th>ended</th><th class="n">interval</th><th>version</th><th class="n">pid</th></tr></thead><tbody>${runRows}</tbody></table>
<p class="note">Values are stored raw and only when they change; rates (CPU) are derived when reading. Memory: RSS and PSS from /proc/PID/status and smaps_rollup; fds from /proc/PID/fd; sockets by matching socket inodes of each process to /proc/net tables.</p></section>`;

  const chartData = Object.fromEntries(charts.map((ch) => [ch.id, ch]));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="procsleuth ${esc(m.tool.version)}">
<title>${esc(title)}</title>
<style>${assets.css}</style>
<style>${STYLE_CSS}</style>
</head><body>
<header class="top"><h1>${esc(title)}</h1><span class="sub">generated ${esc(when(m.generatedAt))} · record ${esc(when(c.from))} → ${esc(when(c.to))} · ${m.redacted ? 'secrets redacted' : 'NOT redacted'}</span></header>
<nav class="toc"><a href="#host">Host</a><a href="#findings">Findings</a><a href="#leaks">Leak suspects</a><a href="#spikes">CPU spikes</a><a href="#processes">Processes</a><a href="#tcp">TCP</a><a href="#profile">Syscalls</a><a href="#collection">Collection</a></nav>
<main>
${hostSection}
${findingsSection}
${leakSection}
${spikeSection}
${entitySection}
${tcpSection}
${profileSection}
${collectionSection}
</main>
<footer>procsleuth ${esc(m.tool.version)} · charts drawn with uPlot ${esc(assets.version)} (MIT, © Leon Sorokin), inlined · this file needs no network access.</footer>
<script type="application/json" id="ps-charts">${scriptJson(chartData)}</script>
<script>${scriptText(assets.js)}</script>
<script>${scriptText(CHART_JS)}</script>
<script>${scriptText(TABLE_JS)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById('ps-charts').textContent);
  var els = document.querySelectorAll('[data-chart]');
  for (var i = 0; i < els.length; i++) {
    var spec = specs[els[i].getAttribute('data-chart')];
    if (spec) window.psCharts.make(els[i], spec);
  }
  window.psTables.wireAll();
  document.documentElement.setAttribute('data-charts-ready', String(els.length));
})();
</script>
</body></html>
`;
}
