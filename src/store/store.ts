/**
 * Opening a record database safely (identify, refuse, migrate, check) and the one-writer lock. The
 * layout and the guarantees are described in index.ts.
 */
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ProcsleuthError } from '../util/errors.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export type Db = Database.Database;

export class StoreError extends ProcsleuthError {}

/** Turns a SQLite error into one of our stable codes (the CLI prints the message). */
export function storeError(err: unknown, path: string, doing: string): ProcsleuthError {
  if (err instanceof ProcsleuthError) return err;
  const code =
    typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const msg = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_FULL' || /ENOSPC|disk is full|database or disk is full/i.test(msg)) {
    return new StoreError('DISK_FULL', `${path}: the disk is full while ${doing}`, { cause: err });
  }
  if (code === 'SQLITE_NOTADB') {
    return new StoreError(
      'STORE_CORRUPT',
      `${path} is not a SQLite database (or its header is corrupt); leaving it untouched`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(
      'STORE_CORRUPT',
      `${path} is corrupt (${msg}); leaving it untouched — move it aside to start a new record`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      'STORE_LOCKED',
      `${path} is busy (another process holds a write lock) while ${doing}`,
      { cause: err },
    );
  }
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_IOERR') ||
    code.startsWith('SQLITE_READONLY') ||
    code === 'SQLITE_PERM'
  ) {
    return new StoreError('IO', `${path}: cannot ${doing}: ${msg}`, { cause: err });
  }
  return new StoreError('STORE', `${path}: ${doing}: ${msg}`, { cause: err });
}

export interface OpenOptions {
  /** 'write' creates and migrates; 'read' never modifies the file. */
  mode: 'read' | 'write';
  /** Verify every page on open (writer; on by default). */
  check?: boolean;
}

/** Who holds the write side of a database. */
export interface Owner {
  pid: number;
  startTimeTicks: number | undefined;
  bootId: string | undefined;
  hostname: string;
  sinceMs: number;
}

export class Store {
  readonly db: Db;
  readonly path: string;
  readonly mode: 'read' | 'write';
  private closed = false;

  private constructor(db: Db, path: string, mode: 'read' | 'write') {
    this.db = db;
    this.path = path;
    this.mode = mode;
  }

  static open(path: string, o: OpenOptions): Store {
    if (o.mode === 'read' && !fs.existsSync(path)) {
      throw new StoreError(
        'NOT_FOUND',
        `no record database at ${path} (start "procsleuth record" first, or pass --db)`,
      );
    }
    if (o.mode === 'write') {
      try {
        fs.mkdirSync(dirname(path), { recursive: true });
      } catch (err) {
        throw new StoreError('IO', `cannot create the directory of ${path}`, { cause: err });
      }
    }
    let db: Db;
    try {
      db = new Database(path, { readonly: o.mode === 'read', fileMustExist: o.mode === 'read' });
    } catch (err) {
      throw storeError(err, path, 'open the database');
    }
    try {
      identify(db, path);
      if (o.mode === 'write') {
        const jm = db.pragma('journal_mode = WAL', { simple: true });
        if (String(jm).toLowerCase() !== 'wal')
          throw new StoreError('STORE', `${path}: cannot switch to WAL mode (got ${String(jm)})`);
        db.pragma('synchronous = NORMAL');
        // Checkpoint every 1 MiB of WAL and shrink it back afterwards: a small disk must not need 4 MiB
        // of WAL on top of the database before the first checkpoint.
        db.pragma('wal_autocheckpoint = 256');
        db.pragma('journal_size_limit = 1048576');
      }
      db.pragma('busy_timeout = 5000');
      if (o.mode === 'write' && (o.check ?? true)) quickCheck(db, path);
      if (o.mode === 'write') migrate(db, path);
      else {
        const v = userVersion(db);
        if (v === 0) throw new StoreError('NOT_FOUND', `${path} holds no record yet`);
        if (v < SCHEMA_VERSION)
          throw new StoreError(
            'STORE',
            `${path} has schema version ${v}; run "procsleuth record" once to migrate it to ${SCHEMA_VERSION}`,
          );
      }
    } catch (err) {
      db.close();
      throw storeError(err, path, 'open the database');
    }
    return new Store(db, path, o.mode);
  }

  /**
   * Become the one writer. Throws STORE_LOCKED naming the live owner; takes over an owner that is dead
   * (its pid gone, or another start time, or another boot).
   */
  acquire(me: Owner, isAlive: (o: Owner) => boolean): void {
    this.tx(
      'take the writer lock',
      () => {
        const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'owner'`).get() as
          { value: string } | undefined;
        if (row) {
          const cur = parseOwner(row.value);
          const same =
            cur !== undefined &&
            cur.pid === me.pid &&
            cur.bootId === me.bootId &&
            cur.startTimeTicks === me.startTimeTicks;
          if (cur !== undefined && !same && isAlive(cur)) {
            const since = new Date(cur.sinceMs).toISOString();
            throw new StoreError(
              'STORE_LOCKED',
              `another recorder (pid ${cur.pid} on ${cur.hostname}, since ${since}) is writing to ${this.path}; stop it first or use another --db`,
            );
          }
        }
        this.db
          .prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('owner', ?)`)
          .run(JSON.stringify(me));
      },
      'immediate',
    );
  }

  release(me: Pick<Owner, 'pid'>): void {
    this.tx('release the writer lock', () => {
      const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'owner'`).get() as
        { value: string } | undefined;
      if (row && parseOwner(row.value)?.pid === me.pid)
        this.db.prepare(`DELETE FROM meta WHERE key = 'owner'`).run();
    });
  }

  owner(): Owner | undefined {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'owner'`).get() as
      { value: string } | undefined;
    return row ? parseOwner(row.value) : undefined;
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = ?`).get(key) as
      { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`).run(key, value);
  }

  /** Runs f in a transaction; SQLite errors become our codes (DISK_FULL, STORE_CORRUPT, …). */
  tx<T>(doing: string, f: () => T, kind: 'deferred' | 'immediate' = 'immediate'): T {
    try {
      const t = this.db.transaction(f);
      return kind === 'immediate' ? t.immediate() : t.deferred();
    } catch (err) {
      throw storeError(err, this.path, doing);
    }
  }

  /** Try to fold the WAL into the main file and truncate it (frees space after a full disk). */
  checkpoint(): boolean {
    try {
      const r = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      return r[0]?.busy === 0;
    } catch {
      return false;
    }
  }

  /** Move the WAL into the main file (a clean stop leaves one file), then close. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.mode === 'write') this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // a full disk may refuse the checkpoint: the WAL stays and is replayed by the next open
    }
    this.db.close();
  }

  get isOpen(): boolean {
    return !this.closed && this.db.open;
  }
}

function userVersion(db: Db): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/** Reads the header (a non-SQLite file fails here) and refuses files that are not ours or too new. */
function identify(db: Db, path: string): void {
  const appId = Number(db.pragma('application_id', { simple: true }));
  const v = userVersion(db);
  if (appId !== 0 && appId !== APPLICATION_ID) {
    throw new StoreError(
      'STORE',
      `${path} is a SQLite database of another application (application_id ${appId}); not touching it`,
    );
  }
  if (appId === 0) {
    const n = (db.prepare(`SELECT count(*) AS n FROM sqlite_schema`).get() as { n: number }).n;
    if (n > 0 || v !== 0)
      throw new StoreError(
        'STORE',
        `${path} is a SQLite database but not a procsleuth record; not touching it`,
      );
  }
  if (v > SCHEMA_VERSION) {
    throw new StoreError(
      'STORE_NEWER_SCHEMA',
      `${path} was written by a newer procsleuth (schema version ${v}, this one knows up to ${SCHEMA_VERSION}); upgrade procsleuth or use another --db`,
    );
  }
}

function quickCheck(db: Db, path: string): void {
  const rows = db.pragma('quick_check(5)') as { quick_check: string }[];
  const bad = rows.map((r) => r.quick_check).filter((s) => s !== 'ok');
  if (bad.length > 0) {
    throw new StoreError(
      'STORE_CORRUPT',
      `${path} is corrupt (${bad.join('; ')}); leaving it untouched — move it aside to start a new record`,
    );
  }
}

function migrate(db: Db, path: string): void {
  const run = db.transaction(() => {
    const from = userVersion(db);
    if (from > SCHEMA_VERSION) identify(db, path);
    for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v]?.(db);
    if (from === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
    if (from !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  run.immediate();
}

function parseOwner(s: string): Owner | undefined {
  try {
    const o = JSON.parse(s) as Partial<Owner>;
    if (typeof o.pid !== 'number') return undefined;
    return {
      pid: o.pid,
      startTimeTicks: typeof o.startTimeTicks === 'number' ? o.startTimeTicks : undefined,
      bootId: typeof o.bootId === 'string' ? o.bootId : undefined,
      hostname: typeof o.hostname === 'string' ? o.hostname : '?',
      sinceMs: typeof o.sinceMs === 'number' ? o.sinceMs : 0,
    };
  } catch {
    return undefined;
  }
}

export function thisHost(): string {
  return hostname();
}
