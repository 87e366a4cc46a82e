import { ProcsleuthError, UsageError } from '../util/errors.js';
import { defaultDbPath, runRecorder } from '../record/recorder.js';
import { jsonLogger, type LogLevel } from '../record/log.js';
import type { Exporters } from '../record/exporters/index.js';
import { durationMs, intOption, parse, rootsFrom, toolVersion, type Command } from './command.js';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const recordCommand: Command = {
  summary: 'record every process every interval into SQLite, cheaply, for days',
  usage: `usage: procsleuth record [--interval 60s] [--db PATH] [--retention 14d] [--once]
                         [--pass 60s] [--log-level info] [--proc-root DIR] [--node NAME]
                         [--metrics-listen [ADDR:]PORT] [--remote-write URL]

Samples every process (CPU ticks, RSS, anon, swap, PSS, fds, threads, sockets by TCP state) and the
host (CPU, load, memory, sockstat, file-nr, TCP states, top remote addresses) every --interval and
appends them to a SQLite database (WAL). Only what changed is stored, so an idle process costs
nothing. Raw samples are kept for --retention, then folded into 10-minute min/max/last buckets.

  --interval D    time between samples (default 60s; 100ms … 1h)
  --db PATH       default /var/lib/procsleuth/record.db for root,
                  $XDG_STATE_HOME/procsleuth/record.db (~/.local/state/…) otherwise
  --retention D   how long raw samples are kept (default 14d)
  --once          take one full sample, write it, exit
  --pass D        how often PSS and socket ownership are re-read (default 60s, at least --interval);
                  fds and anon of a process whose /proc/PID/stat did not move (no CPU tick, fault or
                  RSS change) are re-read once per pass too, not every interval
  --log-level L   debug|info|warn|error; logs are JSON lines on stderr

Export to Prometheus (host, per-group and top-N series, bounded: never a series per PID):
  --node NAME               the node label on every series (default the hostname)
  --metrics-listen A:PORT   serve GET /metrics (text format); loopback unless an address is given
  --remote-write URL        push every sample with the remote-write protocol; an outage is buffered
                            on disk in DB.rwq and sent, in order and once, when the receiver is back
  --remote-write-buffer S   bound of that buffer (default 256MiB; e.g. 64MiB, 2GiB)
  --export-groups N         groups with series of their own (default 64; the rest sum to "_other")
  --export-top N            processes per resource in the top-N series (default 5)

Stops cleanly on SIGTERM or SIGINT. A second recorder on the same database is refused.
Read it back with "procsleuth history".`,
  async run(args, io) {
    const { values } = parse(args, {
      interval: { type: 'string' },
      db: { type: 'string' },
      retention: { type: 'string' },
      once: { type: 'boolean' },
      pass: { type: 'string' },
      'log-level': { type: 'string' },
      'proc-root': { type: 'string' },
      'sys-root': { type: 'string' },
      node: { type: 'string' },
      'metrics-listen': { type: 'string' },
      'remote-write': { type: 'string' },
      'remote-write-buffer': { type: 'string' },
      'export-groups': { type: 'string' },
      'export-top': { type: 'string' },
    });
    const intervalMs = durationMs(values.interval, 'interval', 60_000);
    if (intervalMs < 100 || intervalMs > 3_600_000)
      throw new UsageError(`--interval must be between 100ms and 1h, got "${values.interval}"`);
    const retentionMs = durationMs(values.retention, 'retention', 14 * 86_400_000);
    if (retentionMs < 3_600_000)
      throw new UsageError(`--retention must be at least 1h, got "${values.retention}"`);
    const passMs = Math.max(intervalMs, durationMs(values.pass, 'pass', 60_000));
    const level = (values['log-level'] ?? 'info') as LogLevel;
    if (!(LEVELS as readonly string[]).includes(level))
      throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
    const log = jsonLogger((s) => io.err(s), level);
    const dbPath = values.db ?? defaultDbPath(io.env);
    const node = values.node;
    if (node !== undefined && (node.trim() === '' || node.length > 200))
      throw new UsageError('--node wants a name of 1 to 200 characters');
    // Loaded only when asked for: a plain recorder does not pay for http, zlib and snappy at start.
    const ex =
      values['metrics-listen'] !== undefined || values['remote-write'] !== undefined
        ? await import('../record/exporters/index.js')
        : undefined;
    let listen;
    try {
      listen = values['metrics-listen'] === undefined ? undefined : ex?.parseListen(values['metrics-listen']);
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    const rwUrl = values['remote-write'];
    if (rwUrl !== undefined && !/^https?:\/\/[^/]/.test(rwUrl))
      throw new UsageError(`--remote-write wants an http:// or https:// URL, got "${rwUrl}"`);
    const maxBufferBytes = sizeBytes(values['remote-write-buffer'], 'remote-write-buffer', 256 * 2 ** 20);
    const maxGroups = intOption(values['export-groups'], 'export-groups', 64, 1);
    const topN = intOption(values['export-top'], 'export-top', 5, 0);
    let exporters: Exporters | undefined;
    if (ex) {
      try {
        exporters = await ex.Exporters.start({
          node,
          listen,
          remoteWrite:
            rwUrl === undefined ? undefined : { url: rwUrl, bufferPath: `${dbPath}.rwq`, maxBufferBytes },
          maxGroups,
          topN,
          log,
          userAgent: `procsleuth/${toolVersion()}`,
        });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log.log('error', 'fatal', { code: 'IO', message });
        throw new ProcsleuthError('IO', `cannot start the exporters: ${message}`, { cause: err });
      }
    }
    try {
      await runRecorder({
        dbPath,
        procRoot: rootsFrom(values, io.env).proc,
        intervalMs,
        retentionMs,
        once: values.once === true,
        log,
        version: toolVersion(),
        sampler: { sweepMs: passMs, pssMs: passMs, socketsMs: passMs },
        onSample: exporters && ((input, health) => exporters.onSample(input, health)),
      });
    } catch (err) {
      if (err instanceof ProcsleuthError)
        log.log('error', 'fatal', { code: err.code, db: dbPath, message: err.message });
      throw err;
    } finally {
      await exporters?.close();
    }
    return 0;
  },
};

/** Sizes like 64MiB, 2GiB, 500MB, 1048576 (bytes). */
function sizeBytes(value: string | undefined, name: string, dflt: number): number {
  if (value === undefined) return dflt;
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(value.trim());
  if (!m) throw new UsageError(`--${name} wants a size like 64MiB or 2GiB, got "${value}"`);
  const units: Record<string, number> = {
    b: 1,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    kib: 2 ** 10,
    mib: 2 ** 20,
    gib: 2 ** 30,
  };
  const n = Math.floor(Number(m[1]) * (units[(m[2] ?? 'b').toLowerCase()] ?? 1));
  if (n < 1 << 20) throw new UsageError(`--${name} must be at least 1MiB, got "${value}"`);
  return n;
}
