import { monthBefore, monthOf } from '../../core/history-retention.js';
import type { ChainAnchor, RetentionOutcome } from '../store.js';
import type { PostgresDatabase, Queryable } from './postgres-database.js';

/** A monthly history partition's name: events_pYYYY_MM (see the migration that partitions `events`). */
const PARTITION = /^events_p(\d{4})_(\d{2})$/;

/** The SQLSTATE of a new partition whose month already has rows in the default partition. */
const CHECK_VIOLATION = '23514';

/**
 * The monthly partitions of the history: created before a batch needs them (in a short transaction of their own,
 * so a commit never waits on DDL), and dropped whole by retention (DETACH + DROP: no row is deleted, the table is
 * never rewritten), each drop in one transaction with the anchors that let `verify` prove what is kept.
 */
export class PostgresHistoryRetention {
  readonly #db: PostgresDatabase;
  /** Months known to have a partition: a batch of this month's records costs no DDL and no lookup. */
  readonly #months = new Set<string>();

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  /** Makes sure the partitions of these record times exist; several managers may race, one lock orders them. */
  async ensurePartitions(timestamps: readonly string[]): Promise<void> {
    const missing = [...new Set(timestamps.map(monthOf))].filter((m): m is string => m !== undefined && !this.#months.has(m));
    if (missing.length === 0) return;
    await this.#db.transaction(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`custos.partitions.${this.#db.schema}`]);
      for (const month of missing) {
        await q.query('SAVEPOINT partition');
        try {
          await q.query('SELECT custos_history_partition($1)', [month]);
          await q.query('RELEASE SAVEPOINT partition');
        } catch (error) {
          // Records of a month retention dropped already went to events_undated: they stay there, kept.
          if ((error as { code?: string }).code !== CHECK_VIOLATION) throw error;
          await q.query('ROLLBACK TO SAVEPOINT partition');
        }
      }
    });
    for (const month of missing) this.#months.add(month);
  }

  /** Drops, oldest first, every monthly partition wholly before `before` that can go (see `HistoryRepository`). */
  async dropBefore(before: string): Promise<RetentionOutcome> {
    const { rows } = await this.#db.query<{ name: string }>(
      "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY c.relname",
    );
    let droppedRecords = 0;
    const agents = new Set<string>();
    const heldBack: string[] = [];
    for (const { name } of rows) {
      const match = PARTITION.exec(name);
      if (match === null) continue;
      const month = `${match[1] ?? ''}-${match[2] ?? ''}`;
      if (!monthBefore(month, before)) continue;
      const outcome = await this.#db.transaction((q) => dropPartition(q, name, month));
      if (typeof outcome === 'string') {
        heldBack.push(outcome);
        continue;
      }
      this.#months.delete(month);
      droppedRecords += outcome.droppedRecords;
      for (const agent of outcome.agents) agents.add(agent);
    }
    return { droppedRecords, agents: [...agents].sort(), ...(heldBack.length === 0 ? {} : { heldBack: heldBack.join('; ') }) };
  }

  /** The anchors of the chains retention shortened, by agent; inside the caller's transaction when given one. */
  async anchors(q: Queryable = this.#db): Promise<readonly ChainAnchor[]> {
    const { rows } = await q.query<{ agent_id: string; dropped_records: string; last_id: string; last_ts: string; last_hash: string }>(
      'SELECT agent_id, dropped_records, last_id, last_ts, last_hash FROM history_anchors ORDER BY agent_id',
    );
    return rows.map((r) => ({
      agentId: r.agent_id,
      droppedRecords: Number(r.dropped_records),
      lastDroppedId: Number(r.last_id),
      lastDroppedAt: r.last_ts,
      lastDroppedHash: r.last_hash,
    }));
  }
}

/**
 * Drops one month's partition, with its anchors, in the caller's transaction; or says why it must stay: an alert
 * of it still waits for its sinks, or it would cut a chain in the middle (an agent's clock went back, so one of
 * its kept records is older in the chain than one of this month's).
 */
async function dropPartition(q: Queryable, name: string, month: string): Promise<{ droppedRecords: number; agents: string[] } | string> {
  // `name` matched PARTITION above: a plain identifier, quoted all the same. Writers into this month wait.
  const table = `"${name}"`;
  await q.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
  const waiting = (
    await q.query<{ agent_id: string; id: string }>(
      `SELECT a.agent_id, a.id FROM alerts a JOIN alert_outbox o ON o.alert_id = a.id WHERE a.event_id IN (SELECT id FROM ${table}) LIMIT 1`,
    )
  ).rows[0];
  if (waiting !== undefined) return `${month} kept: alert ${waiting.id} of agent ${waiting.agent_id} still waits for its sinks`;
  const { rows: lasts } = await q.query<{ agent_id: string; id: string; ts: string; hash: string; n: string; bytes: string }>(
    `SELECT DISTINCT ON (agent_id) agent_id, id, ts, hash, count(*) OVER (PARTITION BY agent_id) AS n, sum(octet_length(data)) OVER (PARTITION BY agent_id) AS bytes FROM ${table} ORDER BY agent_id, id DESC`,
  );
  const cut = (
    await q.query<{ agent_id: string }>(
      `SELECT l.agent_id FROM unnest($1::text[], $2::bigint[]) AS l(agent_id, last_id) WHERE EXISTS (SELECT 1 FROM events e WHERE e.agent_id = l.agent_id AND e.id < l.last_id AND e.tableoid <> '${table}'::regclass) LIMIT 1`,
      [lasts.map((l) => l.agent_id), lasts.map((l) => l.id)],
    )
  ).rows[0];
  if (cut !== undefined) return `${month} kept: dropping it would cut the chain of agent ${cut.agent_id} in the middle (its record times go back)`;
  for (const l of lasts) {
    await q.query(
      'INSERT INTO history_anchors (agent_id, dropped_records, last_id, last_ts, last_hash) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent_id) DO UPDATE SET dropped_records = history_anchors.dropped_records + excluded.dropped_records, last_id = excluded.last_id, last_ts = excluded.last_ts, last_hash = excluded.last_hash',
      [l.agent_id, l.n, l.id, l.ts, l.hash],
    );
    await q.query('UPDATE agent_usage SET history_records = history_records - $2, history_bytes = history_bytes - $3 WHERE agent_id = $1', [
      l.agent_id,
      l.n,
      l.bytes,
    ]);
  }
  // An alert's text is rebuilt from its record: with the record gone, so is the alert (it was delivered).
  await q.query(`DELETE FROM alerts WHERE event_id IN (SELECT id FROM ${table})`);
  await q.query(`ALTER TABLE events DETACH PARTITION ${table}`);
  await q.query(`DROP TABLE ${table}`);
  return { droppedRecords: lasts.reduce((sum, l) => sum + Number(l.n), 0), agents: lasts.map((l) => l.agent_id) };
}
