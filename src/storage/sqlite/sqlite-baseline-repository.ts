import Database from 'better-sqlite3';
import type { NoiseState } from '../../core/auto-ignore.js';
import type { FileState } from '../../core/file-state.js';
import { inKeyOrder, packedFingerprintSql, type FingerprintPage } from '../../core/fingerprint-page.js';
import { pathKey } from '../../core/path-bytes.js';
import type { BaselineFingerprint, BaselineRepository, KeyRange } from '../baseline-repository.js';
import { BASELINE_COLUMNS, rowToState, stateToRow } from './baseline-rows.js';
import type { SqliteConnection } from './sqlite-connection.js';

// Pages of 512 rows: a larger page outlives a few young-generation collections while the scan merges it, is
// promoted, and on a million-file re-check the heap swells (2,000 rows: 189 MB RSS, 512: 148 MB, same time).
const READ_CHUNK = 512;
// Rows per packed page: one Buffer each, so the size of a page is not held to READ_CHUNK's young-generation
// bound. Not measured as a sweep.
const PAGE_ROWS = 512;
// Paths per `IN (...)` query: well under SQLite's parameter limit, and few distinct statement shapes.
const MANY_CHUNK = 200;
const COLUMNS = BASELINE_COLUMNS.join(', ');
// The same columns for reading many rows into states: the nanosecond times as text (rowToState takes either), so
// the other integers need not come as bigints first; the fingerprint (a scan's, not a state's) left out.
const STATE_COLUMNS = BASELINE_COLUMNS.map((c) => (c === 'mtime_ns' || c === 'ctime_ns' ? `CAST(${c} AS TEXT)` : c === 'fingerprint' ? 'NULL' : c)).join(', ');
const PLACEHOLDERS = BASELINE_COLUMNS.map(() => '?').join(', ');
// The indexed digests (fleet search), by their place in a row from stateToRow.
const DIGESTS = (['md5', 'sha1', 'sha256'] as const).map((column) => ({ column, at: BASELINE_COLUMNS.indexOf(column) }));
// What an update of an existing row always sets: every column but the key and the indexed digests.
const PLAIN_COLUMNS = BASELINE_COLUMNS.slice(1).filter((c) => !DIGESTS.some((d) => d.column === c));
const PLAIN_AT = PLAIN_COLUMNS.map((c) => BASELINE_COLUMNS.indexOf(c));

/**
 * Baselines, scanned roots and auto-ignore counters in SQLite. Reads for a scan use a second, read-only
 * connection, so the scan sees one consistent snapshot while its own changes are being committed on the first.
 */
export class SqliteBaselineRepository implements BaselineRepository {
  readonly #conn: SqliteConnection;
  readonly #path: string;
  #reader: Database.Database | undefined;
  readonly #insertNew: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #upsertNoise: Database.Statement;
  readonly #storedDigests: Database.Statement;
  // One UPDATE per set of changed digests (bit i: DIGESTS[i] changed), prepared when first needed; the guarded ones
  // also require the unchanged digests to be what was read (see #digestsRead).
  readonly #updates: (Database.Statement | undefined)[] = [];
  readonly #guardedUpdates: (Database.Statement | undefined)[] = [];
  #expectNew = true;
  /**
   * Per agent, the rows its last `getBaselineStates` read (by path, latin1; in BASELINE_COLUMNS order): the batch
   * that read them writes those rows next, and needs their digests to know which changed, without reading again.
   */
  readonly #rowsRead = new Map<string, Map<string, readonly unknown[]>>();

  constructor(conn: SqliteConnection, path: string) {
    this.#conn = conn;
    this.#path = path;
    // The statements a batch runs once per row, looked up once here rather than per row.
    this.#insertNew = conn.statement(`INSERT INTO baseline (agent_id, ${COLUMNS}) VALUES (?, ${PLACEHOLDERS}) ON CONFLICT (agent_id, path_key) DO NOTHING`);
    this.#storedDigests = conn.statement(`SELECT ${DIGESTS.map((d) => d.column).join(', ')} FROM baseline WHERE agent_id = ? AND path_key = ?`, 'raw');
    this.#delete = conn.statement('DELETE FROM baseline WHERE agent_id = ? AND path_key = ?');
    this.#upsertNoise = conn.statement(
      'INSERT INTO noise (agent_id, path_key, window_start_ms, changes, rolled_up) VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_id, path_key) DO UPDATE SET window_start_ms = excluded.window_start_ms, changes = excluded.changes, rolled_up = excluded.rolled_up',
    );
  }

  async *readFingerprints(agentId: string, ranges: readonly KeyRange[]): AsyncIterable<readonly BaselineFingerprint[]> {
    const reader = (this.#reader ??= openReader(this.#path));
    const first = reader
      .prepare('SELECT path_key, fingerprint FROM baseline WHERE agent_id = ? AND path_key >= ? AND path_key < ? ORDER BY path_key LIMIT ?')
      .raw(true);
    const next = reader
      .prepare('SELECT path_key, fingerprint FROM baseline WHERE agent_id = ? AND path_key > ? AND path_key < ? ORDER BY path_key LIMIT ?')
      .raw(true);
    // One read transaction over all pages: the snapshot does not move while the scan commits its changes, so
    // paging by key is safe and no statement stays open across the awaits of the consumer.
    reader.prepare('BEGIN').run();
    try {
      for (const range of ranges) {
        let rows = first.all(agentId, range.from, range.to, READ_CHUNK) as [Buffer, string][];
        while (rows.length > 0) {
          yield rows.map(([key, fingerprint]) => ({ key, fingerprint }));
          if (rows.length < READ_CHUNK) break;
          rows = next.all(agentId, (rows[rows.length - 1] as [Buffer, string])[0], range.to, READ_CHUNK) as [Buffer, string][];
        }
      }
    } finally {
      reader.prepare('COMMIT').run();
    }
  }

  /**
   * The fingerprints as packed pages of up to PAGE_ROWS entries, each built by SQLite in one statement: the scan's
   * re-check then makes no array, Buffer and string per row (see `FingerprintPage`). Same snapshot and order as
   * {@link readFingerprints}.
   */
  async *readFingerprintPages(agentId: string, ranges: readonly KeyRange[]): AsyncIterable<FingerprintPage> {
    const reader = (this.#reader ??= openReader(this.#path));
    const statement = (after: boolean, ordered: boolean): Database.Statement =>
      reader
        .prepare(
          `SELECT CAST(group_concat(${packedFingerprintSql('path_key', 'fingerprint')}, ''${ordered ? ' ORDER BY path_key' : ''}) AS BLOB), count(*), max(path_key) FROM (SELECT path_key, fingerprint FROM baseline WHERE agent_id = ? AND path_key ${after ? '>' : '>='} ? AND path_key < ? ORDER BY path_key LIMIT ?)`,
        )
        .raw(true);
    // Packed in the order the subquery gives, checked; a page out of order (SQLite does not promise one) is read
    // again sorted.
    const first = statement(false, false);
    const next = statement(true, false);
    const firstSorted = statement(false, true);
    const nextSorted = statement(true, true);
    const read = (start: Buffer, to: Buffer, after: boolean): [Buffer | null, number, Buffer | null] => {
      const row = (after ? next : first).get(agentId, start, to, PAGE_ROWS) as [Buffer | null, number, Buffer | null];
      if (row[0] === null || inKeyOrder({ kind: 'page', packed: row[0], count: row[1] })) return row;
      return (after ? nextSorted : firstSorted).get(agentId, start, to, PAGE_ROWS) as [Buffer | null, number, Buffer | null];
    };
    reader.prepare('BEGIN').run();
    try {
      for (const range of ranges) {
        let [packed, count, last] = read(range.from, range.to, false);
        while (packed !== null && last !== null && count > 0) {
          yield { kind: 'page', packed, count };
          if (count < PAGE_ROWS) break;
          [packed, count, last] = read(last, range.to, true);
        }
      }
    } finally {
      reader.prepare('COMMIT').run();
    }
  }

  async getBaselineStates(agentId: string, paths: readonly Buffer[]): Promise<ReadonlyMap<string, FileState>> {
    const out = new Map<string, FileState>();
    // Only this read's rows are kept (the memory stays one batch's): a row written later than the next read is
    // simply read again.
    const read = new Map<string, readonly unknown[]>();
    this.#rowsRead.set(agentId, read);
    for (let i = 0; i < paths.length; i += MANY_CHUNK) {
      const keys = paths.slice(i, i + MANY_CHUNK).map((p) => pathKey(p));
      const sql = `SELECT ${STATE_COLUMNS} FROM baseline WHERE agent_id = ? AND path_key IN (${Array(keys.length).fill('?').join(', ')})`;
      for (const row of this.#conn.statement(sql, 'raw').all(agentId, ...keys) as unknown[][]) {
        const state = rowToState(row);
        const path = state.path.toString('latin1');
        out.set(path, state);
        read.set(path, row);
      }
    }
    return out;
  }

  async getBaselineState(agentId: string, path: Buffer): Promise<FileState | undefined> {
    const row = this.#conn.statement(`SELECT ${COLUMNS} FROM baseline WHERE agent_id = ? AND path_key = ?`, 'raw', true).get(agentId, pathKey(path)) as
      unknown[] | undefined;
    return row === undefined ? undefined : rowToState(row);
  }

  async countBaseline(agentId: string): Promise<number> {
    return Number(this.#conn.statement('SELECT count(*) FROM baseline WHERE agent_id = ?', 'pluck').get(agentId));
  }

  async scannedRoots(agentId: string): Promise<readonly Buffer[]> {
    return this.#conn.statement('SELECT path FROM scanned_roots WHERE agent_id = ?', 'pluck').all(agentId) as Buffer[];
  }

  async markRootsScanned(agentId: string, roots: readonly Buffer[], at: string): Promise<void> {
    this.#conn.transaction(() => this.markRootsScannedInTransaction(agentId, roots, at));
  }

  /** Marks directories scanned, in the caller's transaction. */
  markRootsScannedInTransaction(agentId: string, roots: readonly Buffer[], at: string): void {
    const mark = this.#conn.statement('INSERT OR IGNORE INTO scanned_roots (agent_id, path, first_scan_at) VALUES (?, ?, ?)');
    for (const root of roots) mark.run(agentId, root, at);
  }

  async unmarkRootsScanned(agentId: string, roots: readonly Buffer[]): Promise<void> {
    const remove = this.#conn.statement('DELETE FROM scanned_roots WHERE agent_id = ? AND path = ?');
    this.#conn.transaction(() => {
      for (const root of roots) remove.run(agentId, root);
    });
  }

  async getNoise(agentId: string, path: Buffer): Promise<NoiseState | undefined> {
    const row = this.#conn
      .statement('SELECT window_start_ms, changes, rolled_up FROM noise WHERE agent_id = ? AND path_key = ?', 'raw')
      .get(agentId, pathKey(path)) as [number, number, number] | undefined;
    return row === undefined ? undefined : { windowStartMs: row[0], changes: row[1], rolledUp: row[2] };
  }

  /** Writes a batch's baseline rows and noise counters; the caller holds the batch's transaction. */
  applyInTransaction(
    agentId: string,
    upserts: readonly FileState[],
    deletes: readonly Buffer[],
    noise: readonly { readonly path: Buffer; readonly state: NoiseState }[],
  ): void {
    for (const state of upserts) this.#write(agentId, stateToRow(state), state.path);
    for (const path of deletes) this.#delete.run(agentId, pathKey(path));
    for (const { path, state } of noise) this.#upsertNoise.run(agentId, pathKey(path), state.windowStartMs, state.changes, state.rolledUp);
  }

  /**
   * Writes one baseline row. An existing row is updated in the columns that may differ, and its digests only where
   * they changed: SQLite rewrites the entries of every index whose column an UPDATE sets, even to the same value, and
   * each digest index entry sits on a page of its own (digests are random), so setting an unchanged digest costs
   * two page writes per index per row (measured: 3 digest indexes, 60,000 rows in batches of 500, 487 MB of WAL
   * when the digests are set unchanged, 18 MB when they are left out). A changed digest must move in its index.
   */
  #write(agentId: string, row: ReturnType<typeof stateToRow>, path: Buffer): void {
    const key = row[0];
    // The batch's own read said what the row held: update it against that, without reading it again. The UPDATE
    // requires the digests it leaves alone to be the ones read, so a row that changed since (or went) is not
    // updated, and is then written the long way below.
    const read = this.#rowsRead.get(agentId);
    if (read !== undefined && read.size > 0) {
      const text = path.toString('latin1');
      const before = read.get(text);
      if (before !== undefined) {
        read.delete(text);
        if (
          this.#update(
            agentId,
            row,
            DIGESTS.map((d) => before[d.at] as string | null),
            true,
          )
        )
          return;
      }
    }
    // Guessed from the row before: a first scan writes new rows only (one INSERT each, as before, no read), the
    // manager's ingest existing ones (read, then update): either way a wrong guess costs one statement, never a row.
    let stored: (string | null)[] | undefined;
    if (this.#expectNew) {
      if (this.#insertNew.run(agentId, ...row).changes === 1) return;
      this.#expectNew = false;
      stored = this.#storedDigests.get(agentId, key) as (string | null)[];
    } else {
      stored = this.#storedDigests.get(agentId, key) as (string | null)[] | undefined;
      if (stored === undefined) {
        this.#insertNew.run(agentId, ...row);
        this.#expectNew = true;
        return;
      }
    }
    this.#update(agentId, row, stored, false);
  }

  /**
   * Updates an existing row, setting the digests that differ from `stored` (the row's digests, read). `guarded`:
   * only if the digests left alone are still `stored`; returns whether a row was updated.
   */
  #update(agentId: string, row: ReturnType<typeof stateToRow>, stored: readonly (string | null)[], guarded: boolean): boolean {
    let changed = 0;
    const values: unknown[] = [];
    for (const at of PLAIN_AT) values.push(row[at]);
    const unchanged: (string | null)[] = [];
    for (let i = 0; i < DIGESTS.length; i++) {
      const value = row[(DIGESTS[i] as (typeof DIGESTS)[number]).at];
      if (stored[i] === value) unchanged.push(value as string | null);
      else {
        changed |= 1 << i;
        values.push(value);
      }
    }
    values.push(agentId, row[0]);
    if (!guarded) return this.#updateFor(changed, false).run(...values).changes === 1;
    return this.#updateFor(changed, true).run(...values, ...unchanged).changes === 1;
  }

  #updateFor(changed: number, guarded: boolean): Database.Statement {
    const cache = guarded ? this.#guardedUpdates : this.#updates;
    let update = cache[changed];
    if (update === undefined) {
      const columns = [...PLAIN_COLUMNS, ...DIGESTS.filter((_, i) => (changed & (1 << i)) !== 0).map((d) => d.column)];
      const guard = guarded ? DIGESTS.filter((_, i) => (changed & (1 << i)) === 0).map((d) => ` AND ${d.column} IS ?`) : [];
      update = this.#conn.statement(`UPDATE baseline SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE agent_id = ? AND path_key = ?${guard.join('')}`);
      cache[changed] = update;
    }
    return update;
  }

  /** Closes the scan's read-only connection, if one was opened. */
  close(): void {
    this.#reader?.close();
    this.#reader = undefined;
  }
}

function openReader(path: string): Database.Database {
  const reader = new Database(path, { readonly: true });
  reader.pragma('cache_size = -8192');
  return reader;
}
