/**
 * Structured logs: one JSON object per line on stderr, so journald, a log shipper or `jq` can read the
 * recorder's story (start, disk full, resumed, stop) without parsing prose.
 *
 *   {"t":"2025-01-01T12:00:00.000Z","level":"error","event":"disk-full","db":"/var/lib/…","message":"…"}
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, string | number | boolean | null | undefined | object>;

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function jsonLogger(
  write: (line: string) => void,
  min: LogLevel = 'info',
  clock: () => number = Date.now,
): Logger {
  return {
    log(level, event, fields = {}) {
      if (ORDER[level] < ORDER[min]) return;
      write(JSON.stringify({ t: new Date(clock()).toISOString(), level, event, ...fields }) + '\n');
    },
  };
}
