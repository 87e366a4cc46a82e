/**
 * The schema of the record database: the series specs (which columns each series has and whether a
 * column is a counter or a gauge), the DDL generated from them, and the migrations. See index.ts for
 * the prose description of the layout.
 */
import type Database from 'better-sqlite3';
import { TCP_STATES } from '../collect/types.js';

/** Bumped by every migration; a database with a larger `user_version` was written by a newer procsleuth. */
export const SCHEMA_VERSION = 1;
/** `PRAGMA application_id`: 'pslt'. Marks a file as ours, so we never write into someone else's database. */
export const APPLICATION_ID = 0x70736c74;
/** Raw samples older than the retention are folded into buckets of this width. */
export const BUCKET_MS = 600_000;

/**
 * counter: a kernel counter that only grows for one process (CPU ticks, faults). Stored as the increase
 * since the previous stored row; a keyframe row (`k` = 1) holds the absolute value.
 * gauge: a level (bytes, counts). Stored absolute, when it changed (and restated every RESTATE_EVERY samples).
 */
export type ColumnKind = 'counter' | 'gauge';

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
}

export interface SeriesSpec {
  /** Raw rows live in `<table>_raw` (and `<table>_recent` for per-process series), buckets in `<table>_10m`. */
  readonly table: string;
  readonly perProcess: boolean;
  readonly columns: readonly ColumnSpec[];
}

const c = (name: string): ColumnSpec => ({ name, kind: 'counter' });
const g = (name: string): ColumnSpec => ({ name, kind: 'gauge' });

export const PROC_SERIES = {
  table: 'proc',
  perProcess: true,
  columns: [
    c('utime_ticks'),
    c('stime_ticks'),
    c('minflt'),
    c('majflt'),
    g('rss_kib'),
    g('anon_kib'),
    g('swap_kib'),
    g('pss_kib'),
    g('vsz_kib'),
    g('threads'),
    g('fds'),
  ],
} as const satisfies SeriesSpec;

/** Sockets a process holds, by TCP state (owned sockets are never TIME_WAIT or NEW_SYN_RECV: no fd). */
export const SOCK_TCP_STATES = TCP_STATES.filter((s) => s !== 'TIME_WAIT' && s !== 'NEW_SYN_RECV');

export const SOCK_SERIES = {
  table: 'sock',
  perProcess: true,
  columns: [...SOCK_TCP_STATES.map((s) => g(`tcp_${s.toLowerCase()}`)), g('udp'), g('unix'), g('other')],
} as const satisfies SeriesSpec;

export const HOST_SERIES = {
  table: 'host',
  perProcess: false,
  columns: [
    c('cpu_user_ticks'),
    c('cpu_nice_ticks'),
    c('cpu_system_ticks'),
    c('cpu_idle_ticks'),
    c('cpu_iowait_ticks'),
    c('cpu_irq_ticks'),
    c('cpu_softirq_ticks'),
    c('cpu_steal_ticks'),
    c('ctxt'),
    c('forks'),
    g('load1_x100'),
    g('load5_x100'),
    g('load15_x100'),
    g('procs_running'),
    g('procs_blocked'),
    g('processes'),
    g('tasks'),
    g('mem_total_kib'),
    g('mem_available_kib'),
    g('mem_free_kib'),
    g('cached_kib'),
    g('shmem_kib'),
    g('swap_total_kib'),
    g('swap_free_kib'),
    g('file_nr'),
    g('sockets_used'),
    g('tcp_inuse'),
    g('tcp_orphan'),
    g('tcp_tw'),
    g('tcp_alloc'),
    g('tcp_mem_pages'),
    g('udp_inuse'),
    g('tcp6_inuse'),
    g('udp6_inuse'),
    // TCP state counts from /proc/net/tcp{,6}: only on socket passes (NULL = not counted this sample).
    ...TCP_STATES.map((s) => g(`st_${s.toLowerCase()}`)),
  ],
} as const satisfies SeriesSpec;

/** Host CPU tick columns of the modes that are busy time (all but idle and iowait), and of the idle ones. */
export const HOST_CPU_BUSY_COLUMNS: readonly string[] = [
  'cpu_user_ticks',
  'cpu_nice_ticks',
  'cpu_system_ticks',
  'cpu_irq_ticks',
  'cpu_softirq_ticks',
  'cpu_steal_ticks',
];
export const HOST_CPU_IDLE_COLUMNS: readonly string[] = ['cpu_idle_ticks', 'cpu_iowait_ticks'];

export const ALL_SERIES: readonly SeriesSpec[] = [PROC_SERIES, SOCK_SERIES, HOST_SERIES];

function rawDdl(s: SeriesSpec, suffix: 'raw' | 'recent'): string {
  const cols = ['k INTEGER', ...s.columns.map((x) => `${x.name} INTEGER`)];
  if (!s.perProcess)
    return `CREATE TABLE ${s.table}_${suffix} (sample INTEGER PRIMARY KEY, ${cols.join(', ')})`;
  // raw: ordered by process, so one process's history is one range scan. recent: ordered by sample, so
  // each commit appends to the last page instead of touching one page per active process.
  const key = suffix === 'raw' ? 'proc, sample' : 'sample, proc';
  return `CREATE TABLE ${s.table}_${suffix} (proc INTEGER NOT NULL, sample INTEGER NOT NULL, ${cols.join(', ')}, PRIMARY KEY (${key})) WITHOUT ROWID`;
}

/** Column names of a bucket table: a counter keeps its last value, a gauge min, max and last. */
export function bucketColumns(s: SeriesSpec): string[] {
  return s.columns.flatMap((x) =>
    x.kind === 'counter' ? [`${x.name}_last`] : [`${x.name}_min`, `${x.name}_max`, `${x.name}_last`],
  );
}

function bucketDdl(s: SeriesSpec): string {
  const cols = bucketColumns(s).map((n) => `${n} INTEGER`);
  if (!s.perProcess)
    return `CREATE TABLE ${s.table}_10m (bucket INTEGER PRIMARY KEY, samples INTEGER NOT NULL, ${cols.join(', ')})`;
  return `CREATE TABLE ${s.table}_10m (proc INTEGER NOT NULL, bucket INTEGER NOT NULL, ${cols.join(', ')}, PRIMARY KEY (proc, bucket)) WITHOUT ROWID`;
}

const V1 = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID`,
  `CREATE TABLE strings (id INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE)`,
  `CREATE TABLE boots (id INTEGER PRIMARY KEY, boot_id TEXT NOT NULL UNIQUE)`,
  `CREATE TABLE runs (id INTEGER PRIMARY KEY, started_ms INTEGER NOT NULL, ended_ms INTEGER, pid INTEGER NOT NULL,
     hostname TEXT NOT NULL, version TEXT NOT NULL, interval_ms INTEGER NOT NULL)`,
  `CREATE TABLE samples (id INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL, run INTEGER NOT NULL, boot INTEGER NOT NULL,
     duration_ms INTEGER, self_cpu_ms INTEGER, self_rss_kib INTEGER, flags INTEGER NOT NULL DEFAULT 0)`,
  `CREATE INDEX samples_t ON samples (t_ms)`,
  `CREATE TABLE groups (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, label TEXT NOT NULL)`,
  `CREATE TABLE processes (id INTEGER PRIMARY KEY, boot INTEGER NOT NULL, pid INTEGER NOT NULL,
     start_ticks INTEGER NOT NULL, ppid INTEGER, parent INTEGER, uid INTEGER, comm INTEGER, exe INTEGER,
     cmdline INTEGER, grp INTEGER, kthread INTEGER NOT NULL DEFAULT 0,
     first_sample INTEGER NOT NULL, first_ms INTEGER NOT NULL, end_sample INTEGER, end_ms INTEGER,
     UNIQUE (boot, pid, start_ticks))`,
  `CREATE INDEX processes_pid ON processes (pid)`,
  `CREATE INDEX processes_grp ON processes (grp)`,
  `CREATE INDEX processes_parent ON processes (parent)`,
  `CREATE INDEX processes_open ON processes (boot) WHERE end_sample IS NULL`,
  `CREATE TABLE host_remotes (sample INTEGER NOT NULL, state INTEGER NOT NULL, addr INTEGER NOT NULL,
     count INTEGER NOT NULL, PRIMARY KEY (sample, state, addr)) WITHOUT ROWID`,
  ...ALL_SERIES.flatMap((s) => [
    rawDdl(s, 'raw'),
    ...(s.perProcess ? [rawDdl(s, 'recent')] : []),
    bucketDdl(s),
  ]),
];

/** migrations[i] takes a database from version i to i + 1. Each runs inside the caller's transaction. */
export const MIGRATIONS: readonly ((db: Database.Database) => void)[] = [
  (db) => {
    for (const stmt of V1) db.exec(stmt);
  },
];
