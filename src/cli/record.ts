import { readFileSync } from 'node:fs';
import { ProcsleuthError, UsageError } from '../util/errors.js';
import { defaultDbPath, runRecorder } from '../record/recorder.js';
import { jsonLogger, type LogLevel } from '../record/log.js';
import { durationMs, parse, rootsFrom, type Command } from './command.js';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const recordCommand: Command = {
  summary: 'record every process every interval into SQLite, cheaply, for days',
  usage: `usage: procsleuth record [--interval 60s] [--db PATH] [--retention 14d] [--once]
                         [--pass 60s] [--log-level info] [--proc-root DIR]

Samples every process (CPU ticks, RSS, anon, swap, PSS, fds, threads, sockets by TCP state) and the
host (CPU, load, memory, sockstat, file-nr, TCP states, top remote addresses) every --interval and
appends them to a SQLite database (WAL). Only what changed is stored, so an idle process costs
nothing. Raw samples are kept for --retention, then folded into 10-minute min/max/last buckets.

  --interval D    time between samples (default 60s; 100ms … 1h)
  --db PATH       default /var/lib/procsleuth/record.db for root,
                  $XDG_STATE_HOME/procsleuth/record.db (~/.local/state/…) otherwise
  --retention D   how long raw samples are kept (default 14d)
  --once          take one full sample, write it, exit
  --pass D        how often PSS and socket ownership are re-read (default 60s, at least --interval)
  --log-level L   debug|info|warn|error; logs are JSON lines on stderr

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
    try {
      await runRecorder({
        dbPath,
        procRoot: rootsFrom(values, io.env).proc,
        intervalMs,
        retentionMs,
        once: values.once === true,
        log,
        version: version(),
        sampler: { sweepMs: passMs, pssMs: passMs, socketsMs: passMs },
      });
    } catch (err) {
      if (err instanceof ProcsleuthError)
        log.log('error', 'fatal', { code: err.code, db: dbPath, message: err.message });
      throw err;
    }
    return 0;
  },
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
