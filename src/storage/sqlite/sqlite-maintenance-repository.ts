import type { MaintenanceRepository, MaintenanceWindow } from '../maintenance-repository.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** Maintenance windows in SQLite (the `maintenance` table; a NULL agent is every agent). */
export class SqliteMaintenanceRepository implements MaintenanceRepository {
  readonly #conn: SqliteConnection;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
  }

  async startMaintenance(window: Omit<MaintenanceWindow, 'id' | 'endedAt'>): Promise<MaintenanceWindow> {
    const info = this.#conn
      .statement('INSERT INTO maintenance (agent_id, starts_at, ends_at, started_by, reason) VALUES (?, ?, ?, ?, ?)')
      .run(window.agentId ?? null, window.startsAt, window.endsAt, window.startedBy, window.reason ?? null);
    return { ...window, id: Number(info.lastInsertRowid) };
  }

  async endMaintenance(agentId: string | undefined, at: string): Promise<number> {
    const sql = `UPDATE maintenance SET ended_at = ? WHERE ended_at IS NULL AND starts_at <= ? AND ends_at > ? AND agent_id ${agentId === undefined ? 'IS NULL' : '= ?'}`;
    const params = agentId === undefined ? [at, at, at] : [at, at, at, agentId];
    return this.#conn.statement(sql).run(...params).changes;
  }

  async activeMaintenance(agentId: string, at: string): Promise<MaintenanceWindow | undefined> {
    const row = this.#conn
      .statement(
        'SELECT * FROM maintenance WHERE ended_at IS NULL AND starts_at <= ? AND ends_at > ? AND (agent_id IS NULL OR agent_id = ?) ORDER BY ends_at DESC LIMIT 1',
      )
      .get(at, at, agentId) as MaintenanceRow | undefined;
    return row === undefined ? undefined : toWindow(row);
  }

  async listMaintenance(): Promise<readonly MaintenanceWindow[]> {
    return (this.#conn.statement('SELECT * FROM maintenance ORDER BY id').all() as MaintenanceRow[]).map(toWindow);
  }
}

interface MaintenanceRow {
  id: number;
  agent_id: string | null;
  starts_at: string;
  ends_at: string;
  started_by: string;
  reason: string | null;
  ended_at: string | null;
}

function toWindow(r: MaintenanceRow): MaintenanceWindow {
  return {
    id: r.id,
    ...(r.agent_id === null ? {} : { agentId: r.agent_id }),
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    startedBy: r.started_by,
    ...(r.reason === null ? {} : { reason: r.reason }),
    ...(r.ended_at === null ? {} : { endedAt: r.ended_at }),
  };
}
