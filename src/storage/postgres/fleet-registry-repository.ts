import { timingSafeEqual } from 'node:crypto';
import type { AgentInfo, AgentRecord, EnrollmentTokenInfo, TokenVerdict } from '../store.js';
import { AGENT_COLUMNS, agentInfo, tokenInfo, type AgentRow, type TokenRow } from '../fleet-rows.js';
import type { PostgresDatabase } from './postgres-database.js';

/** The fleet: agents, their certificates and liveness, and the single-use enrollment tokens. */
export class PostgresFleetRegistryRepository {
  readonly #db: PostgresDatabase;

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  async upsertAgent(agent: AgentRecord): Promise<void> {
    await this.#db.query('INSERT INTO agents (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name', [agent.id, agent.name]);
  }

  async listAgents(): Promise<readonly AgentRecord[]> {
    return (await this.#db.query<{ id: string; name: string }>('SELECT id, name FROM agents ORDER BY id')).rows.map((r) => ({ id: r.id, name: r.name }));
  }

  async createToken(token: { readonly id: string; readonly secretSha256: string; readonly createdAt: string; readonly expiresAt: string }): Promise<void> {
    await this.#db.query('INSERT INTO enrollment_tokens (id, secret_sha256, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
      token.id,
      token.secretSha256,
      token.createdAt,
      token.expiresAt,
    ]);
  }

  /** Uses a token once; the row is locked, so two managers given the same token cannot both accept it. */
  async consumeToken(id: string, secretSha256: string, at: string, usedBy: string): Promise<TokenVerdict> {
    return this.#db.transaction(async (q): Promise<TokenVerdict> => {
      const row = (
        await q.query<{ secret_sha256: string; expires_at: string; used_at: string | null }>(
          'SELECT secret_sha256, expires_at, used_at FROM enrollment_tokens WHERE id = $1 FOR UPDATE',
          [id],
        )
      ).rows[0];
      // Compare even for an unknown id, against a dummy, so timing does not tell which ids exist.
      const expected = Buffer.from(row?.secret_sha256 ?? '0'.repeat(64), 'hex');
      const given = Buffer.from(/^[0-9a-f]{64}$/.test(secretSha256) ? secretSha256 : '1'.repeat(64), 'hex');
      const same = expected.length === given.length && timingSafeEqual(expected, given);
      if (row === undefined || !same) return 'unknown';
      if (row.used_at !== null) return 'used';
      if (row.expires_at <= at) return 'expired';
      await q.query('UPDATE enrollment_tokens SET used_at = $1, used_by = $2 WHERE id = $3', [at, usedBy, id]);
      return 'ok';
    });
  }

  async listTokens(since: string): Promise<readonly EnrollmentTokenInfo[]> {
    const { rows } = await this.#db.query<TokenRow>(
      'SELECT id, created_at, expires_at, used_at, used_by FROM enrollment_tokens WHERE created_at >= $1 ORDER BY created_at DESC, id',
      [since],
    );
    return rows.map(tokenInfo);
  }

  /** A token being consumed holds its row lock: the revocation waits, then finds it used. */
  async revokeToken(id: string, at: string): Promise<boolean> {
    const result = await this.#db.query('UPDATE enrollment_tokens SET expires_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1', [at, id]);
    return (result.rowCount ?? 0) > 0;
  }

  /** Registers under the next free id; a lock makes two managers enrolling at once take different ids. */
  async registerAgent(name: string, at: string, group?: string, machineId?: string): Promise<AgentRecord> {
    return this.#db.transaction(async (q) => {
      await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`custos.register.${this.#db.schema}`]);
      const { rows } = await q.query<{ max: string }>("SELECT coalesce(max(id::bigint), 0) AS max FROM agents WHERE id <> '000' AND id ~ '^[0-9]+$'");
      const id = String(Number(rows[0]?.max ?? 0) + 1).padStart(3, '0');
      await q.query('INSERT INTO agents (id, name, created_at, last_seen, group_name, machine_id) VALUES ($1, $2, $3, $3, $4, $5)', [
        id,
        name,
        at,
        group ?? null,
        machineId ?? null,
      ]);
      return { id, name };
    });
  }

  async reenrollAgent(id: string, update: { readonly name: string; readonly group?: string; readonly machineId?: string; readonly at: string }): Promise<void> {
    await this.#db.query(
      "UPDATE agents SET name = $1, group_name = coalesce($2, group_name), machine_id = coalesce($3, machine_id), last_seen = $4, silent_since = NULL WHERE id = $5 AND id <> '000'",
      [update.name, update.group ?? null, update.machineId ?? null, update.at, id],
    );
  }

  async renameAgent(id: string, name: string): Promise<boolean> {
    return ((await this.#db.query("UPDATE agents SET name = $1 WHERE id = $2 AND id <> '000'", [name, id])).rowCount ?? 0) === 1;
  }

  async setAgentGroup(id: string, group: string | undefined): Promise<boolean> {
    return ((await this.#db.query("UPDATE agents SET group_name = $1 WHERE id = $2 AND id <> '000'", [group ?? null, id])).rowCount ?? 0) === 1;
  }

  async setAgentCertificate(id: string, certSha256: string): Promise<void> {
    await this.#db.query('UPDATE agents SET cert_sha256 = $1 WHERE id = $2', [certSha256, id]);
  }

  async getAgent(id: string): Promise<AgentInfo | undefined> {
    const row = (await this.#db.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1`, [id])).rows[0];
    return row === undefined ? undefined : agentInfo(row);
  }

  async listAgentInfos(): Promise<readonly AgentInfo[]> {
    return (await this.#db.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents ORDER BY id`)).rows.map(agentInfo);
  }

  async revokeAgent(id: string, at: string): Promise<boolean> {
    return ((await this.#db.query('UPDATE agents SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])).rowCount ?? 0) > 0;
  }

  /** Records that the agent was heard from, returning when it had been marked silent (read and cleared at once). */
  async touchAgent(id: string, at: string): Promise<string | undefined> {
    const { rows } = await this.#db.query<{ silent_since: string | null }>(
      'UPDATE agents a SET last_seen = $2, silent_since = NULL FROM (SELECT id, silent_since FROM agents WHERE id = $1 FOR UPDATE) old WHERE a.id = old.id RETURNING old.silent_since',
      [id, at],
    );
    return rows[0]?.silent_since ?? undefined;
  }

  async markAgentSilent(id: string, since: string): Promise<void> {
    await this.#db.query('UPDATE agents SET silent_since = $1 WHERE id = $2 AND silent_since IS NULL', [since, id]);
  }
}
