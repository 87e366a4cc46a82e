/**
 * `report`: one self-contained HTML file from the record (and a triage of this host taken now), and with
 * `--bundle` the vendor bundle: the report, the snapshot, per suspect its mappings, fds, sockets, limits
 * and environment, the series as CSV, a README. Secrets are redacted everywhere unless `--no-redact`.
 */
import { writeFileSync } from 'node:fs';
import { collectSnapshot } from '../collect/snapshot.js';
import { collectFds } from '../collect/fds.js';
import { collectPmap } from '../collect/pmap-report.js';
import type { Snapshot } from '../collect/types.js';
import { readPidLimits } from '../procfs/pid-limits.js';
import { RecordReader, Store } from '../store/index.js';
import { defaultDbPath } from '../record/recorder.js';
import { buildReport, type ReportModel } from '../report/html/model.js';
import { renderReportHtml } from '../report/html/render.js';
import { chartAssets } from '../report/html/assets.js';
import { RecordView, type Columns } from '../report/html/data.js';
import { membersOf } from '../report/html/suspects.js';
import type { EntityRef, LeaksDocument } from '../detect/leaks.js';
import type { SpikesDocument } from '../detect/spikes.js';
import { buildBundle, csvCell, type BundleFile } from '../report/bundle.js';
import { redactDeep, redactEnv } from '../report/redact.js';
import { renderPmap } from '../report/text-pmap.js';
import { renderFds } from '../report/text-fds.js';
import { ProcsleuthError, UsageError } from '../util/errors.js';
import { readText } from '../util/proc-io.js';
import type { Roots } from '../util/roots.js';
import { triage } from './triage.js';
import { leaksFromRecord } from './leaks.js';
import { spikesFromRecord, spikesInWorker } from './spikes.js';
import { sinceMs } from './history.js';
import {
  commonOptions,
  intOption,
  parse,
  printJson,
  rootsFrom,
  toolVersion,
  type Command,
} from './command.js';
import type { TriageReport } from '../rules/types.js';

export const reportCommand: Command = {
  summary: 'an HTML report with charts from the record and a triage; --bundle for a vendor',
  usage: `usage: procsleuth report [--db PATH] [--since T] [--out report.html] [--bundle out.tar.gz]
                        [--no-triage] [--trace-seconds N] [--no-redact] [--json]

  --db PATH          the record (default: the recorder's default path)
  --since T          only the last 2h / 3d, or since a date (2025-01-31T12:00)
  --out FILE         write the HTML report here (default report.html; with --bundle only when given)
  --bundle FILE      write the vendor bundle (.tar.gz): the report, the snapshot JSON, per suspect its
                     mappings, fds, sockets, limits and environment, the series as CSV, a README
  --no-triage        no snapshot of this host now: the report shows the record only
  --trace-seconds N  also profile the hottest group's syscalls for N seconds
  --no-redact        keep passwords, tokens and credentials in command lines and environments
  --json             print the report model (schema procsleuth.report/2) instead of a summary

The HTML file opens without network access; it prints well to PDF.`,
  async run(args, io) {
    const { values } = parse(args, {
      ...commonOptions,
      db: { type: 'string' },
      since: { type: 'string' },
      out: { type: 'string' },
      bundle: { type: 'string' },
      'no-triage': { type: 'boolean' },
      'trace-seconds': { type: 'string' },
      'no-redact': { type: 'boolean' },
    });
    const now = Date.now();
    const roots = rootsFrom(values, io.env);
    const dbPath = values.db ?? defaultDbPath(io.env);
    const redact = values['no-redact'] !== true;
    const traceMs = intOption(values['trace-seconds'], 'trace-seconds', 0) * 1000;
    if (values['no-triage'] && traceMs > 0)
      throw new UsageError('--trace-seconds needs a triage; drop --no-triage');
    const since = sinceMs(values.since, now);
    const t0 = performance.now();

    let tri: TriageReport | undefined;
    let triageNote: string | undefined;
    let snap: Snapshot | undefined;
    if (!values['no-triage']) {
      // A bundle wants the whole snapshot (every process); the triage keeps only what it reports.
      if (values.bundle !== undefined) snap = await collectSnapshot({ roots, cpuWindowMs: 500 });
      tri = await triage({ roots, traceMs, cpuWindowMs: 500 }, io);
    } else triageNote = 'No triage: --no-triage was given.';

    const assets = chartAssets();
    const store = Store.open(dbPath, { mode: 'read' });
    let model: ReportModel;
    let csv: BundleFile[] = [];
    let suspectPids = new Map<number, number>();
    try {
      const reader = new RecordReader(store);
      // The report shows what `procsleuth leaks` and `procsleuth spikes` say over the same window; the
      // spike scan runs on a worker meanwhile (on the main thread when no worker can start).
      const spikesQuery = { dbPath, sinceMs: since, now };
      const spikesWorker = spikesInWorker(spikesQuery);
      let leaks: LeaksDocument;
      let spikes: SpikesDocument | undefined;
      try {
        leaks = leaksFromRecord(reader, {
          dbPath,
          sinceMs: since,
          procRoot: roots.proc,
          sysRoot: roots.sys,
          now,
        });
        spikes = await spikesWorker.result.catch((err: unknown) => {
          io.err(
            `procsleuth: the spike scan's worker failed (${err instanceof Error ? err.message : String(err)}); scanning here\n`,
          );
          return undefined;
        });
      } finally {
        spikesWorker.stop();
      }
      spikes ??= spikesFromRecord(reader, spikesQuery);
      model = buildReport(reader, {
        db: dbPath,
        version: toolVersion(),
        chartLibrary: `uPlot ${assets.version}`,
        sinceMs: since,
        triage: tri,
        triageNote,
        leaks,
        spikes,
        now,
      });
      if (values.bundle !== undefined) {
        csv = seriesCsv(reader, model, since);
        suspectPids = processesOfSuspects(reader, model);
      }
    } finally {
      store.close();
    }
    model.collection.buildMs = Math.round(performance.now() - t0);
    if (redact) model = { ...redactDeep(model), redacted: true };

    if (values.json) {
      printJson(io, model);
      return 0;
    }
    const html = renderReportHtml(model, assets);
    const written: string[] = [];
    const out = values.out ?? (values.bundle === undefined ? 'report.html' : undefined);
    if (out !== undefined) {
      writeFile(out, html);
      written.push(out);
    }
    if (values.bundle !== undefined) {
      const files = [
        { path: 'report.html', content: html },
        { path: 'report.json', content: JSON.stringify(model, null, 2) },
        ...csv,
        ...(await evidenceFiles(roots, suspectPids, snap, tri, redact)),
      ];
      files.unshift({
        path: 'README.txt',
        content: readme(
          model,
          files.map((f) => f.path),
          redact,
        ),
      });
      const top = `procsleuth-${safeName(model.host.hostname)}-${new Date(now).toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
      writeFile(values.bundle, buildBundle(files, { top, redact, mtimeMs: now }));
      written.push(values.bundle);
    }
    const s = model.leaks.suspects;
    io.out(
      [
        `wrote ${written.join(' and ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        `  ${model.collection.samples} samples, ${model.collection.from ?? '-'} … ${model.collection.to ?? '-'}`,
        `  ${tri ? `${tri.findings.length} findings, ` : ''}${s.filter((x) => x.verdict === 'leak').length} leak suspects, ${s.filter((x) => x.verdict === 'watch').length} to watch, ${model.spikes.events.length} CPU events`,
        redact ? '' : '  secrets were NOT redacted (--no-redact)',
      ]
        .filter(Boolean)
        .join('\n') + '\n',
    );
    return 0;
  },
};

/** Suspects whose series and live evidence go into a bundle. */
const MAX_BUNDLED_SUSPECTS = 12;

function writeFile(path: string, content: string | Buffer): void {
  try {
    writeFileSync(path, content);
  } catch (err) {
    throw new ProcsleuthError('IO', `cannot write ${path}`, { cause: err });
  }
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'x';
}

function toCsv(c: Columns, names: string[]): string {
  const lines = [['time', ...names].join(',')];
  for (let i = 0; i < c.tMs.length; i++) {
    const row = [new Date(c.tMs[i] ?? 0).toISOString()];
    let any = false;
    for (const n of names) {
      const v = c.cols[n]?.[i] ?? NaN;
      if (Number.isFinite(v)) any = true;
      row.push(Number.isFinite(v) ? String(Math.round(v * 100) / 100) : '');
    }
    if (any) lines.push(row.map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

/**
 * Where a suspect's series goes: `PID-COMM` for a process, `tree-PID-COMM`, `group-ID-COMM`. Never the
 * group's label: it is a command line, and a file name is not redacted.
 */
function entityFileName(e: EntityRef, taken: Set<string>): string {
  const proc = `${e.pid ?? ''}-${safeName(e.comm ?? e.kind)}`;
  const base =
    e.kind === 'process'
      ? proc
      : e.kind === 'tree'
        ? `tree-${proc}`
        : `${e.kind}-${/^g:(\d+)$/.exec(e.key)?.[1] ?? 'x'}-${safeName(e.comm ?? '')}`;
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}-${k}`;
  taken.add(name);
  return name;
}

/** The host series and each suspect's series at full resolution. */
function seriesCsv(reader: RecordReader, model: ReportModel, since: number | undefined): BundleFile[] {
  const view = new RecordView(reader);
  const t = reader.timeline(since ?? 0);
  const host = view.host(t);
  const files: BundleFile[] = [{ path: 'series/host.csv', content: toCsv(host, Object.keys(host.cols)) }];
  const seen = new Set<string>();
  const names = new Set<string>();
  for (const s of model.leaks.suspects) {
    if (seen.has(s.entity.key) || seen.size >= MAX_BUNDLED_SUSPECTS) continue;
    seen.add(s.entity.key);
    const members = membersOf(reader, s.entity, t);
    if (!members.length) continue;
    const e = view.entity(t, members);
    files.push({
      path: `series/${entityFileName(s.entity, names)}.csv`,
      content: toCsv(
        e,
        Object.keys(e.cols).filter((c) => c !== 'processes' || members.length > 1),
      ),
    });
  }
  return files;
}

/**
 * The processes whose live evidence a vendor wants, pid → start time: each suspect process, the root of
 * each suspect tree, and the first two members still running of each suspect group.
 */
function processesOfSuspects(reader: RecordReader, model: ReportModel): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of model.leaks.suspects) {
    const e = s.entity;
    if (e.pid !== undefined && e.startTimeTicks !== undefined) {
      if (!out.has(e.pid)) out.set(e.pid, e.startTimeTicks);
    } else if (e.kind === 'group')
      for (const p of membersOf(reader, e)
        .filter((x) => x.endMs === null)
        .slice(0, 2))
        if (!out.has(p.pid)) out.set(p.pid, p.startTimeTicks);
  }
  return out;
}

/**
 * Per suspect alive on this host (same pid and start time as recorded): mappings, fds, sockets, limits,
 * environment; the snapshot, the triage and the raw tracer output.
 */
async function evidenceFiles(
  roots: Roots,
  suspectPids: ReadonlyMap<number, number>,
  snap: Snapshot | undefined,
  tri: TriageReport | undefined,
  redact: boolean,
): Promise<BundleFile[]> {
  const r = <T>(v: T): T => (redact ? redactDeep(v) : v);
  const json = (v: unknown): string => JSON.stringify(r(v), null, 2);
  const files: BundleFile[] = [];
  if (snap) files.push({ path: 'snapshot.json', content: json(snap) });
  if (tri) {
    const { profile, ...rest } = tri;
    files.push({
      path: 'triage.json',
      content: json({ ...rest, profile: profile ? { ...profile, raw: undefined } : undefined }),
    });
    if (profile) {
      files.push({ path: 'profile/syscalls.json', content: json({ ...profile, raw: undefined }) });
      if (profile.raw !== undefined)
        files.push({
          path: `profile/raw-${profile.backend}.txt`,
          content: r(profile.raw) + (profile.rawTruncated ? '\n[truncated]\n' : ''),
        });
    }
  }
  const live = new Map((snap?.processes ?? []).map((p) => [p.pid, p]));
  const pids = new Map<number, number | undefined>(suspectPids);
  for (const f of tri?.findings ?? [])
    for (const pid of f.pids.slice(0, 3)) if (!pids.has(pid)) pids.set(pid, undefined);
  let n = 0;
  for (const [pid, start] of pids) {
    if (n >= MAX_BUNDLED_SUSPECTS) break;
    const p = live.get(pid);
    if (!p || (start !== undefined && p.startTimeTicks !== start)) continue;
    n++;
    const dir = `suspects/${pid}-${safeName(p.comm)}`;
    const notes: string[] = [];
    files.push({ path: `${dir}/process.json`, content: json(p) });
    try {
      const pm = collectPmap(roots, pid);
      files.push(
        { path: `${dir}/pmap.json`, content: json(pm) },
        { path: `${dir}/pmap.txt`, content: r(renderPmap(pm)) },
      );
    } catch (err) {
      notes.push(`pmap: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      const fd = r(await collectFds(roots, pid, { peers: true }));
      files.push(
        { path: `${dir}/fds.json`, content: JSON.stringify(fd, null, 2) },
        { path: `${dir}/fds.txt`, content: renderFds(fd) },
        {
          path: `${dir}/sockets.json`,
          content: JSON.stringify({ ...fd, fds: fd.fds.filter((f) => f.kind === 'socket') }, null, 2),
        },
      );
    } catch (err) {
      notes.push(`fds: ${err instanceof Error ? err.message : String(err)}`);
    }
    const lim = readPidLimits(roots.proc, pid);
    files.push({
      path: `${dir}/limits.json`,
      content: lim.ok ? json(lim.value) : json({ unreadable: lim.failure.kind }),
    });
    const env = readText(`${roots.proc}/${pid}/environ`, true);
    files.push({
      path: `${dir}/environ.txt`,
      content: env.ok
        ? (redact
            ? redactEnv(env.text.split('\0').filter(Boolean))
            : env.text.split('\0').filter(Boolean)
          ).join('\n') + '\n'
        : `unreadable: ${env.failure.kind}\n`,
    });
    files.push({ path: `${dir}/cmdline.txt`, content: r(p.argv).join(' ') + '\n' });
    if (notes.length) files.push({ path: `${dir}/notes.txt`, content: notes.join('\n') + '\n' });
  }
  return files;
}

function readme(m: ReportModel, paths: string[], redact: boolean): string {
  const has = (p: string): boolean => paths.some((x) => x === p || x.startsWith(p));
  return `procsleuth evidence bundle
==========================
host ${m.host.hostname}, generated ${m.generatedAt} by procsleuth ${m.tool.version}
record ${m.collection.db}: ${m.collection.samples} samples, ${m.collection.from ?? '-'} … ${m.collection.to ?? '-'}
secrets: ${redact ? 'REDACTED (passwords, tokens, Authorization headers, credentials in URLs, AWS keys) in command lines, environments and every text file' : 'NOT redacted (--no-redact was given)'}

Files
-----
report.html          the report: open in any browser, no network needed; prints to PDF
report.json          the same content as data (schema procsleuth.report/2): suspects, verdicts, series as drawn
${has('snapshot.json') ? 'snapshot.json        every process and the host read once when the bundle was made (procsleuth.snapshot/1)\n' : ''}${has('triage.json') ? 'triage.json          findings of the checklist on that snapshot (procsleuth.triage/1)\n' : ''}series/host.csv      host series at full resolution: CPU %, load, memory bytes, TCP states, file handles
series/PID-COMM.csv  each suspect's series: CPU % of one core, RSS/PSS/anon/swap bytes, fds, threads, sockets by state
                     (group-ID-COMM.csv and tree-PID-COMM.csv: summed over the members alive at each time)
${
  has('suspects/')
    ? `suspects/PID-COMM/    per suspect alive when the bundle was made:
  process.json       its entry in the snapshot
  pmap.json/.txt     every mapping with kind and RSS (pmap -x)
  fds.json           every open fd resolved: files, pipes, sockets with endpoints and state
  sockets.json       the socket fds only (ss -p for this process)
  limits.json        /proc/PID/limits
  environ.txt        its environment, one variable a line${redact ? ' (secrets redacted)' : ''}
  cmdline.txt        its command line
`
    : ''
}${has('profile/') ? "profile/syscalls.json  the syscall profile (per syscall and per fd)\nprofile/raw-*.txt      the tracer's own output\n" : ''}
Series are read from the record: values are stored when they change; CPU is derived from the kernel's
tick counters (1/100 s) between samples. Times are UTC.
`;
}
