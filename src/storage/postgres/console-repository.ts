import type { AlertAck, AuditEntry, ConsoleRepository, ConsoleRole, ConsoleSession, ConsoleUser, LoginFailures } from '../console-repository.js';
import type { PostgresDatabase } from './postgres-database.js';
import { auditEntryFromRow, auditParams, type AuditRow } from '../console-rows.js';

interface AckRow {
  alert_id: string;
  acked_by: string;
  acked_at: string;
  note: string | null;
}

function ackOf(r: AckRow): AlertAck {
  return { alertId: r.alert_id, ackedBy: r.acked_by, ackedAt: r.acked_at, ...(r.note === null ? {} : { note: r.note }) };
}

/** The console's state in PostgreSQL (tables from the console migration), on the store's pool; all SQL parameterised. */
export class PostgresConsoleRepository implements ConsoleRepository {
  readonly #db: PostgresDatabase;

  /** `db`: the store's database, its schema brought up to date. */
  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  async putUser(user: ConsoleUser, at: string): Promise<boolean> {
    // xmax = 0 only on a row this statement inserted: whether the account is new, in the same statement.
    const result = await this.#db.query<{ created: boolean }>(
      `INSERT INTO console_users (name, role, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, updated_at = excluded.updated_at
       RETURNING (xmax = 0) AS created`,
      [user.name, user.role, user.passwordHash, at],
    );
    return result.rows[0]?.created === true;
  }

  async getUser(name: string): Promise<ConsoleUser | undefined> {
    const row = (
      await this.#db.query<{ name: string; role: ConsoleRole; password_hash: string }>('SELECT name, role, password_hash FROM console_users WHERE name = $1', [
        name,
      ])
    ).rows[0];
    return row === undefined ? undefined : { name: row.name, role: row.role, passwordHash: row.password_hash };
  }

  async listUsers(): Promise<readonly { name: string; role: ConsoleRole }[]> {
    return (await this.#db.query<{ name: string; role: ConsoleRole }>('SELECT name, role FROM console_users ORDER BY name')).rows;
  }

  async createSession(s: ConsoleSession): Promise<void> {
    await this.#db.query('INSERT INTO console_sessions (token_sha256, user_name, created_at_ms, last_used_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5)', [
      s.tokenSha256,
      s.userName,
      s.createdAtMs,
      s.lastUsedMs,
      s.expiresAtMs,
    ]);
  }

  async getSession(tokenSha256: string): Promise<ConsoleSession | undefined> {
    const row = (
      await this.#db.query<{ token_sha256: string; user_name: string; created_at_ms: string; last_used_ms: string; expires_at_ms: string }>(
        'SELECT token_sha256, user_name, created_at_ms, last_used_ms, expires_at_ms FROM console_sessions WHERE token_sha256 = $1',
        [tokenSha256],
      )
    ).rows[0];
    // BIGINT comes back as text: milliseconds fit a double exactly.
    return row === undefined
      ? undefined
      : {
          tokenSha256: row.token_sha256,
          userName: row.user_name,
          createdAtMs: Number(row.created_at_ms),
          lastUsedMs: Number(row.last_used_ms),
          expiresAtMs: Number(row.expires_at_ms),
        };
  }

  async touchSession(tokenSha256: string, atMs: number): Promise<void> {
    await this.#db.query('UPDATE console_sessions SET last_used_ms = $2 WHERE token_sha256 = $1', [tokenSha256, atMs]);
  }

  async deleteSession(tokenSha256: string): Promise<void> {
    await this.#db.query('DELETE FROM console_sessions WHERE token_sha256 = $1', [tokenSha256]);
  }

  async deleteSessionsOf(userName: string): Promise<number> {
    return (await this.#db.query('DELETE FROM console_sessions WHERE user_name = $1', [userName])).rowCount ?? 0;
  }

  async pruneSessions(nowMs: number): Promise<number> {
    return (await this.#db.query('DELETE FROM console_sessions WHERE expires_at_ms <= $1', [nowMs])).rowCount ?? 0;
  }

  async getLoginFailures(userName: string): Promise<LoginFailures | undefined> {
    const row = (
      await this.#db.query<{ failures: number; last_failure_ms: string; locked_until_ms: string }>(
        'SELECT failures, last_failure_ms, locked_until_ms FROM console_login_failures WHERE user_name = $1',
        [userName],
      )
    ).rows[0];
    return row === undefined ? undefined : { failures: row.failures, lastFailureMs: Number(row.last_failure_ms), lockedUntilMs: Number(row.locked_until_ms) };
  }

  async putLoginFailures(userName: string, f: LoginFailures): Promise<void> {
    await this.#db.query(
      `INSERT INTO console_login_failures (user_name, failures, last_failure_ms, locked_until_ms) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_name) DO UPDATE SET failures = excluded.failures, last_failure_ms = excluded.last_failure_ms, locked_until_ms = excluded.locked_until_ms`,
      [userName, f.failures, f.lastFailureMs, f.lockedUntilMs],
    );
  }

  async clearLoginFailures(userName: string): Promise<void> {
    await this.#db.query('DELETE FROM console_login_failures WHERE user_name = $1', [userName]);
  }

  async audit(entry: Omit<AuditEntry, 'id'>): Promise<number> {
    const result = await this.#db.query<{ id: string }>(
      'INSERT INTO console_audit (ts, actor, action, target, outcome, remote, details) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      auditParams(entry),
    );
    return Number(result.rows[0]?.id);
  }

  async listAudit(query: { readonly beforeId?: number; readonly limit: number }): Promise<readonly AuditEntry[]> {
    const rows = (
      await this.#db.query<AuditRow>(
        'SELECT id, ts, actor, action, target, outcome, remote, details FROM console_audit WHERE id < $1 ORDER BY id DESC LIMIT $2',
        [query.beforeId ?? Number.MAX_SAFE_INTEGER, query.limit],
      )
    ).rows;
    return rows.map(auditEntryFromRow);
  }

  async ackAlerts(ids: readonly string[], by: string, at: string, note?: string): Promise<readonly string[]> {
    // Only alerts that exist and are not acknowledged yet, in the order asked; one statement, so all or none.
    const rows = (
      await this.#db.query<{ alert_id: string }>(
        `INSERT INTO console_acks (alert_id, acked_by, acked_at, note)
         SELECT u.id, $2, $3, $4 FROM unnest($1::text[]) WITH ORDINALITY AS u(id, n)
         WHERE EXISTS (SELECT 1 FROM alerts WHERE id = u.id) OR EXISTS (SELECT 1 FROM agent_alerts WHERE id = u.id)
         ORDER BY u.n ON CONFLICT (alert_id) DO NOTHING RETURNING alert_id`,
        [[...new Set(ids)], by, at, note ?? null],
      )
    ).rows;
    const acked = new Set(rows.map((r) => r.alert_id));
    return [...new Set(ids)].filter((id) => acked.has(id));
  }

  async getAcks(ids: readonly string[]): Promise<ReadonlyMap<string, AlertAck>> {
    const rows = (
      await this.#db.query<AckRow>('SELECT alert_id, acked_by, acked_at, note FROM console_acks WHERE alert_id = ANY($1::text[])', [[...new Set(ids)]])
    ).rows;
    return new Map(rows.map((r) => [r.alert_id, ackOf(r)]));
  }

  async close(): Promise<void> {
    // The pool belongs to the store.
  }
}
