import { UsageError } from '../util/errors.js';
import { humanBytes } from '../util/format.js';
import { RecordReader, Store } from '../store/index.js';
import { defaultDbPath } from '../record/recorder.js';
import {
  DEFAULT_METRICS,
  buildHistory,
  sparkline,
  type HistoryDocument,
  type HistorySelector,
  type HistorySeries,
} from '../record/history.js';
import { parse, pidArg, printJson, type Command } from './command.js';

export const historyCommand: Command = {
  summary: 'a recorded series with a sparkline: a process, a group of workers, or a process tree',
  usage: `usage: procsleuth history PID | --group NAME | --tree PID | --recorder
                          [--metric M[,M…]] [--since T] [--db PATH] [--json|--csv]

  PID           one process (the newest one recorded with that PID)
  --group NAME  every process of one executable and normalised arguments, across restarts;
                NAME is the group label, the executable (path or basename) or a comm
  --tree PID    the process and all its descendants, summed
  --recorder    the recorder's own CPU, RSS and sample duration
  --metric M    cpu (% of one core), rss, anon, swap, pss, vsz, threads, fds, minflt, majflt,
                sockets, tcp, established, close_wait, listen, syn_sent, …, udp, unix
                (default cpu,rss,fds; for --recorder: cpu, rss, duration)
  --since T     a duration back from now (2h, 3d) or a date (2025-01-31T12:00)
  --json        one document, schema procsleuth.history/1
  --csv         timestamp,series,value rows (the input format of "procsleuth leaks --input")`,
  async run(args, io) {
    const { values, positionals } = parse(
      args,
      {
        group: { type: 'string' },
        tree: { type: 'string' },
        recorder: { type: 'boolean' },
        metric: { type: 'string', multiple: true },
        since: { type: 'string' },
        db: { type: 'string' },
        json: { type: 'boolean' },
        csv: { type: 'boolean' },
      },
      true,
    );
    const chosen = [
      positionals.length > 0,
      values.group !== undefined,
      values.tree !== undefined,
      values.recorder === true,
    ].filter(Boolean).length;
    if (chosen !== 1) throw new UsageError('give exactly one of PID, --group NAME, --tree PID or --recorder');
    if (positionals.length > 1) throw new UsageError(`one PID only, got ${positionals.join(' ')}`);
    if (values.json && values.csv) throw new UsageError('--json and --csv exclude each other');
    const selector: HistorySelector =
      values.group !== undefined
        ? { kind: 'group', name: values.group }
        : values.tree !== undefined
          ? { kind: 'tree', pid: pidArg(values.tree, '--tree PID') }
          : values.recorder
            ? { kind: 'recorder' }
            : { kind: 'process', pid: pidArg(positionals[0]) };
    const metrics = (values.metric ?? [])
      .flatMap((m) => m.split(','))
      .map((m) => m.trim().toLowerCase())
      .filter((m) => m !== '');
    const now = Date.now();
    const dbPath = values.db ?? defaultDbPath(io.env);
    const store = Store.open(dbPath, { mode: 'read' });
    let doc: HistoryDocument;
    try {
      doc = buildHistory(new RecordReader(store), {
        selector,
        metrics:
          metrics.length > 0
            ? metrics
            : selector.kind === 'recorder'
              ? ['cpu', 'rss', 'duration']
              : DEFAULT_METRICS,
        sinceMs: sinceMs(values.since, now),
        dbPath,
        now,
      });
    } finally {
      store.close();
    }
    if (values.json) printJson(io, doc);
    else if (values.csv) io.out(renderCsv(doc));
    else io.out(renderText(doc));
    return 0;
  },
};

/** `2h` / `3d` back from now, or an absolute date. */
export function sinceMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(value.trim());
  if (m) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'ms'];
    return now - Number(m[1]) * unit;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new UsageError(
      `--since wants a duration like 2h or 3d, or a date like 2025-01-31T12:00; got "${value}"`,
    );
  return t;
}

function fmt(s: HistorySeries, v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  switch (s.unit) {
    case 'bytes':
      return humanBytes(Math.round(v));
    case 'percent':
      return `${v.toFixed(1)}%`;
    case 'per-second':
      return `${v.toFixed(1)}/s`;
    case 'ms':
      return `${v.toFixed(1)}ms`;
    default:
      return String(Math.round(v * 100) / 100);
  }
}

export function renderText(doc: HistoryDocument, width = 60): string {
  const e = doc.entity;
  const lines = [`${e.kind} ${e.label}`];
  if (e.kind !== 'process' && e.kind !== 'recorder') lines.push(`  ${e.processes.length} processes recorded`);
  lines.push(`  ${doc.samples} samples${doc.from ? `, ${doc.from} … ${doc.to}` : ''}`);
  const nameW = Math.max(...doc.series.map((s) => s.metric.length));
  for (const s of doc.series) {
    const vals = s.points.map((p) => p.value);
    const sum = s.summary;
    const spark = sparkline(vals, width);
    const stats = sum
      ? `last ${fmt(s, sum.last)}  min ${fmt(s, sum.min)}  max ${fmt(s, sum.max)}  mean ${fmt(s, sum.mean)}`
      : 'no data';
    lines.push(
      `  ${s.metric.padEnd(nameW)}  ${spark.padEnd(Math.min(width, Math.max(1, vals.length)))}  ${stats}`,
    );
  }
  return lines.join('\n') + '\n';
}

export function renderCsv(doc: HistoryDocument): string {
  const e = doc.entity;
  const who =
    e.kind === 'group'
      ? `group:${e.label}`
      : e.kind === 'recorder'
        ? 'recorder'
        : `${e.kind}:${e.pid ?? ''}:${e.comm ?? ''}`;
  const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const out = ['timestamp,series,value'];
  for (const s of doc.series)
    for (const p of s.points) out.push(`${p.t},${q(`${who}/${s.metric}`)},${p.value}`);
  return out.join('\n') + '\n';
}
