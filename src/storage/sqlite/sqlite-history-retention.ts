import type { ChainAnchor, RetentionOutcome } from '../store.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** Records deleted per transaction: the manager's commits wait for one batch at most, never for a whole pass. */
const PRUNE_BATCH = 5000;

/**
 * History retention on SQLite: deletes each agent's oldest records made before the boundary, a bounded batch per
 * transaction, always a prefix of the chain, and keeps the chain's anchor in the same transaction. Stops at the
 * first record that must stay: one made after the boundary, or one whose alert still waits for its sinks.
 */
export class SqliteHistoryRetention {
  readonly #conn: SqliteConnection;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
  }

  /** One retention pass over every agent's chain (see `HistoryRepository.dropHistoryBefore`). */
  async dropBefore(before: string): Promise<RetentionOutcome> {
    const agents = this.#conn.statement('SELECT agent_id FROM chain_heads ORDER BY agent_id', 'pluck').all() as string[];
    let droppedRecords = 0;
    const touched: string[] = [];
    const heldBack: string[] = [];
    for (const agentId of agents) {
      let agentDropped = 0;
      for (;;) {
        const step = this.#conn.transaction(() => this.#dropBatch(agentId, before));
        agentDropped += step.dropped;
        if (step.heldBack !== undefined) heldBack.push(step.heldBack);
        if (!step.more) break;
        // Let the manager's own work in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
      droppedRecords += agentDropped;
      if (agentDropped > 0) touched.push(agentId);
    }
    return { droppedRecords, agents: touched, ...(heldBack.length === 0 ? {} : { heldBack: heldBack.join('; ') }) };
  }

  /** The anchors of the chains retention shortened, by agent. */
  async anchors(): Promise<readonly ChainAnchor[]> {
    const rows = this.#conn.statement('SELECT agent_id, dropped_records, last_id, last_ts, last_hash FROM history_anchors ORDER BY agent_id', 'raw').all() as [
      string,
      number,
      number,
      string,
      string,
    ][];
    return rows.map(([agentId, dropped, lastId, lastTs, lastHash]) => ({
      agentId,
      droppedRecords: Number(dropped),
      lastDroppedId: Number(lastId),
      lastDroppedAt: lastTs,
      lastDroppedHash: lastHash,
    }));
  }

  /** One batch of one agent's chain prefix, in the caller's transaction. */
  #dropBatch(agentId: string, before: string): { dropped: number; more: boolean; heldBack?: string } {
    const rows = this.#conn
      .statement(
        'SELECT e.id, e.ts, e.hash, (SELECT a.id FROM alerts a JOIN alert_outbox o ON o.alert_id = a.id WHERE a.event_id = e.id LIMIT 1) FROM events e WHERE e.agent_id = ? ORDER BY e.id LIMIT ?',
        'raw',
      )
      .all(agentId, PRUNE_BATCH) as [number, string, string, string | null][];
    let n = 0;
    // Bytewise, as PostgreSQL's partition bounds compare (COLLATE "C"): ISO 8601 text sorts as time does.
    while (n < rows.length && (rows[n]?.[1] ?? before) < before && rows[n]?.[3] === null) n++;
    const stop = rows[n];
    let heldBack: string | undefined;
    if (stop !== undefined && stop[1] < before)
      heldBack = `agent ${agentId} kept from record ${stop[0]}: its alert ${stop[3] ?? '?'} still waits for its sinks`;
    else if (
      stop !== undefined &&
      this.#conn.statement('SELECT 1 FROM events WHERE agent_id = ? AND id > ? AND ts < ? LIMIT 1', 'pluck').get(agentId, stop[0], before) !== undefined
    ) {
      heldBack = `agent ${agentId} kept from record ${stop[0]}: dropping older records would cut its chain in the middle (its record times go back)`;
    }
    const last = rows[n - 1];
    if (last === undefined) return { dropped: 0, more: false, ...(heldBack === undefined ? {} : { heldBack }) };
    const [lastId, lastTs, lastHash] = last;
    this.#conn.statement('INSERT INTO history_prune_permit (agent_id, up_to_id) VALUES (?, ?)').run(agentId, lastId);
    this.#conn.statement('DELETE FROM alerts WHERE agent_id = ? AND event_id <= ?').run(agentId, lastId);
    const dropped = this.#conn.statement('DELETE FROM events WHERE agent_id = ? AND id <= ?').run(agentId, lastId).changes;
    this.#conn.statement('DELETE FROM history_prune_permit WHERE agent_id = ?').run(agentId);
    this.#conn
      .statement(
        'INSERT INTO history_anchors (agent_id, dropped_records, last_id, last_ts, last_hash) VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET dropped_records = dropped_records + excluded.dropped_records, last_id = excluded.last_id, last_ts = excluded.last_ts, last_hash = excluded.last_hash',
      )
      .run(agentId, dropped, lastId, lastTs, lastHash);
    return { dropped, more: n === rows.length && rows.length === PRUNE_BATCH, ...(heldBack === undefined ? {} : { heldBack }) };
  }
}
