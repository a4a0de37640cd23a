import Database from 'better-sqlite3';
import { chmodSync, closeSync, constants, fstatSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { CustosError } from '../../core/custos-error.js';
import type { DiffUnavailableReason } from '../../core/diff/content-capture.js';
import type { ContentStore, ContentUsage, StoredContent } from '../content-store.js';
import { assertPrivatePath } from '../private-path.js';
import { claimApplicationId } from './application-id.js';

/** SQLite `application_id` of a Custos content database: "CSTC". */
export const CONTENT_APPLICATION_ID = 0x43535443;

const SCHEMA = `
  -- The last version of each report_changes file: brotli-compressed redacted text (data), or, when there is no
  -- copy, why (reason). seq orders copies by when they were written: the quota evicts the lowest first.
  CREATE TABLE IF NOT EXISTS content (
    agent_id TEXT NOT NULL,
    path BLOB NOT NULL,
    seq INTEGER NOT NULL,
    sha256 TEXT,
    text_bytes INTEGER NOT NULL DEFAULT 0,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    data BLOB,
    reason TEXT,
    -- A rowid table, not WITHOUT ROWID: copies of a few KB would spill every key page (SQLite's own advice).
    UNIQUE (agent_id, path)
  );
  CREATE INDEX IF NOT EXISTS content_by_age ON content (seq) WHERE data IS NOT NULL;
  -- Running totals, kept by triggers, so the quota check is one row read rather than a sum over every copy.
  CREATE TABLE IF NOT EXISTS content_usage (id INTEGER PRIMARY KEY CHECK (id = 1), copies INTEGER NOT NULL, stored_bytes INTEGER NOT NULL, text_bytes INTEGER NOT NULL);
  INSERT OR IGNORE INTO content_usage VALUES (1, 0, 0, 0);
  CREATE TRIGGER IF NOT EXISTS content_usage_insert AFTER INSERT ON content BEGIN
    UPDATE content_usage SET copies = copies + (NEW.data IS NOT NULL), stored_bytes = stored_bytes + NEW.stored_bytes, text_bytes = text_bytes + NEW.text_bytes;
  END;
  CREATE TRIGGER IF NOT EXISTS content_usage_delete AFTER DELETE ON content BEGIN
    UPDATE content_usage SET copies = copies - (OLD.data IS NOT NULL), stored_bytes = stored_bytes - OLD.stored_bytes, text_bytes = text_bytes - OLD.text_bytes;
  END;
  CREATE TRIGGER IF NOT EXISTS content_usage_update AFTER UPDATE ON content BEGIN
    UPDATE content_usage SET copies = copies - (OLD.data IS NOT NULL) + (NEW.data IS NOT NULL),
      stored_bytes = stored_bytes - OLD.stored_bytes + NEW.stored_bytes, text_bytes = text_bytes - OLD.text_bytes + NEW.text_bytes;
  END;
`;

/** The content store in an SQLite file of its own, readable and writable by its owner only (0600). */
export class SqliteContentStore implements ContentStore {
  readonly #db: Database.Database;
  readonly #quotaBytes: number;
  readonly #get: Database.Statement;
  readonly #upsert: Database.Statement;
  readonly #remove: Database.Statement;
  readonly #oldest: Database.Statement;
  readonly #evict: Database.Statement;
  readonly #usage: Database.Statement;
  /** The next write's age stamp: one process writes a content database at a time (the scan lock, the manager). */
  #seq: number;

  private constructor(db: Database.Database, quotaBytes: number) {
    this.#db = db;
    this.#seq = Number(db.prepare('SELECT coalesce(max(seq), 0) FROM content').pluck().get()) + 1;
    this.#quotaBytes = quotaBytes;
    this.#get = db.prepare('SELECT sha256, data, reason FROM content WHERE agent_id = ? AND path = ?').raw(true);
    this.#upsert = db.prepare(
      `INSERT INTO content (agent_id, path, seq, sha256, text_bytes, stored_bytes, data, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (agent_id, path) DO UPDATE SET seq = excluded.seq, sha256 = excluded.sha256, text_bytes = excluded.text_bytes,
         stored_bytes = excluded.stored_bytes, data = excluded.data, reason = excluded.reason`,
    );
    this.#remove = db.prepare('DELETE FROM content WHERE agent_id = ? AND path = ?');
    this.#oldest = db.prepare('SELECT agent_id, path FROM content WHERE data IS NOT NULL ORDER BY seq LIMIT 1').raw(true);
    this.#evict = db.prepare("UPDATE content SET data = NULL, stored_bytes = 0, text_bytes = 0, reason = 'quota' WHERE agent_id = ? AND path = ?");
    this.#usage = db.prepare('SELECT copies, stored_bytes, text_bytes FROM content_usage').raw(true);
  }

  /**
   * Opens (creating if needed) the content database at `path`. `quotaBytes` caps the compressed copies (0: no
   * cap). The file is created 0600 and refused if someone else could write to it or its directory.
   */
  static open(path: string, quotaBytes: number): SqliteContentStore {
    assertPrivatePath(dirname(path), 'data directory');
    assertPrivatePath(path, 'content database');
    try {
      // O_NOFOLLOW: a link planted where the database goes must not make us create or chmod its target.
      const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      try {
        if ((fstatSync(fd).mode & 0o077) !== 0) chmodSync(path, 0o600);
      } finally {
        closeSync(fd);
      }
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      claimApplicationId(db, path, CONTENT_APPLICATION_ID);
      db.exec(SCHEMA);
      return new SqliteContentStore(db, quotaBytes);
    } catch (error) {
      if (error instanceof CustosError) throw error;
      throw new CustosError('STORE_FAILED', `failed to open the content database ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  get(agentId: string, path: Buffer): StoredContent | undefined {
    const row = this.#get.get(agentId, path) as [string | null, Buffer | null, string | null] | undefined;
    if (row === undefined) return undefined;
    const [sha256, data, reason] = row;
    if (data === null || sha256 === null) return { kind: 'missing', reason: (reason ?? 'first-version') as DiffUnavailableReason };
    return { kind: 'text', sha256, text: brotliDecompressSync(data).toString('utf8') };
  }

  put(agentId: string, path: Buffer, sha256: string, text: string): void {
    const raw = Buffer.from(text, 'utf8');
    // Quality 5: most of brotli's gain on text at a fraction of its top setting's time.
    const data = brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    this.#db.transaction(() => {
      if (this.#quotaBytes > 0 && data.length > this.#quotaBytes) {
        this.#upsert.run(agentId, path, this.#seq++, sha256, 0, 0, null, 'quota');
        return;
      }
      this.#upsert.run(agentId, path, this.#seq++, sha256, raw.length, data.length, data, null);
      this.#enforceQuota();
    })();
  }

  markMissing(agentId: string, path: Buffer, reason: DiffUnavailableReason): void {
    this.#upsert.run(agentId, path, this.#seq++, null, 0, 0, null, reason);
  }

  remove(agentId: string, path: Buffer): void {
    this.#remove.run(agentId, path);
  }

  usage(): ContentUsage {
    const [copies, storedBytes, textBytes] = this.#usage.get() as [number, number, number];
    return { copies, storedBytes, textBytes };
  }

  close(): void {
    this.#db.close();
  }

  /** Evicts the oldest copies until the compressed total fits the quota again. */
  #enforceQuota(): void {
    if (this.#quotaBytes <= 0) return;
    while (this.usage().storedBytes > this.#quotaBytes) {
      const oldest = this.#oldest.get() as [string, Buffer] | undefined;
      if (oldest === undefined) return;
      this.#evict.run(oldest[0], oldest[1]);
    }
  }
}
