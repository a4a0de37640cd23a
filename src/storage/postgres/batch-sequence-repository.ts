import { pathFromKey, pathKey } from '../../core/path-bytes.js';
import { SequenceError } from '../store.js';
import type { PostgresDatabase, Queryable } from './postgres-database.js';

/** Per-agent batch sequence numbers (exactly-once application) and the paths a full resync scan reported. */
export class PostgresBatchSequenceRepository {
  readonly #db: PostgresDatabase;

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  /**
   * Serialises writers of one agent's data until the caller's transaction ends, on every manager sharing the
   * database: the sequence check and the chain append then see what the previous writer committed.
   */
  async lockAgent(q: Queryable, agentId: string): Promise<void> {
    await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`custos.agent.${this.#db.schema}.${agentId}`]);
  }

  /** Checks that `sequence` is the next one and records it, inside the caller's transaction (which holds the lock). */
  async advance(q: Queryable, agentId: string, sequence: number, sha256: string | undefined): Promise<void> {
    const row = (await q.query<{ seq: string }>('SELECT seq FROM agent_sequences WHERE agent_id = $1', [agentId])).rows[0];
    const last = Number(row?.seq ?? 0);
    if (sequence !== last + 1) throw new SequenceError(last + 1, sequence);
    await q.query(
      'INSERT INTO agent_sequences (agent_id, seq, batch_sha256) VALUES ($1, $2, $3) ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq, batch_sha256 = excluded.batch_sha256',
      [agentId, sequence, sha256 ?? null],
    );
  }

  async lastSequence(agentId: string): Promise<number> {
    return Number((await this.#db.query<{ seq: string }>('SELECT seq FROM agent_sequences WHERE agent_id = $1', [agentId])).rows[0]?.seq ?? 0);
  }

  async lastBatchSha256(agentId: string): Promise<string | undefined> {
    return (
      (await this.#db.query<{ batch_sha256: string | null }>('SELECT batch_sha256 FROM agent_sequences WHERE agent_id = $1', [agentId])).rows[0]
        ?.batch_sha256 ?? undefined
    );
  }

  /** Remembers paths a full scan reported, inside the caller's transaction. */
  async markSeen(q: Queryable, agentId: string, paths: readonly Buffer[]): Promise<void> {
    if (paths.length === 0) return;
    await q.query('INSERT INTO resync_seen (agent_id, path_key) SELECT $1, k FROM unnest($2::bytea[]) AS k ON CONFLICT DO NOTHING', [
      agentId,
      paths.map((p) => pathKey(p)),
    ]);
  }

  /** Forgets what a full scan reported; `q`: in a transaction of the caller's. */
  async clearSeen(agentId: string, q: Queryable = this.#db): Promise<void> {
    await q.query('DELETE FROM resync_seen WHERE agent_id = $1', [agentId]);
  }

  async unseen(agentId: string): Promise<readonly Buffer[]> {
    const { rows } = await this.#db.query<{ path_key: Buffer }>(
      'SELECT b.path_key FROM baseline b WHERE b.agent_id = $1 AND NOT EXISTS (SELECT 1 FROM resync_seen r WHERE r.agent_id = b.agent_id AND r.path_key = b.path_key) ORDER BY b.path_key',
      [agentId],
    );
    return rows.map((r) => pathFromKey(r.path_key));
  }
}
