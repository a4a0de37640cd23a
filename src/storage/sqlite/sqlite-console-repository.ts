import type Database from 'better-sqlite3';
import type { AlertAck, AuditEntry, ConsoleRepository, ConsoleRole, ConsoleSession, ConsoleUser, LoginFailures } from '../console-repository.js';
import { auditEntryFromRow, auditParams } from '../console-rows.js';

/**
 * The console's state in the manager's SQLite file (tables from the console migration), on a connection of its
 * own so the console never holds the ingest connection. Every statement is parameterised.
 */
export class SqliteConsoleRepository implements ConsoleRepository {
  readonly #db: Database.Database;
  readonly #prepared = new Map<string, Database.Statement>();

  /** `db`: an open connection to a store whose schema includes the console migration. */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  #sql(sql: string): Database.Statement {
    let statement = this.#prepared.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#prepared.set(sql, statement);
    }
    return statement;
  }

  async putUser(user: ConsoleUser, at: string): Promise<boolean> {
    return this.#db.transaction(() => {
      const existed = this.#sql('SELECT 1 FROM console_users WHERE name = ?').get(user.name) !== undefined;
      this.#sql(
        `INSERT INTO console_users (name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, updated_at = excluded.updated_at`,
      ).run(user.name, user.role, user.passwordHash, at, at);
      return !existed;
    })();
  }

  async getUser(name: string): Promise<ConsoleUser | undefined> {
    const row = this.#sql('SELECT name, role, password_hash AS passwordHash FROM console_users WHERE name = ?').get(name) as ConsoleUser | undefined;
    return row === undefined ? undefined : { ...row };
  }

  async listUsers(): Promise<readonly { name: string; role: ConsoleRole }[]> {
    return this.#sql('SELECT name, role FROM console_users ORDER BY name').all() as { name: string; role: ConsoleRole }[];
  }

  async createSession(session: ConsoleSession): Promise<void> {
    this.#sql('INSERT INTO console_sessions (token_sha256, user_name, created_at_ms, last_used_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?)').run(
      session.tokenSha256,
      session.userName,
      session.createdAtMs,
      session.lastUsedMs,
      session.expiresAtMs,
    );
  }

  async getSession(tokenSha256: string): Promise<ConsoleSession | undefined> {
    return this.#sql(
      'SELECT token_sha256 AS tokenSha256, user_name AS userName, created_at_ms AS createdAtMs, last_used_ms AS lastUsedMs, expires_at_ms AS expiresAtMs FROM console_sessions WHERE token_sha256 = ?',
    ).get(tokenSha256) as ConsoleSession | undefined;
  }

  async touchSession(tokenSha256: string, atMs: number): Promise<void> {
    this.#sql('UPDATE console_sessions SET last_used_ms = ? WHERE token_sha256 = ?').run(atMs, tokenSha256);
  }

  async deleteSession(tokenSha256: string): Promise<void> {
    this.#sql('DELETE FROM console_sessions WHERE token_sha256 = ?').run(tokenSha256);
  }

  async deleteSessionsOf(userName: string): Promise<number> {
    return this.#sql('DELETE FROM console_sessions WHERE user_name = ?').run(userName).changes;
  }

  async pruneSessions(nowMs: number): Promise<number> {
    return this.#sql('DELETE FROM console_sessions WHERE expires_at_ms <= ?').run(nowMs).changes;
  }

  async getLoginFailures(userName: string): Promise<LoginFailures | undefined> {
    return this.#sql('SELECT failures, last_failure_ms AS lastFailureMs, locked_until_ms AS lockedUntilMs FROM console_login_failures WHERE user_name = ?').get(
      userName,
    ) as LoginFailures | undefined;
  }

  async putLoginFailures(userName: string, f: LoginFailures): Promise<void> {
    this.#sql(
      `INSERT INTO console_login_failures (user_name, failures, last_failure_ms, locked_until_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_name) DO UPDATE SET failures = excluded.failures, last_failure_ms = excluded.last_failure_ms, locked_until_ms = excluded.locked_until_ms`,
    ).run(userName, f.failures, f.lastFailureMs, f.lockedUntilMs);
  }

  async clearLoginFailures(userName: string): Promise<void> {
    this.#sql('DELETE FROM console_login_failures WHERE user_name = ?').run(userName);
  }

  async audit(entry: Omit<AuditEntry, 'id'>): Promise<number> {
    const info = this.#sql('INSERT INTO console_audit (ts, actor, action, target, outcome, remote, details) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      ...auditParams(entry),
    );
    return Number(info.lastInsertRowid);
  }

  async listAudit(query: { readonly beforeId?: number; readonly limit: number }): Promise<readonly AuditEntry[]> {
    const rows = this.#sql('SELECT id, ts, actor, action, target, outcome, remote, details FROM console_audit WHERE id < ? ORDER BY id DESC LIMIT ?').all(
      query.beforeId ?? Number.MAX_SAFE_INTEGER,
      query.limit,
    ) as { id: number; ts: string; actor: string; action: string; target: string | null; outcome: string; remote: string | null; details: string | null }[];
    return rows.map(auditEntryFromRow);
  }

  async ackAlerts(ids: readonly string[], by: string, at: string, note?: string): Promise<readonly string[]> {
    // Only alerts that exist (file or agent alerts) and are not acknowledged already: an unknown id is not news.
    const insert = this.#sql(
      `INSERT INTO console_acks (alert_id, acked_by, acked_at, note)
       SELECT @id, @by, @at, @note WHERE (EXISTS (SELECT 1 FROM alerts WHERE id = @id) OR EXISTS (SELECT 1 FROM agent_alerts WHERE id = @id))
       ON CONFLICT (alert_id) DO NOTHING`,
    );
    return this.#db.transaction(() => ids.filter((id) => insert.run({ id, by, at, note: note ?? null }).changes > 0))();
  }

  async getAcks(ids: readonly string[]): Promise<ReadonlyMap<string, AlertAck>> {
    const out = new Map<string, AlertAck>();
    const select = this.#sql('SELECT alert_id AS alertId, acked_by AS ackedBy, acked_at AS ackedAt, note FROM console_acks WHERE alert_id = ?');
    for (const id of new Set(ids)) {
      const row = select.get(id) as (Omit<AlertAck, 'note'> & { note: string | null }) | undefined;
      if (row !== undefined)
        out.set(id, { alertId: row.alertId, ackedBy: row.ackedBy, ackedAt: row.ackedAt, ...(row.note === null ? {} : { note: row.note }) });
    }
    return out;
  }

  async close(): Promise<void> {
    // The connection belongs to whoever opened it (see openSqliteConsole).
  }
}
