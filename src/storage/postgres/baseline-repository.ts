import type { NoiseState } from '../../core/auto-ignore.js';
import type { FileState } from '../../core/file-state.js';
import { pathKey } from '../../core/path-bytes.js';
import type { BaselineFingerprint, KeyRange } from '../store.js';
import { BASELINE_COLUMN_LIST, BASELINE_COLUMNS, rowToState, stateColumns } from './baseline-columns.js';
import type { PostgresDatabase, Queryable } from './postgres-database.js';

/** Rows per page of a fingerprint read: the same trade-off as the SQLite store's (memory against round trips). */
const READ_CHUNK = 512;

const UPSERT = `INSERT INTO baseline (agent_id, ${BASELINE_COLUMN_LIST})
  SELECT $1, * FROM unnest(${BASELINE_COLUMNS.map(([, type], i) => `$${i + 2}::${type}[]`).join(', ')})
  ON CONFLICT (agent_id, path_key) DO UPDATE SET ${BASELINE_COLUMNS.slice(1)
    .map(([c]) => `${c} = excluded.${c}`)
    .join(', ')}`;

/** The baseline of every agent, the directories whose first scan completed, and the auto-ignore counters. */
export class PostgresBaselineRepository {
  readonly #db: PostgresDatabase;

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  /** Writes states and removes paths, inside the caller's transaction (removals last, as the SQLite store does). */
  async apply(q: Queryable, agentId: string, upserts: readonly FileState[], deletes: readonly Buffer[]): Promise<void> {
    if (upserts.length > 0) await q.query(UPSERT, [agentId, ...stateColumns(upserts)]);
    if (deletes.length > 0)
      await q.query('DELETE FROM baseline WHERE agent_id = $1 AND path_key = ANY($2::bytea[])', [agentId, deletes.map((p) => pathKey(p))]);
  }

  async getState(agentId: string, path: Buffer): Promise<FileState | undefined> {
    const { rows } = await this.#db.pool.query({
      text: `SELECT ${BASELINE_COLUMN_LIST} FROM baseline WHERE agent_id = $1 AND path_key = $2`,
      values: [agentId, pathKey(path)],
      rowMode: 'array',
    });
    return rows[0] === undefined ? undefined : rowToState(rows[0] as unknown[]);
  }

  async getStates(agentId: string, paths: readonly Buffer[]): Promise<ReadonlyMap<string, FileState>> {
    const out = new Map<string, FileState>();
    if (paths.length === 0) return out;
    const { rows } = await this.#db.pool.query({
      text: `SELECT ${BASELINE_COLUMN_LIST} FROM baseline WHERE agent_id = $1 AND path_key = ANY($2::bytea[])`,
      values: [agentId, paths.map((p) => pathKey(p))],
      rowMode: 'array',
    });
    for (const row of rows) {
      const state = rowToState(row as unknown[]);
      out.set(state.path.toString('latin1'), state);
    }
    return out;
  }

  async count(agentId: string): Promise<number> {
    const { rows } = await this.#db.query<{ n: string }>('SELECT count(*) AS n FROM baseline WHERE agent_id = $1', [agentId]);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Pages through the ranges by key on one connection in one REPEATABLE READ transaction: every page comes from
   * the same snapshot, so the scan's own commits (on other connections) never show up half-way.
   */
  async *readFingerprints(agentId: string, ranges: readonly KeyRange[]): AsyncIterable<readonly BaselineFingerprint[]> {
    const client = await this.#db.connect();
    let broken = false;
    let open = true;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      for (const range of ranges) {
        let after: Buffer | undefined;
        for (;;) {
          const { rows } = await client.query<{ path_key: Buffer; fingerprint: string }>(
            after === undefined
              ? 'SELECT path_key, fingerprint FROM baseline WHERE agent_id = $1 AND path_key >= $2 AND path_key < $3 ORDER BY path_key LIMIT $4'
              : 'SELECT path_key, fingerprint FROM baseline WHERE agent_id = $1 AND path_key > $2 AND path_key < $3 ORDER BY path_key LIMIT $4',
            [agentId, after ?? range.from, range.to, READ_CHUNK],
          );
          if (rows.length === 0) break;
          yield rows.map((r) => ({ key: r.path_key, fingerprint: r.fingerprint }));
          if (rows.length < READ_CHUNK) break;
          after = rows[rows.length - 1]?.path_key;
        }
      }
      await client.query('COMMIT');
      open = false;
    } finally {
      // A consumer that stopped early (or a failed page) leaves the transaction open: end it before the connection
      // goes back to the pool, or drop the connection.
      if (open) await client.query('ROLLBACK').catch(() => (broken = true));
      client.release(broken);
    }
  }

  async scannedRoots(agentId: string): Promise<readonly Buffer[]> {
    const { rows } = await this.#db.query<{ path: Buffer }>('SELECT path FROM scanned_roots WHERE agent_id = $1 ORDER BY path', [agentId]);
    return rows.map((r) => r.path);
  }

  /** Marks directories scanned; `q`: in a transaction of the caller's. */
  async markRootsScanned(agentId: string, roots: readonly Buffer[], at: string, q: Queryable = this.#db): Promise<void> {
    if (roots.length === 0) return;
    await q.query('INSERT INTO scanned_roots (agent_id, path, first_scan_at) SELECT $1, p, $3 FROM unnest($2::bytea[]) AS p ON CONFLICT DO NOTHING', [
      agentId,
      [...roots],
      at,
    ]);
  }

  async unmarkRootsScanned(agentId: string, roots: readonly Buffer[]): Promise<void> {
    if (roots.length === 0) return;
    await this.#db.query('DELETE FROM scanned_roots WHERE agent_id = $1 AND path = ANY($2::bytea[])', [agentId, [...roots]]);
  }

  async getNoise(agentId: string, path: Buffer): Promise<NoiseState | undefined> {
    const { rows } = await this.#db.query<{ w: string; c: number; r: number }>(
      'SELECT window_start_ms AS w, changes AS c, rolled_up AS r FROM noise WHERE agent_id = $1 AND path_key = $2',
      [agentId, pathKey(path)],
    );
    const row = rows[0];
    return row === undefined ? undefined : { windowStartMs: Number(row.w), changes: row.c, rolledUp: row.r };
  }

  /** Keeps auto-ignore counters, inside the caller's transaction. */
  async upsertNoise(q: Queryable, agentId: string, noise: readonly { readonly path: Buffer; readonly state: NoiseState }[]): Promise<void> {
    for (const { path, state } of noise) {
      await q.query(
        'INSERT INTO noise (agent_id, path_key, window_start_ms, changes, rolled_up) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent_id, path_key) DO UPDATE SET window_start_ms = excluded.window_start_ms, changes = excluded.changes, rolled_up = excluded.rolled_up',
        [agentId, pathKey(path), state.windowStartMs, state.changes, state.rolledUp],
      );
    }
  }
}
