import type { SqliteConnection } from './sqlite-connection.js';

/**
 * The fleet search's digest indexes on `baseline`, exactly as the migrations create them (see migrations.ts; a
 * test compares the two). Digests are random, so each row a scan inserts lands on a random page of each index:
 * once the indexes outgrow the page cache, every insert reads three pages and dirties them again, and every
 * commit writes most of each index to the WAL. Measured first scans (loaded machine, CPU user + sys): 200,000
 * small files 33.6-35.8 s with the indexes, 23.3-24.6 s deferred; 1M files 187 s, 70 s. Built once at the end,
 * from sorted entries, they cost a fraction of that (1M rows: 5.8 s).
 */
export const DIGEST_INDEXES: readonly { readonly name: string; readonly sql: string }[] = [
  { name: 'baseline_by_sha256', sql: 'CREATE INDEX baseline_by_sha256 ON baseline (sha256) WHERE sha256 IS NOT NULL' },
  { name: 'baseline_by_sha1', sql: 'CREATE INDEX baseline_by_sha1 ON baseline (sha1) WHERE sha1 IS NOT NULL' },
  { name: 'baseline_by_md5', sql: 'CREATE INDEX baseline_by_md5 ON baseline (md5) WHERE md5 IS NOT NULL' },
];

/** A first batch smaller than this is written through the indexes: dropping and rebuilding them is not worth it. */
const MIN_ROWS_TO_DEFER = 1000;

/**
 * SQLite's page cache (KiB) from the start of a first fill until its indexes are built. Without the digest indexes
 * every page written is on the right edge of the baseline table or of its path index (rows and keys arrive in
 * order), so a large cache holds pages that are never read again; and the index build sorts in chunks of the cache's
 * size, which is as fast at 2 MiB as at 8 (1M rows: 2.86-2.95 s CPU either way, 12 MB less RSS). 8 -> 2 MiB took
 * 4-6 MB off the peak RSS of a first scan of a million files (docs/performance.md, issue 17).
 */
export const FIRST_FILL_CACHE_KIB = 2048;

/**
 * Leaves the digest indexes out while a first scan fills an empty baseline, and builds them when it ends.
 * Only a store's first scan defers (no row of any agent in `baseline`: nobody can be searching it), and only
 * for a standalone commit (a manager's agent batches never defer). If the process dies before the end, the
 * indexes are rebuilt the next time the store is opened (`ensure`): a search is never answered without them.
 */
export class DeferredDigestIndexes {
  readonly #conn: SqliteConnection;
  #deferred = false;
  /** The connection's own `cache_size` while a first fill runs with {@link FIRST_FILL_CACHE_KIB}; given back after the build. */
  #cacheSize: number | undefined;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
  }

  /** True between `deferIfFirstFill` dropping the indexes and `restore` building them. */
  get deferred(): boolean {
    return this.#deferred;
  }

  /** Creates any digest index that is missing (after a first scan that did not finish). Cheap when all are there. */
  ensure(): void {
    const present = new Set(this.#conn.statement("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'baseline'", 'pluck').all());
    const missing = DIGEST_INDEXES.filter((index) => !present.has(index.name));
    if (missing.length > 0) this.#build(missing);
  }

  /**
   * In the caller's transaction, before a batch of `rows` new baseline rows is written: drops the digest indexes
   * if the baseline is empty and the batch is large enough to be a scan filling it.
   */
  deferIfFirstFill(rows: number): void {
    if (this.#deferred || rows < MIN_ROWS_TO_DEFER) return;
    if (this.#conn.statement('SELECT 1 FROM baseline LIMIT 1', 'pluck').get() !== undefined) return;
    for (const index of DIGEST_INDEXES) this.#conn.db.exec(`DROP INDEX IF EXISTS ${index.name}`);
    this.#deferred = true;
    this.#cacheSize = this.#conn.db.pragma('cache_size', { simple: true }) as number;
    this.#conn.db.pragma(`cache_size = -${FIRST_FILL_CACHE_KIB}`);
  }

  /** Builds the indexes again if they were deferred; outside any transaction. */
  restore(): void {
    if (!this.#deferred) return;
    this.#deferred = false;
    try {
      // Only those still missing: another connection opening the store may have built them meanwhile.
      this.ensure();
    } finally {
      if (this.#cacheSize !== undefined) this.#conn.db.pragma(`cache_size = ${this.#cacheSize}`);
      this.#cacheSize = undefined;
    }
  }

  #build(indexes: readonly { readonly sql: string }[]): void {
    const db = this.#conn.db;
    // The sort behind CREATE INDEX spills to temporary files: with temp_store = MEMORY those would be heap, as
    // large as the index (a million rows: over 100 MB). On disk for the build, then back.
    const store = db.pragma('temp_store', { simple: true }) as number;
    db.pragma('temp_store = FILE');
    try {
      this.#conn.transaction(() => {
        for (const index of indexes) db.exec(index.sql);
      });
    } finally {
      db.pragma(`temp_store = ${store}`);
    }
  }
}
