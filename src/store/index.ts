/**
 * The record store: every process, every interval, for days, in one SQLite file (better-sqlite3).
 *
 * ## Layout (schema version 1; DDL generated in schema.ts)
 * - `samples` — one row per sample: its time, the recorder run and boot it belongs to, and the
 *   recorder's own cost (`duration_ms`, cumulative `self_cpu_ms`, `self_rss_kib`): the recorder records
 *   itself as a series. `runs` has one row per recorder start; `boots` maps boot ids to small integers.
 * - `processes` — one row per process *identity* `(boot, pid, start_ticks)`, so a reused PID is a new
 *   row. It holds the strings once, as ids into `strings` (comm, exe, cmdline), the group (`groups`:
 *   executable + normalised arguments, see collect/group.ts), the parent's row id (`parent`, resolved
 *   when the process was first seen, so a tree survives PID reuse and re-parenting), and the alive range
 *   `first_sample … end_sample` (NULL while it runs). A process costs this row once, not per sample.
 * - Series tables, one family per series (`proc`: CPU ticks, faults, RSS, anon, swap, PSS, VSZ, threads,
 *   fds; `sock`: sockets a process holds by TCP state, UDP, unix; `host`: CPU ticks, load, meminfo,
 *   sockstat, file-nr, TCP state counts), each with:
 *   - `<s>_recent (sample, proc, …)` — rows of the last ≤ 10 minutes, keyed by sample so a commit
 *     appends to one page instead of dirtying one page per active process; every 10 minutes they move
 *     in one sorted batch to
 *   - `<s>_raw (proc, sample, …)` — keyed by process, so one process's history is one range scan;
 *   - `<s>_10m (proc, bucket, …)` — after the retention (default 14 days) raw rows are folded into
 *     10-minute buckets: a gauge keeps min, max and last, a counter its last value.
 *   The host series is one row per sample keyed by sample (no recent tier needed).
 * - `host_remotes (sample, state, addr, count)` — the top remote addresses per TCP state, on socket passes.
 * - `meta` — the recorder's ownership (the lock, below) and maintenance state.
 *
 * ## Change-only encoding (an idle process costs almost nothing)
 * A series row is written only when something in it changed since that process's previous row. A gauge
 * column holds the new absolute value, NULL when unchanged (a NULL costs one header byte, no payload).
 * A counter column holds the increase since the previous row (small numbers are 1-byte varints), NULL
 * for none. The first row of a process in each recorder run is a keyframe (`k` = 1) with absolute
 * values, so a reader never needs rows from another run, and a crash loses no reference point. Every
 * RESTATE_EVERY (360) samples, staggered by process, a row states each known gauge again even when
 * unchanged (counters stay increases): the newest value of a gauge is never far back (writer.ts).
 * NULL also means "not read this sample" (PSS is read less often than RSS): readers carry the last
 * known value forward. Counters are raw kernel counters; rates are derived when reading.
 *
 * ## Crash safety
 * WAL with synchronous=NORMAL: each sample is one transaction; a killed recorder loses at most the
 * sample it was writing, and the next run appends (a power loss may also lose the last few commits,
 * never the file). The writer's in-memory encoding state is updated only after its commit succeeds, so
 * a failed write (disk full) leaves nothing half-encoded: the next sample encodes against what is
 * actually stored. A second writer is refused through an owner row in `meta`, taken inside a
 * `BEGIN IMMEDIATE` transaction (so two starting recorders cannot both win) and checked by pid, process
 * start time and boot id (so a recorder killed with SIGKILL does not lock the file forever).
 * A file that is not ours, written by a newer schema, or corrupt is refused and never modified.
 */

export {
  SCHEMA_VERSION,
  APPLICATION_ID,
  BUCKET_MS,
  PROC_SERIES,
  SOCK_SERIES,
  HOST_SERIES,
  SOCK_TCP_STATES,
  HOST_CPU_BUSY_COLUMNS,
  HOST_CPU_IDLE_COLUMNS,
} from './schema.js';
export type { SeriesSpec, ColumnSpec, ColumnKind } from './schema.js';
export { Store, StoreError, storeError, thisHost } from './store.js';
export type { Db, OpenOptions, Owner } from './store.js';
export { RecordWriter } from './writer.js';
export type {
  SampleInput,
  ProcessSampleInput,
  ProcessSocketsInput,
  HostSampleInput,
  WriteResult,
} from './writer.js';
export { RecordReader } from './reader.js';
export type { Timeline, ProcessRow, DecodedSeries, EntitySelector } from './reader.js';
export { runMaintenance } from './maintenance.js';
export type { MaintenanceResult } from './maintenance.js';
