import type { MaintenanceWindow } from '../store.js';
import type { PostgresDatabase } from './postgres-database.js';

interface MaintenanceRow {
  id: string;
  agent_id: string | null;
  starts_at: string;
  ends_at: string;
  started_by: string;
  reason: string | null;
  ended_at: string | null;
}

function toWindow(r: MaintenanceRow): MaintenanceWindow {
  return {
    id: Number(r.id),
    ...(r.agent_id === null ? {} : { agentId: r.agent_id }),
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    startedBy: r.started_by,
    ...(r.reason === null ? {} : { reason: r.reason }),
    ...(r.ended_at === null ? {} : { endedAt: r.ended_at }),
  };
}

/** Maintenance windows: changes recorded without alerts between a start and an end, per agent or for all. */
export class PostgresMaintenanceRepository {
  readonly #db: PostgresDatabase;

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  async start(window: Omit<MaintenanceWindow, 'id' | 'endedAt'>): Promise<MaintenanceWindow> {
    const { rows } = await this.#db.query<{ id: string }>(
      'INSERT INTO maintenance (agent_id, starts_at, ends_at, started_by, reason) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [window.agentId ?? null, window.startsAt, window.endsAt, window.startedBy, window.reason ?? null],
    );
    return { ...window, id: Number(rows[0]?.id) };
  }

  async end(agentId: string | undefined, at: string): Promise<number> {
    const scope = agentId === undefined ? 'agent_id IS NULL' : 'agent_id = $2';
    const result = await this.#db.query(
      `UPDATE maintenance SET ended_at = $1 WHERE ended_at IS NULL AND starts_at <= $1 AND ends_at > $1 AND ${scope}`,
      agentId === undefined ? [at] : [at, agentId],
    );
    return result.rowCount ?? 0;
  }

  async active(agentId: string, at: string): Promise<MaintenanceWindow | undefined> {
    const { rows } = await this.#db.query<MaintenanceRow>(
      'SELECT * FROM maintenance WHERE ended_at IS NULL AND starts_at <= $1 AND ends_at > $1 AND (agent_id IS NULL OR agent_id = $2) ORDER BY ends_at DESC LIMIT 1',
      [at, agentId],
    );
    return rows[0] === undefined ? undefined : toWindow(rows[0]);
  }

  async list(): Promise<readonly MaintenanceWindow[]> {
    return (await this.#db.query<MaintenanceRow>('SELECT * FROM maintenance ORDER BY id')).rows.map(toWindow);
  }
}
