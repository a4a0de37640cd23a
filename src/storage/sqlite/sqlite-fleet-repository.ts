import type Database from 'better-sqlite3';
import { timingSafeEqual } from 'node:crypto';
import { pathFromKey, pathKey } from '../../core/path-bytes.js';
import type { AgentInfo, AgentRecord, EnrollmentTokenInfo, EnrollmentTokenRecord, FleetRepository, TokenVerdict } from '../fleet-repository.js';
import { AGENT_COLUMNS, agentInfo, tokenInfo, type AgentRow, type TokenRow } from '../fleet-rows.js';
import { SequenceError } from '../store.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** The fleet registry in SQLite: `agents`, `enrollment_tokens`, `agent_sequences` and `resync_seen`. */
export class SqliteFleetRepository implements FleetRepository {
  readonly #conn: SqliteConnection;
  readonly #lastSeq: Database.Statement;
  readonly #setSeq: Database.Statement;
  readonly #markSeen: Database.Statement;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
    this.#lastSeq = conn.statement('SELECT seq FROM agent_sequences WHERE agent_id = ?', 'pluck');
    this.#setSeq = conn.statement(
      'INSERT INTO agent_sequences (agent_id, seq, batch_sha256) VALUES (?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq, batch_sha256 = excluded.batch_sha256',
    );
    this.#markSeen = conn.statement('INSERT OR IGNORE INTO resync_seen (agent_id, path_key) VALUES (?, ?)');
  }

  /**
   * Takes a batch's sequence number, in the caller's transaction: it must be the next one for the agent, or
   * `SequenceError` is thrown (and the caller's transaction, with everything else of the batch, rolls back).
   */
  advanceSequenceInTransaction(agentId: string, sequence: number, sha256: string | undefined): void {
    const last = Number(this.#lastSeq.get(agentId) ?? 0);
    if (sequence !== last + 1) throw new SequenceError(last + 1, sequence);
    this.#setSeq.run(agentId, sequence, sha256 ?? null);
  }

  /** Remembers paths a full scan reported, in the caller's transaction. */
  markSeenInTransaction(agentId: string, paths: readonly Buffer[]): void {
    for (const path of paths) this.#markSeen.run(agentId, pathKey(path));
  }

  async upsertAgent(agent: AgentRecord): Promise<void> {
    this.#conn.statement('INSERT INTO agents (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name').run(agent.id, agent.name);
  }

  async listAgents(): Promise<readonly AgentRecord[]> {
    return (this.#conn.statement('SELECT id, name FROM agents ORDER BY id', 'raw').all() as [string, string][]).map(([id, name]) => ({ id, name }));
  }

  async createEnrollmentToken(token: EnrollmentTokenRecord): Promise<void> {
    this.#conn
      .statement('INSERT INTO enrollment_tokens (id, secret_sha256, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(token.id, token.secretSha256, token.createdAt, token.expiresAt);
  }

  async consumeEnrollmentToken(id: string, secretSha256: string, at: string, usedBy: string): Promise<TokenVerdict> {
    return this.#conn.transaction((): TokenVerdict => {
      const row = this.#conn.statement('SELECT secret_sha256, expires_at, used_at FROM enrollment_tokens WHERE id = ?').get(id) as
        { secret_sha256: string; expires_at: string; used_at: string | null } | undefined;
      // Compare even for an unknown id, against a dummy, so timing does not tell which ids exist.
      const expected = Buffer.from(row?.secret_sha256 ?? '0'.repeat(64), 'hex');
      const given = Buffer.from(/^[0-9a-f]{64}$/.test(secretSha256) ? secretSha256 : '1'.repeat(64), 'hex');
      const same = timingSafeEqual(expected, given);
      if (row === undefined || !same) return 'unknown';
      if (row.used_at !== null) return 'used';
      if (row.expires_at <= at) return 'expired';
      this.#conn.statement('UPDATE enrollment_tokens SET used_at = ?, used_by = ? WHERE id = ?').run(at, usedBy, id);
      return 'ok';
    });
  }

  async listEnrollmentTokens(since: string): Promise<readonly EnrollmentTokenInfo[]> {
    const rows = this.#conn
      .statement('SELECT id, created_at, expires_at, used_at, used_by FROM enrollment_tokens WHERE created_at >= ? ORDER BY created_at DESC, id')
      .all(since) as TokenRow[];
    return rows.map(tokenInfo);
  }

  async revokeEnrollmentToken(id: string, at: string): Promise<boolean> {
    return this.#conn.statement('UPDATE enrollment_tokens SET expires_at = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?').run(at, id, at).changes > 0;
  }

  async registerAgent(name: string, at: string, group?: string, machineId?: string): Promise<AgentRecord> {
    return this.#conn.transaction(() => {
      const max = Number(this.#conn.statement("SELECT coalesce(max(CAST(id AS INTEGER)), 0) FROM agents WHERE id <> '000'", 'pluck').get());
      const id = String(max + 1).padStart(3, '0');
      this.#conn
        .statement('INSERT INTO agents (id, name, created_at, last_seen, group_name, machine_id) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, name, at, at, group ?? null, machineId ?? null);
      return { id, name };
    });
  }

  async reenrollAgent(id: string, update: { name: string; group?: string; machineId?: string; at: string }): Promise<void> {
    this.#conn
      .statement(
        "UPDATE agents SET name = ?, group_name = coalesce(?, group_name), machine_id = coalesce(?, machine_id), last_seen = ?, silent_since = NULL WHERE id = ? AND id <> '000'",
      )
      .run(update.name, update.group ?? null, update.machineId ?? null, update.at, id);
  }

  async renameAgent(id: string, name: string): Promise<boolean> {
    return this.#conn.statement("UPDATE agents SET name = ? WHERE id = ? AND id <> '000'").run(name, id).changes === 1;
  }

  async setAgentGroup(id: string, group: string | undefined): Promise<boolean> {
    return this.#conn.statement("UPDATE agents SET group_name = ? WHERE id = ? AND id <> '000'").run(group ?? null, id).changes === 1;
  }

  async setAgentCertificate(id: string, certSha256: string): Promise<void> {
    this.#conn.statement('UPDATE agents SET cert_sha256 = ? WHERE id = ?').run(certSha256, id);
  }

  async getAgent(id: string): Promise<AgentInfo | undefined> {
    const row = this.#conn.statement(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = ?`).get(id) as AgentRow | undefined;
    return row === undefined ? undefined : agentInfo(row);
  }

  async listAgentInfos(): Promise<readonly AgentInfo[]> {
    return (this.#conn.statement(`SELECT ${AGENT_COLUMNS} FROM agents ORDER BY id`).all() as AgentRow[]).map(agentInfo);
  }

  async revokeAgent(id: string, at: string): Promise<boolean> {
    return this.#conn.statement('UPDATE agents SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes > 0;
  }

  async touchAgent(id: string, at: string): Promise<string | undefined> {
    return this.#conn.transaction(() => {
      const silent = this.#conn.statement('SELECT silent_since FROM agents WHERE id = ?', 'pluck').get(id) as string | null | undefined;
      this.#conn.statement('UPDATE agents SET last_seen = ?, silent_since = NULL WHERE id = ?').run(at, id);
      return silent ?? undefined;
    });
  }

  async markAgentSilent(id: string, since: string): Promise<void> {
    this.#conn.statement('UPDATE agents SET silent_since = ? WHERE id = ? AND silent_since IS NULL').run(since, id);
  }

  async lastSequence(agentId: string): Promise<number> {
    return Number(this.#lastSeq.get(agentId) ?? 0);
  }

  async lastBatchSha256(agentId: string): Promise<string | undefined> {
    return (
      (this.#conn.statement('SELECT batch_sha256 FROM agent_sequences WHERE agent_id = ?', 'pluck').get(agentId) as string | null | undefined) ?? undefined
    );
  }

  async clearResyncSeen(agentId: string): Promise<void> {
    this.clearResyncSeenInTransaction(agentId);
  }

  /** Forgets what a full scan reported, in the caller's transaction (or on its own). */
  clearResyncSeenInTransaction(agentId: string): void {
    this.#conn.statement('DELETE FROM resync_seen WHERE agent_id = ?').run(agentId);
  }

  async unseenByResync(agentId: string): Promise<readonly Buffer[]> {
    const sql =
      'SELECT b.path_key FROM baseline b WHERE b.agent_id = ? AND NOT EXISTS (SELECT 1 FROM resync_seen r WHERE r.agent_id = b.agent_id AND r.path_key = b.path_key) ORDER BY b.path_key';
    return (this.#conn.statement(sql, 'pluck').all(agentId) as Buffer[]).map((k) => pathFromKey(k));
  }
}
