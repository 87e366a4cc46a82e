/**
 * The remote-write buffer: one row per sample (a snappy-compressed WriteRequest holding every series at
 * that sample's time), in a small SQLite file of its own beside the record database
 * (`record.db.rwq`). Every sample goes through it, healthy or not, so "sent" means "acknowledged by
 * the receiver, then deleted here" and a recorder restart resumes where the last one stopped.
 *
 * Bounded by bytes: when a new sample would take it past `maxBytes`, the oldest samples are deleted and
 * counted as dropped (an outage longer than the bound loses its beginning, never its end: the newest
 * data is what an operator looks at first). WAL with synchronous=NORMAL, like the record store: a power
 * loss may lose the last commits, never the file. The file is locked exclusively while open, so a
 * second recorder pointed at the same buffer is refused instead of sending the same samples twice.
 */
import Database from 'better-sqlite3';

/** 'pslq': marks the file as a procsleuth remote-write queue, so we never write into a foreign file. */
const APPLICATION_ID = 0x70736c71;
const SCHEMA_VERSION = 1;

export interface BufferedSample {
  seq: number;
  tMs: number;
  samples: number;
  body: Uint8Array;
}

export interface AppendResult {
  seq: number;
  /** Older samples deleted to stay within the bound. */
  droppedEntries: number;
  droppedSamples: number;
}

export class SampleBuffer {
  private readonly db: Database.Database;
  private bytesNow = 0;
  private samplesNow = 0;
  private entriesNow = 0;
  private readonly ins: Database.Statement;
  private readonly oldest: Database.Statement;
  private readonly del: Database.Statement;
  private readonly peekStmt: Database.Statement;

  constructor(
    path: string,
    readonly maxBytes: number,
  ) {
    this.db = new Database(path, { timeout: 0 });
    try {
      // Held until close (the OS drops it if we die): two senders draining one buffer would
      // deliver samples twice or out of order.
      this.db.pragma('locking_mode = EXCLUSIVE');
      const app = this.db.pragma('application_id', { simple: true }) as number;
      const ver = this.db.pragma('user_version', { simple: true }) as number;
      const tables = this.db
        .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")
        .get() as {
        n: number;
      };
      if (app !== APPLICATION_ID && (app !== 0 || tables.n > 0))
        throw new Error(`${path} is not a procsleuth remote-write buffer; refusing to touch it`);
      if (ver > SCHEMA_VERSION) throw new Error(`${path} was written by a newer procsleuth (version ${ver})`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      if (app === 0) {
        this.db.pragma(`application_id = ${APPLICATION_ID}`);
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
      }
      this.db.exec('BEGIN IMMEDIATE; COMMIT');
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY, t_ms INTEGER NOT NULL, samples INTEGER NOT NULL, body BLOB NOT NULL)',
      );
    } catch (err) {
      this.db.close();
      if (err instanceof Error && /locked|busy/i.test(err.message))
        throw new Error(`${path} is in use by another recorder`, { cause: err });
      throw err;
    }
    const sums = this.db
      .prepare(
        'SELECT count(*) AS n, coalesce(sum(length(body)), 0) AS b, coalesce(sum(samples), 0) AS s FROM queue',
      )
      .get() as { n: number; b: number; s: number };
    this.entriesNow = sums.n;
    this.bytesNow = sums.b;
    this.samplesNow = sums.s;
    this.ins = this.db.prepare('INSERT INTO queue (t_ms, samples, body) VALUES (?, ?, ?)');
    this.oldest = this.db.prepare(
      'SELECT seq, samples, length(body) AS len FROM queue ORDER BY seq LIMIT 64',
    );
    this.del = this.db.prepare('DELETE FROM queue WHERE seq <= ?');
    this.peekStmt = this.db.prepare(
      'SELECT seq, t_ms AS tMs, samples, body FROM queue WHERE seq > ? ORDER BY seq LIMIT ?',
    );
  }

  get bytes(): number {
    return this.bytesNow;
  }
  get samples(): number {
    return this.samplesNow;
  }
  get entries(): number {
    return this.entriesNow;
  }

  /** Appends one sample; deletes the oldest ones first if it would not fit. Throws what SQLite throws. */
  append(tMs: number, samples: number, body: Uint8Array): AppendResult {
    const r: AppendResult = { seq: 0, droppedEntries: 0, droppedSamples: 0 };
    const tx = this.db.transaction(() => {
      let bytes = this.bytesNow;
      let n = this.entriesNow;
      let s = this.samplesNow;
      let cut: number | undefined;
      while (bytes + body.length > this.maxBytes && n > 0) {
        const rows = this.oldest.all() as { seq: number; samples: number; len: number }[];
        if (rows.length === 0) break;
        for (const row of rows) {
          if (bytes + body.length <= this.maxBytes) break;
          if (cut !== undefined && row.seq <= cut) continue;
          cut = row.seq;
          bytes -= row.len;
          s -= row.samples;
          n--;
          r.droppedEntries++;
          r.droppedSamples += row.samples;
        }
        if (cut !== undefined) this.del.run(cut);
      }
      r.seq = Number(this.ins.run(tMs, samples, body).lastInsertRowid);
      return { bytes: bytes + body.length, n: n + 1, s: s + samples };
    });
    const after = tx();
    this.bytesNow = after.bytes;
    this.entriesNow = after.n;
    this.samplesNow = after.s;
    return r;
  }

  /** The oldest samples after `afterSeq`, up to `maxSamples` series-samples in all (at least one entry). */
  peek(maxSamples: number, afterSeq = 0): BufferedSample[] {
    const out: BufferedSample[] = [];
    let total = 0;
    for (;;) {
      const rows = this.peekStmt.all(out.at(-1)?.seq ?? afterSeq, 16) as {
        seq: number;
        tMs: number;
        samples: number;
        body: Buffer;
      }[];
      if (rows.length === 0) return out;
      for (const row of rows) {
        if (out.length > 0 && total + row.samples > maxSamples) return out;
        out.push({ seq: row.seq, tMs: row.tMs, samples: row.samples, body: row.body });
        total += row.samples;
      }
    }
  }

  /** Deletes every entry up to and including `seq` (delivered, or given up on). */
  ack(seq: number): void {
    const gone = this.db
      .prepare(
        'SELECT count(*) AS n, coalesce(sum(length(body)), 0) AS b, coalesce(sum(samples), 0) AS s FROM queue WHERE seq <= ?',
      )
      .get(seq) as { n: number; b: number; s: number };
    this.del.run(seq);
    this.entriesNow -= gone.n;
    this.bytesNow -= gone.b;
    this.samplesNow -= gone.s;
  }

  close(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // a full disk may refuse it; the WAL is replayed on the next open
    }
    this.db.close();
  }
}
