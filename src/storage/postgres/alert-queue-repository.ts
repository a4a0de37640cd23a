import type { AgentAlert, AnyAlert } from '../../core/build-alert.js';
import { fileAlertFromRecord } from '../file-alert-from-record.js';
import type { PostgresDatabase, Queryable } from './postgres-database.js';

/**
 * How long a manager's claim on queued alerts holds. The manager that committed an alert delivers it at once; only
 * when it has not marked it delivered for this long (it died, or its sinks keep failing) may another manager take
 * it over. Each read of the queue renews the reader's claims.
 */
export const ALERT_LEASE_MS = 120_000;

/**
 * The durable alert delivery queue, shared by every manager on the database: each row is claimed by one manager,
 * so that each alert goes out through exactly one manager's sinks.
 */
export class PostgresAlertQueueRepository {
  readonly #db: PostgresDatabase;
  /** This store's claim name (random per open store: a restarted manager is a new owner). */
  readonly #owner: string;
  readonly #leaseSeconds: number;

  constructor(db: PostgresDatabase, owner: string, leaseMs = ALERT_LEASE_MS) {
    this.#db = db;
    this.#owner = owner;
    this.#leaseSeconds = leaseMs / 1000;
  }

  /** Queues alerts, claimed by this store, inside the caller's transaction (in the order given). */
  async enqueue(q: Queryable, ids: readonly string[], agentAlert: boolean): Promise<void> {
    if (ids.length === 0) return;
    await q.query(
      `INSERT INTO alert_outbox (alert_id, agent_alert, owner, lease_until)
       SELECT id, $2, $3, now() + make_interval(secs => $4) FROM unnest($1::text[]) WITH ORDINALITY AS u(id, n) ORDER BY n`,
      [[...ids], agentAlert, this.#owner, this.#leaseSeconds],
    );
  }

  /**
   * Claims (or renews) the oldest `limit` queued alerts that are this store's or whose claim ran out (`orphansOnly`:
   * only other owners' that ran out), skipping rows another manager is claiming at this moment, and returns them
   * rebuilt, oldest first.
   */
  async claim(limit: number, names: () => Promise<ReadonlyMap<string, string>>, orphansOnly = false): Promise<readonly AnyAlert[]> {
    const claimed = await this.#db.transaction(async (q) => {
      const { rows } = await q.query<{ seq: string; alert_id: string; agent_alert: boolean }>(
        `SELECT seq, alert_id, agent_alert FROM alert_outbox WHERE ${orphansOnly ? 'owner <> $1 AND lease_until < now()' : 'owner = $1 OR lease_until < now()'}
         ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [this.#owner, limit],
      );
      if (rows.length > 0) {
        await q.query('UPDATE alert_outbox SET owner = $1, lease_until = now() + make_interval(secs => $2) WHERE seq = ANY($3::bigint[])', [
          this.#owner,
          this.#leaseSeconds,
          rows.map((r) => r.seq),
        ]);
      }
      return rows;
    });
    if (claimed.length === 0) return [];
    const agentNames = await names();
    const fileIds = claimed.filter((r) => !r.agent_alert).map((r) => r.alert_id);
    const agentIds = claimed.filter((r) => r.agent_alert).map((r) => r.alert_id);
    const files = new Map<string, string>();
    if (fileIds.length > 0) {
      const { rows } = await this.#db.query<{ id: string; data: string }>(
        'SELECT a.id, e.data FROM alerts a JOIN events e ON e.id = a.event_id WHERE a.id = ANY($1::text[])',
        [fileIds],
      );
      for (const r of rows) files.set(r.id, r.data);
    }
    const agents = new Map<string, string>();
    if (agentIds.length > 0) {
      const { rows } = await this.#db.query<{ id: string; json: string }>('SELECT id, json FROM agent_alerts WHERE id = ANY($1::text[])', [agentIds]);
      for (const r of rows) agents.set(r.id, r.json);
    }
    const out: AnyAlert[] = [];
    for (const row of claimed) {
      if (row.agent_alert) {
        const json = agents.get(row.alert_id);
        if (json !== undefined) out.push(JSON.parse(json) as AgentAlert);
      } else {
        const data = files.get(row.alert_id);
        const alert = data === undefined ? undefined : fileAlertFromRecord(row.alert_id, data, agentNames);
        if (alert !== undefined) out.push(alert);
      }
    }
    return out;
  }

  async markDelivered(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#db.query('DELETE FROM alert_outbox WHERE alert_id = ANY($1::text[])', [[...ids]]);
  }
}
