/**
 * The write side of the record: one `append(sample)` per sample, one transaction each. It owns the
 * change-only encoding (see index.ts): it remembers, per live process, the values it last STORED, and
 * updates that memory only after the commit succeeded — a sample refused by a full disk leaves the
 * encoding exactly where the file is.
 */
import type { Statement } from 'better-sqlite3';
import { groupKey, groupLabel } from '../collect/group.js';
import type { TcpState } from '../collect/types.js';
import { TCP_STATES } from '../collect/types.js';
import {
  BUCKET_MS,
  HOST_SERIES,
  PROC_SERIES,
  SOCK_SERIES,
  SOCK_TCP_STATES,
  type SeriesSpec,
} from './schema.js';
import type { Store } from './store.js';

export type HostColumn = (typeof HOST_SERIES.columns)[number]['name'];
/** Host values in the unit their column name says (`mem_total_kib`, `load1_x100`); absent = not read. */
export type HostSampleInput = Partial<Record<HostColumn, number>>;

export interface ProcessSocketsInput {
  tcp: Partial<Record<TcpState, number>>;
  udp: number;
  unix: number;
  other: number;
}

export interface ProcessSampleInput {
  pid: number;
  startTimeTicks: number;
  ppid: number;
  comm: string;
  kernelThread: boolean;
  /** Identity, needed when the process is first seen (and after an exec changed its comm). */
  exe?: string | undefined;
  argv?: string[] | undefined;
  uid?: number | undefined;
  utimeTicks: number;
  stimeTicks: number;
  minorFaults: number;
  majorFaults: number;
  /** undefined = not read this sample (the store keeps the last known value). */
  rssBytes?: number | undefined;
  anonBytes?: number | undefined;
  swapBytes?: number | undefined;
  pssBytes?: number | undefined;
  vszBytes?: number | undefined;
  threads?: number | undefined;
  fdCount?: number | undefined;
  /** undefined = sockets not counted this sample. */
  sockets?: ProcessSocketsInput | undefined;
}

export interface SampleInput {
  tMs: number;
  bootId: string;
  host: HostSampleInput;
  /** Top remote addresses per TCP state (socket passes only). */
  remotes?: Partial<Record<TcpState, { address: string; count: number }[]>> | undefined;
  /** Every process alive now: one missing from the list has exited. */
  processes: ProcessSampleInput[];
  /** The recorder's own cost: how long this sample took, its cumulative CPU and its RSS. */
  self?: { durationMs: number; cpuMs: number; rssBytes: number } | undefined;
  /** Bit 0: a socket pass; bit 1: a PSS pass; bit 2: a full sweep. */
  flags?: number | undefined;
}

export interface WriteResult {
  sampleId: number;
  /** Series rows written (an idle process writes none). */
  rows: number;
  newProcesses: number;
  endedProcesses: number;
  /** Rows moved from the recent tier to the raw tables. */
  compacted: number;
}

export interface RunInfo {
  pid: number;
  hostname: string;
  version: string;
  intervalMs: number;
  startedMs: number;
}

interface Live {
  id: number;
  start: number;
  comm: string;
  prev: number[] | undefined;
  sockPrev: number[] | undefined;
  /** A restatement fell on a sample without a socket pass: due at the next one. */
  sockDue?: boolean;
}

type Row = (number | null)[];

const KIB = 1024;
const kib = (b: number | undefined): number => (b === undefined ? NaN : Math.round(b / KIB));
const num = (v: number | undefined): number => (v === undefined || !Number.isFinite(v) ? NaN : v);

/**
 * Every this many samples each process's gauges are stored again even if unchanged (staggered by its
 * row id): "the newest value of a gauge" is then at most this many rows back. Without it, the newest
 * value of a gauge unchanged for days sat behind every row of those days, and the dashboard's and the
 * report's latest-values probe walked them all (0.6 s for 1,000 processes over a day at 10 s). An idle
 * process costs one row per RESTATE_EVERY samples instead of none.
 */
export const RESTATE_EVERY = 360;

/**
 * Encode `cur` against what was last stored; NaN = unknown. Returns the row (undefined: nothing changed).
 * `restate`: gauges are stored even when unchanged (a known value that is unknown now keeps the last
 * stored one); counters stay deltas, so the row is not a keyframe.
 */
export function encodeRow(
  spec: SeriesSpec,
  prev: readonly number[] | undefined,
  cur: readonly number[],
  restate = false,
): { row: Row | undefined; next: number[] } {
  const cols = spec.columns;
  if (prev !== undefined) {
    const row: Row = [null];
    const next = prev.slice();
    let any = false;
    let reset = false;
    for (let i = 0; i < cols.length; i++) {
      const v = cur[i] ?? NaN;
      const p = prev[i] ?? NaN;
      if (Number.isNaN(v)) {
        const again = restate && cols[i]?.kind !== 'counter' && !Number.isNaN(p);
        row.push(again ? p : null);
        if (again) any = true;
        continue;
      }
      if (cols[i]?.kind === 'counter') {
        // A counter we never stored, or one that went backwards, needs an absolute value: a keyframe.
        if (Number.isNaN(p) || v < p) {
          reset = true;
          break;
        }
        const d = v - p;
        row.push(d === 0 ? null : d);
        if (d !== 0) any = true;
      } else {
        const store = v !== p || restate;
        row.push(store ? v : null);
        if (store) any = true;
      }
      next[i] = v;
    }
    if (!reset) return { row: any ? row : undefined, next };
  }
  // Keyframe: absolute values; what is unknown now keeps the last stored value so the frame is whole.
  const next = cols.map((_, i) => {
    const v = cur[i] ?? NaN;
    return Number.isNaN(v) ? (prev?.[i] ?? NaN) : v;
  });
  return { row: [1, ...next.map((v) => (Number.isNaN(v) ? null : v))], next };
}

function procValues(p: ProcessSampleInput): number[] {
  return [
    num(p.utimeTicks),
    num(p.stimeTicks),
    num(p.minorFaults),
    num(p.majorFaults),
    kib(p.rssBytes),
    kib(p.anonBytes),
    kib(p.swapBytes),
    kib(p.pssBytes),
    kib(p.vszBytes),
    num(p.threads),
    num(p.fdCount),
  ];
}

function sockValues(s: ProcessSocketsInput): number[] {
  return [...SOCK_TCP_STATES.map((st) => s.tcp[st] ?? 0), s.udp, s.unix, s.other];
}

function insertSql(spec: SeriesSpec, table: string): string {
  const key = spec.perProcess ? ['proc', 'sample'] : ['sample'];
  const cols = [...key, 'k', ...spec.columns.map((c) => c.name)];
  return `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
}

function compactSql(spec: SeriesSpec): [string, string] {
  const cols = ['proc', 'sample', 'k', ...spec.columns.map((c) => c.name)].join(', ');
  return [
    `INSERT OR REPLACE INTO ${spec.table}_raw (${cols}) SELECT ${cols} FROM ${spec.table}_recent WHERE sample < ? ORDER BY proc, sample`,
    `DELETE FROM ${spec.table}_recent WHERE sample < ?`,
  ];
}

/** Strings cached at most this many; cmdlines of short-lived processes would otherwise grow it forever. */
const STRING_CACHE_MAX = 20_000;

export class RecordWriter {
  readonly store: Store;
  readonly runId: number;
  private readonly live = new Map<number, Live>();
  /** Processes left open by the previous run of this boot, consumed by the first sample. */
  private carried: Map<string, { id: number; comm: string }> | undefined;
  private readonly boots = new Map<string, number>();
  private readonly strings = new Map<string, number>();
  private readonly groups = new Map<string, number>();
  private hostPrev: number[] | undefined;
  private lastSample: { id: number; tMs: number } | undefined;
  private compactedBucket: number | undefined;
  private readonly st: Record<string, Statement>;

  constructor(store: Store, run: RunInfo) {
    this.store = store;
    const db = store.db;
    const prep = (sql: string): Statement => db.prepare(sql);
    this.st = {
      run: prep(`INSERT INTO runs (started_ms, pid, hostname, version, interval_ms) VALUES (?, ?, ?, ?, ?)`),
      endRun: prep(`UPDATE runs SET ended_ms = ? WHERE id = ?`),
      bootGet: prep(`SELECT id FROM boots WHERE boot_id = ?`),
      bootIns: prep(`INSERT INTO boots (boot_id) VALUES (?)`),
      sample: prep(
        `INSERT INTO samples (t_ms, run, boot, duration_ms, self_cpu_ms, self_rss_kib, flags) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      strGet: prep(`SELECT id FROM strings WHERE s = ?`),
      strIns: prep(`INSERT INTO strings (s) VALUES (?)`),
      grpGet: prep(`SELECT id FROM groups WHERE key = ?`),
      grpIns: prep(`INSERT INTO groups (key, label) VALUES (?, ?)`),
      procIns: prep(
        `INSERT INTO processes (boot, pid, start_ticks, ppid, parent, uid, comm, exe, cmdline, grp, kthread, first_sample, first_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      procExec: prep(
        `UPDATE processes SET comm = ?, exe = coalesce(?, exe), cmdline = coalesce(?, cmdline), grp = coalesce(?, grp) WHERE id = ?`,
      ),
      procEnd: prep(`UPDATE processes SET end_sample = ?, end_ms = ? WHERE id = ?`),
      openSameBoot: prep(
        `SELECT id, pid, start_ticks AS start, comm FROM processes WHERE end_sample IS NULL AND boot = ?`,
      ),
      openBoots: prep(`SELECT DISTINCT boot FROM processes WHERE end_sample IS NULL AND boot != ?`),
      lastOfBoot: prep(`SELECT id, t_ms FROM samples WHERE boot = ? ORDER BY id DESC LIMIT 1`),
      endBoot: prep(`UPDATE processes SET end_sample = ?, end_ms = ? WHERE end_sample IS NULL AND boot = ?`),
      lastSample: prep(`SELECT id, t_ms FROM samples ORDER BY id DESC LIMIT 1`),
      procRow: prep(insertSql(PROC_SERIES, 'proc_recent')),
      sockRow: prep(insertSql(SOCK_SERIES, 'sock_recent')),
      hostRow: prep(insertSql(HOST_SERIES, 'host_raw')),
      remote: prep(`INSERT OR REPLACE INTO host_remotes (sample, state, addr, count) VALUES (?, ?, ?, ?)`),
      procCompact: prep(compactSql(PROC_SERIES)[0]),
      procCompactDel: prep(compactSql(PROC_SERIES)[1]),
      sockCompact: prep(compactSql(SOCK_SERIES)[0]),
      sockCompactDel: prep(compactSql(SOCK_SERIES)[1]),
    } as Record<string, Statement>;
    this.runId = store.tx('start a run', () =>
      Number(
        this.st.run!.run(run.startedMs, run.pid, run.hostname, run.version, run.intervalMs).lastInsertRowid,
      ),
    );
  }

  /** Live processes the writer tracks (for tests and the recorder's log). */
  get liveCount(): number {
    return this.live.size;
  }

  append(s: SampleInput): WriteResult {
    const after: (() => void)[] = [];
    let result: WriteResult;
    try {
      result = this.store.tx('write a sample', () => this.write(s, after));
    } catch (err) {
      // Ids cached during the failed transaction were rolled back with it.
      this.forgetCaches();
      throw err;
    }
    for (const f of after) f();
    return result;
  }

  endRun(tMs: number): void {
    this.store.tx('end the run', () => this.st.endRun!.run(tMs, this.runId));
  }

  private write(s: SampleInput, after: (() => void)[]): WriteResult {
    const st = this.st;
    const boot = this.bootIdOf(s.bootId, after);
    let endedProcesses = 0;
    let prevLast = this.lastSample;
    let carried = this.carried;
    const firstOfRun = prevLast === undefined;
    if (firstOfRun) {
      // Close what earlier runs left open: processes of other boots ended with their boot's last sample.
      for (const { boot: b } of st.openBoots!.all(boot) as { boot: number }[]) {
        const last = st.lastOfBoot!.get(b) as { id: number; t_ms: number } | undefined;
        if (last) endedProcesses += st.endBoot!.run(last.id, last.t_ms, b).changes;
      }
      const l = st.lastSample!.get() as { id: number; t_ms: number } | undefined;
      prevLast = l ? { id: l.id, tMs: l.t_ms } : undefined;
      carried = new Map();
      for (const r of st.openSameBoot!.all(boot) as {
        id: number;
        pid: number;
        start: number;
        comm: number;
      }[]) {
        carried.set(`${r.pid}:${r.start}`, { id: r.id, comm: '' });
      }
    }
    const self = s.self;
    const sampleId = Number(
      st.sample!.run(
        s.tMs,
        this.runId,
        boot,
        self ? Math.round(self.durationMs) : null,
        self ? Math.round(self.cpuMs) : null,
        self ? Math.round(self.rssBytes / KIB) : null,
        s.flags ?? 0,
      ).lastInsertRowid,
    );
    let rows = 0;

    const host = HOST_SERIES.columns.map((c) => num(s.host[c.name]));
    const h = encodeRow(HOST_SERIES, this.hostPrev, host);
    if (h.row) {
      st.hostRow!.run(sampleId, ...h.row);
      rows++;
    }
    after.push(() => (this.hostPrev = h.next));

    if (s.remotes) {
      for (const [state, list] of Object.entries(s.remotes)) {
        const code = TCP_STATES.indexOf(state as TcpState) + 1;
        for (const r of list ?? []) st.remote!.run(sampleId, code, this.stringId(r.address), r.count);
      }
    }

    // Pass 1: processes we already know (this run, or left open by the previous run of this boot).
    const byPid = new Map<number, { id: number; start: number }>();
    const fresh: ProcessSampleInput[] = [];
    const known: { p: ProcessSampleInput; live: Live; isNew: boolean }[] = [];
    for (const p of s.processes) {
      const l = this.live.get(p.pid);
      if (l && l.start === p.startTimeTicks) {
        known.push({ p, live: l, isNew: false });
        byPid.set(p.pid, l);
        continue;
      }
      const c = carried?.get(`${p.pid}:${p.startTimeTicks}`);
      if (c) {
        carried?.delete(`${p.pid}:${p.startTimeTicks}`);
        const nl: Live = {
          id: c.id,
          start: p.startTimeTicks,
          comm: p.comm,
          prev: undefined,
          sockPrev: undefined,
        };
        known.push({ p, live: nl, isNew: true });
        byPid.set(p.pid, nl);
        continue;
      }
      fresh.push(p);
    }
    // Pass 2: new processes, oldest first, so a parent born in the same interval gets its id before its child.
    fresh.sort((a, b) => a.startTimeTicks - b.startTimeTicks);
    for (const p of fresh) {
      const parent = byPid.get(p.ppid);
      const exe = p.exe !== undefined ? this.stringId(p.exe) : null;
      const cmd = p.argv !== undefined && p.argv.length > 0 ? this.stringId(p.argv.join('\u0000')) : null;
      const grp = this.groupId(p);
      const id = Number(
        st.procIns!.run(
          boot,
          p.pid,
          p.startTimeTicks,
          p.ppid,
          parent !== undefined && parent.start <= p.startTimeTicks ? parent.id : null,
          p.uid ?? null,
          this.stringId(p.comm),
          exe,
          cmd,
          grp,
          p.kernelThread ? 1 : 0,
          sampleId,
          s.tMs,
        ).lastInsertRowid,
      );
      const nl: Live = { id, start: p.startTimeTicks, comm: p.comm, prev: undefined, sockPrev: undefined };
      known.push({ p, live: nl, isNew: true });
      byPid.set(p.pid, nl);
    }

    const seen = new Set<number>();
    for (const { p, live, isNew } of known) {
      seen.add(p.pid);
      if (isNew) after.push(() => this.live.set(p.pid, live));
      else if (p.comm !== live.comm) {
        // An exec keeps pid and start time but changes the program: update the identity strings.
        const exe = p.exe !== undefined ? this.stringId(p.exe) : null;
        const cmd = p.argv !== undefined && p.argv.length > 0 ? this.stringId(p.argv.join('\u0000')) : null;
        st.procExec!.run(
          this.stringId(p.comm),
          exe,
          cmd,
          p.exe !== undefined ? this.groupId(p) : null,
          live.id,
        );
        after.push(() => (live.comm = p.comm));
      }
      const restate = (sampleId + live.id) % RESTATE_EVERY === 0;
      const e = encodeRow(PROC_SERIES, live.prev, procValues(p), restate);
      if (e.row) {
        st.procRow!.run(live.id, sampleId, ...e.row);
        rows++;
      }
      after.push(() => (live.prev = e.next));
      if (p.sockets) {
        const se = encodeRow(SOCK_SERIES, live.sockPrev, sockValues(p.sockets), restate || live.sockDue);
        if (se.row) {
          st.sockRow!.run(live.id, sampleId, ...se.row);
          rows++;
        }
        after.push(() => {
          live.sockPrev = se.next;
          live.sockDue = false;
        });
      } else if (restate) after.push(() => (live.sockDue = true));
    }

    // Exited since the previous sample: they were alive in it, and are not now.
    for (const [pid, l] of this.live) {
      if (seen.has(pid) && byPid.get(pid) === l) continue;
      if (prevLast) st.procEnd!.run(prevLast.id, prevLast.tMs, l.id);
      endedProcesses++;
      after.push(() => {
        if (this.live.get(pid) === l) this.live.delete(pid);
      });
    }
    if (carried && carried.size > 0) {
      for (const c of carried.values()) if (prevLast) st.procEnd!.run(prevLast.id, prevLast.tMs, c.id);
      endedProcesses += carried.size;
    }
    after.push(() => (this.carried = undefined));

    // Every 10 minutes (and at the first sample of a run), move the recent tier into the raw tables.
    let compacted = 0;
    const bucket = Math.floor(s.tMs / BUCKET_MS);
    if (this.compactedBucket !== bucket) {
      compacted += st.procCompact!.run(sampleId).changes;
      st.procCompactDel!.run(sampleId);
      compacted += st.sockCompact!.run(sampleId).changes;
      st.sockCompactDel!.run(sampleId);
      after.push(() => (this.compactedBucket = bucket));
    }
    after.push(() => (this.lastSample = { id: sampleId, tMs: s.tMs }));
    if (this.strings.size > STRING_CACHE_MAX) after.push(() => this.strings.clear());
    return { sampleId, rows, newProcesses: fresh.length, endedProcesses, compacted };
  }

  private bootIdOf(bootId: string, after: (() => void)[]): number {
    const c = this.boots.get(bootId);
    if (c !== undefined) return c;
    const row = this.st.bootGet!.get(bootId) as { id: number } | undefined;
    const id = row ? row.id : Number(this.st.bootIns!.run(bootId).lastInsertRowid);
    after.push(() => this.boots.set(bootId, id));
    return id;
  }

  private stringId(s: string): number {
    const c = this.strings.get(s);
    if (c !== undefined) return c;
    const row = this.st.strGet!.get(s) as { id: number } | undefined;
    const id = row ? row.id : Number(this.st.strIns!.run(s).lastInsertRowid);
    // Visible to the rest of this transaction at once; dropped again if the transaction fails.
    this.strings.set(s, id);
    return id;
  }

  private groupId(p: ProcessSampleInput): number {
    const key = groupKey({ exe: p.exe, argv: p.argv ?? [], comm: p.comm, kernelThread: p.kernelThread });
    const c = this.groups.get(key);
    if (c !== undefined) return c;
    const row = this.st.grpGet!.get(key) as { id: number } | undefined;
    const id = row ? row.id : Number(this.st.grpIns!.run(key, groupLabel(key)).lastInsertRowid);
    this.groups.set(key, id);
    return id;
  }

  /** After a failed transaction, ids cached during it may not exist: forget them. */
  forgetCaches(): void {
    this.strings.clear();
    this.groups.clear();
    this.boots.clear();
  }
}
