import Database from 'better-sqlite3';
import { timingSafeEqual } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NoiseState } from '../../core/auto-ignore.js';
import { buildAlert, type AgentAlert, type AnyAlert } from '../../core/build-alert.js';
import { CustosError } from '../../core/custos-error.js';
import { BASELINE_APPLICATION_ID, claimApplicationId } from './application-id.js';
import type { QueuedEmail } from '../../core/email-plan.js';
import { chainHash, decodeEventRecord, encodeEventRecord, GENESIS_HASH } from '../../core/event-record.js';
import type { FileState } from '../../core/file-state.js';
import { pathFromKey, pathKey, subtreeKeyRange } from '../../core/path-bytes.js';
import { ensureDirectory } from '../../platform/ensure-directory.js';
import { checkChain, type ChainHead, type ChainRow } from '../check-chain.js';
import { SequenceError, type AgentInfo, type AgentRecord, type BaselineFingerprint, type ChainReport, type ChangeBatch, type EmailQueueEntry, type HistoryQuery, type KeyRange, type MaintenanceWindow, type SentEmail, type Store, type StoredEvent, type TokenVerdict } from '../store.js';
import { BASELINE_COLUMNS, rowToState, stateToRow } from './baseline-rows.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteEmailQueue } from './sqlite-email-queue.js';
import { WalCheckpointer } from './wal-checkpointer.js';

// Pages of 512 rows: a larger page outlives a few young-generation collections while the scan merges it, is
// promoted, and on a million-file re-check the heap swells (2,000 rows: 189 MB RSS, 512: 148 MB, same time).
const READ_CHUNK = 512;
const MANY_CHUNK = 200;
const COLUMNS = BASELINE_COLUMNS.join(', ');

/**
 * The default store: one SQLite file in WAL mode. Writes go through one connection in batched transactions with
 * prepared statements; baseline reads for a scan use a second, read-only connection, so the scan sees one
 * consistent snapshot while its own changes are being committed.
 */
export class SqliteStore implements Store {
  readonly path: string;
  readonly #db: Database.Database;
  #reader: Database.Database | undefined;
  readonly #stmts: ReturnType<typeof prepareStatements>;
  /** Statements prepared on first use; each SQL text is used in one place, so its pluck/raw mode never varies. */
  readonly #prepared = new Map<string, Database.Statement>();

  readonly #checkpointer: WalCheckpointer | undefined;
  readonly #email: SqliteEmailQueue;

  private constructor(path: string, db: Database.Database, checkpointer: WalCheckpointer | undefined) {
    this.path = path;
    this.#db = db;
    this.#checkpointer = checkpointer;
    this.#stmts = prepareStatements(db);
    this.#email = new SqliteEmailQueue(db);
  }

  #statement(sql: string): Database.Statement {
    let statement = this.#prepared.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#prepared.set(sql, statement);
    }
    return statement;
  }

  /**
   * Opens (creating if needed) the store at `path` and brings its schema up to date. `cacheMb` is SQLite's page
   * cache: the manager keeps the default for its many agents' baselines; a scan writes its baseline in key order
   * and does as well with less (200,000-file first scan: same wall time, 233 -> 186 MB RSS at 16 MB).
   * `backgroundCheckpoints` moves WAL checkpoints to a thread of their own (the manager, whose commits are its
   * bottleneck; a scan's hash workers need the cores more).
   */
  static open(path: string, options: { readonly cacheMb?: number; readonly backgroundCheckpoints?: boolean } = {}): SqliteStore {
    let db: Database.Database;
    try {
      ensureDirectory(dirname(path));
      // The baseline describes every monitored file (hashes of /etc/shadow included): owner-only, like the WAL
      // and shared-memory files SQLite creates beside it with the same permissions.
      closeSync(openSync(path, 'a', 0o600));
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma(`cache_size = -${Math.round((options.cacheMb ?? 64) * 1024)}`);
      db.pragma('temp_store = MEMORY');
      claimApplicationId(db, path, BASELINE_APPLICATION_ID);
      migrate(db);
      // With a checkpoint thread, SQLite's own checkpoint is only the backstop (64 MB of WAL instead of 4 MB).
      if (options.backgroundCheckpoints === true) db.pragma('wal_autocheckpoint = 16384');
    } catch (error) {
      if (error instanceof CustosError) throw error;
      throw new CustosError('STORE_FAILED', `failed to open the SQLite store ${path}: ${(error as Error).message}`, { cause: error });
    }
    return new SqliteStore(path, db, options.backgroundCheckpoints === true ? new WalCheckpointer(path) : undefined);
  }

  async upsertAgent(agent: AgentRecord): Promise<void> {
    this.#stmts.upsertAgent.run(agent.id, agent.name);
  }

  async listAgents(): Promise<readonly AgentRecord[]> {
    return (this.#statement('SELECT id, name FROM agents ORDER BY id').raw(true).all() as [string, string][]).map(([id, name]) => ({ id, name }));
  }

  async *readFingerprints(agentId: string, ranges: readonly KeyRange[]): AsyncIterable<readonly BaselineFingerprint[]> {
    const reader = (this.#reader ??= openReader(this.path));
    const first = reader.prepare('SELECT path_key, fingerprint FROM baseline WHERE agent_id = ? AND path_key >= ? AND path_key < ? ORDER BY path_key LIMIT ?').raw(true);
    const next = reader.prepare('SELECT path_key, fingerprint FROM baseline WHERE agent_id = ? AND path_key > ? AND path_key < ? ORDER BY path_key LIMIT ?').raw(true);
    // One read transaction over all pages: the snapshot does not move while the scan commits its changes, so
    // paging by key is safe and no statement stays open across the awaits of the consumer.
    reader.prepare('BEGIN').run();
    try {
      for (const range of ranges) {
        let rows = first.all(agentId, range.from, range.to, READ_CHUNK) as [Buffer, string][];
        while (rows.length > 0) {
          yield rows.map(([key, fingerprint]) => ({ key, fingerprint }));
          if (rows.length < READ_CHUNK) break;
          rows = next.all(agentId, (rows[rows.length - 1] as [Buffer, string])[0], range.to, READ_CHUNK) as [Buffer, string][];
        }
      }
    } finally {
      reader.prepare('COMMIT').run();
    }
  }

  async getBaselineStates(agentId: string, paths: readonly Buffer[]): Promise<ReadonlyMap<string, FileState>> {
    const out = new Map<string, FileState>();
    for (let i = 0; i < paths.length; i += MANY_CHUNK) {
      const keys = paths.slice(i, i + MANY_CHUNK).map((p) => pathKey(p));
      const stmt = this.#manyStatement(keys.length);
      for (const row of stmt.all(agentId, ...keys) as unknown[][]) {
        const state = rowToState(row);
        out.set(state.path.toString('latin1'), state);
      }
    }
    return out;
  }

  #many = new Map<number, Database.Statement>();

  #manyStatement(count: number): Database.Statement {
    let stmt = this.#many.get(count);
    if (stmt === undefined) {
      stmt = this.#statement(`SELECT ${COLUMNS} FROM baseline WHERE agent_id = ? AND path_key IN (${Array(count).fill('?').join(', ')})`).raw(true).safeIntegers(true);
      this.#many.set(count, stmt);
    }
    return stmt;
  }

  async getBaselineState(agentId: string, path: Buffer): Promise<FileState | undefined> {
    const row = this.#stmts.getState.get(agentId, pathKey(path)) as unknown[] | undefined;
    return row === undefined ? undefined : rowToState(row);
  }

  async countBaseline(agentId: string): Promise<number> {
    return Number((this.#stmts.countBaseline.get(agentId) as unknown[])[0]);
  }

  async commit(batch: ChangeBatch): Promise<void> {
    const s = this.#stmts;
    this.#db.transaction(() => {
      if (batch.sequence !== undefined) {
        const last = Number((s.lastSeq.get(batch.agentId) as [number] | undefined)?.[0] ?? 0);
        if (batch.sequence !== last + 1) throw new SequenceError(last + 1, batch.sequence);
        s.setSeq.run(batch.agentId, batch.sequence, batch.sequenceSha256 ?? null);
      }
      for (const path of batch.resyncSeen ?? []) s.markSeen.run(batch.agentId, pathKey(path));
      for (const state of batch.upserts) s.upsertState.run(batch.agentId, ...stateToRow(state));
      for (const path of batch.deletes) s.deleteState.run(batch.agentId, pathKey(path));
      if (batch.events.length > 0) {
        const head = s.getHead.get(batch.agentId) as [bigint, string, bigint] | undefined;
        let prev = head === undefined ? GENESIS_HASH : head[1];
        let length = head === undefined ? 0 : Number(head[2]);
        let lastId = 0n;
        for (const record of batch.events) {
          const data = encodeEventRecord(record);
          const hash = chainHash(prev, data);
          const info = s.insertEvent.run(batch.agentId, record.timestamp, record.change.kind, record.outcome, pathKey(record.change.path), data, prev, hash);
          lastId = BigInt(info.lastInsertRowid);
          if (record.alertId !== undefined) {
            s.insertAlert.run(record.alertId, lastId, batch.agentId, record.timestamp, record.rule?.id ?? 0, record.rule?.level ?? 0);
            s.queueAlert.run(record.alertId, 0);
          }
          prev = hash;
          length++;
        }
        s.upsertHead.run(batch.agentId, lastId, prev, length);
      }
      for (const alert of batch.agentAlerts ?? []) {
        this.#statement('INSERT INTO agent_alerts (id, agent_id, ts, rule_id, level, json) VALUES (?, ?, ?, ?, ?, ?)').run(alert.id, alert.agent.id, alert.timestamp, alert.rule.id, alert.rule.level, JSON.stringify(alert));
        s.queueAlert.run(alert.id, 1);
      }
      for (const { path, state } of batch.noise ?? []) {
        s.upsertNoise.run(batch.agentId, pathKey(path), state.windowStartMs, state.changes, state.rolledUp);
      }
    })();
  }

  async scannedRoots(agentId: string): Promise<readonly Buffer[]> {
    return (this.#stmts.scannedRoots.all(agentId) as [Buffer][]).map((r) => r[0]);
  }

  async markRootsScanned(agentId: string, roots: readonly Buffer[], at: string): Promise<void> {
    this.#db.transaction(() => {
      for (const root of roots) this.#stmts.markRoot.run(agentId, root, at);
    })();
  }

  async unmarkRootsScanned(agentId: string, roots: readonly Buffer[]): Promise<void> {
    const remove = this.#statement('DELETE FROM scanned_roots WHERE agent_id = ? AND path = ?');
    this.#db.transaction(() => {
      for (const root of roots) remove.run(agentId, root);
    })();
  }

  async getMeta(agentId: string, key: string): Promise<string | undefined> {
    const row = this.#stmts.getMeta.get(agentId, key) as [string] | undefined;
    return row?.[0];
  }

  async setMeta(agentId: string, key: string, value: string): Promise<void> {
    this.#stmts.setMeta.run(agentId, key, value);
  }

  async *queryEvents(query: HistoryQuery): AsyncIterable<StoredEvent> {
    const { sql, params } = historySql('SELECT id, hash, data FROM events', 'id', query);
    for (const row of this.#statement(sql).raw(true).all(...params) as [number, string, string][]) {
      yield { id: row[0], hash: row[1], record: decodeEventRecord(row[2]) };
    }
  }

  async *queryAlerts(query: HistoryQuery): AsyncIterable<AnyAlert> {
    const names = new Map((await this.listAgents()).map((a) => [a.id, a.name]));
    const base = 'SELECT a.rowid AS seq, a.id, e.data FROM alerts a JOIN events e ON e.id = a.event_id';
    const { sql, params } = historySql(base, 'seq', query, { agent: 'a.agent_id', ts: 'a.ts', path: 'e.path_key' });
    const all: AnyAlert[] = [];
    for (const [, id, data] of this.#statement(sql).raw(true).all(...params) as [number, string, string][]) {
      const alert = fileAlertFromRecord(id, data, names);
      if (alert !== undefined) all.push(alert);
    }
    if (query.path === undefined) {
      const agentSql = historySql('SELECT rowid AS seq, json FROM agent_alerts', 'seq', query);
      for (const [, json] of this.#statement(agentSql.sql).raw(true).all(...agentSql.params) as [number, string][]) all.push(JSON.parse(json) as AgentAlert);
      all.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    }
    yield* query.limit === undefined ? all : all.slice(-query.limit);
  }

  async recordAgentAlert(alert: AgentAlert): Promise<void> {
    const insert = this.#statement('INSERT INTO agent_alerts (id, agent_id, ts, rule_id, level, json) VALUES (?, ?, ?, ?, ?, ?)');
    this.#db.transaction(() => {
      insert.run(alert.id, alert.agent.id, alert.timestamp, alert.rule.id, alert.rule.level, JSON.stringify(alert));
      this.#stmts.queueAlert.run(alert.id, 1);
    })();
  }

  async undeliveredAlerts(limit: number): Promise<readonly AnyAlert[]> {
    const queued = this.#statement('SELECT alert_id, agent_alert FROM alert_outbox ORDER BY rowid LIMIT ?').raw(true).all(limit) as [string, number][];
    if (queued.length === 0) return [];
    const names = new Map((await this.listAgents()).map((a) => [a.id, a.name]));
    const fileAlert = this.#statement('SELECT e.data FROM alerts a JOIN events e ON e.id = a.event_id WHERE a.id = ?').pluck(true);
    const agentAlert = this.#statement('SELECT json FROM agent_alerts WHERE id = ?').pluck(true);
    const out: AnyAlert[] = [];
    for (const [id, isAgentAlert] of queued) {
      if (isAgentAlert === 1) {
        const json = agentAlert.get(id) as string | undefined;
        if (json !== undefined) out.push(JSON.parse(json) as AgentAlert);
      } else {
        const data = fileAlert.get(id) as string | undefined;
        const alert = data === undefined ? undefined : fileAlertFromRecord(id, data, names);
        if (alert !== undefined) out.push(alert);
      }
    }
    return out;
  }

  async markAlertsDelivered(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const remove = this.#statement('DELETE FROM alert_outbox WHERE alert_id = ?');
    this.#db.transaction(() => {
      for (const id of ids) remove.run(id);
    })();
  }

  async queueEmails(entries: readonly EmailQueueEntry[], atMs: number): Promise<number> {
    return this.#email.queue(entries, atMs);
  }

  async pendingEmails(limit: number): Promise<readonly QueuedEmail[]> {
    return this.#email.pending(limit);
  }

  async recordEmailSent(mail: SentEmail): Promise<void> {
    this.#email.recordSent(mail);
  }

  async emailsSentSince(sinceMs: number): Promise<number> {
    return this.#email.sentSince(sinceMs);
  }

  async chainHead(agentId: string): Promise<{ lastId: number; lastHash: string; length: number } | undefined> {
    const row = this.#statement('SELECT last_id, last_hash, length FROM chain_heads WHERE agent_id = ?').raw(true).get(agentId) as [number, string, number] | undefined;
    return row === undefined ? undefined : { lastId: Number(row[0]), lastHash: String(row[1]), length: Number(row[2]) };
  }

  async eventHash(agentId: string, eventId: number): Promise<string | undefined> {
    const row = this.#statement('SELECT hash FROM events WHERE id = ? AND agent_id = ?').pluck().get(eventId, agentId) as string | undefined;
    return row;
  }

  async hasChainHash(agentId: string, hash: string): Promise<boolean> {
    // No index on hash: a full pass over the agent's history, which `verify` makes anyway.
    return this.#statement('SELECT 1 FROM events WHERE agent_id = ? AND hash = ? LIMIT 1').pluck().get(agentId, hash) !== undefined;
  }

  async verifyChain(agentId?: string): Promise<ChainReport> {
    const heads = new Map<string, ChainHead>();
    const headRows = this.#statement('SELECT agent_id, last_hash, length FROM chain_heads').raw(true).all() as [string, string, number][];
    for (const [agent, lastHash, length] of headRows) {
      if (agentId === undefined || agent === agentId) heads.set(agent, { lastHash, length });
    }
    const where = agentId === undefined ? '' : 'WHERE agent_id = ?';
    // Its own statement: an iterating statement is busy until done, and two verifications may overlap.
    const stmt = this.#db.prepare(`SELECT id, agent_id, ts, kind, outcome, path_key, data, prev_hash, hash FROM events ${where} ORDER BY agent_id, id`).raw(true);
    const rows = (agentId === undefined ? stmt.iterate() : stmt.iterate(agentId)) as IterableIterator<unknown[]>;
    const mapped = (function* (): Generator<ChainRow> {
      for (const r of rows) {
        yield { id: Number(r[0]), agentId: String(r[1]), ts: String(r[2]), kind: String(r[3]), outcome: String(r[4]), pathKey: r[5] as Buffer, data: String(r[6]), prevHash: String(r[7]), hash: String(r[8]) };
      }
    })();
    return checkChain(mapped, heads);
  }

  async getNoise(agentId: string, path: Buffer): Promise<NoiseState | undefined> {
    const row = this.#stmts.getNoise.get(agentId, pathKey(path)) as [number, number, number] | undefined;
    return row === undefined ? undefined : { windowStartMs: row[0], changes: row[1], rolledUp: row[2] };
  }

  async startMaintenance(window: Omit<MaintenanceWindow, 'id' | 'endedAt'>): Promise<MaintenanceWindow> {
    const info = this.#db
      .prepare('INSERT INTO maintenance (agent_id, starts_at, ends_at, started_by, reason) VALUES (?, ?, ?, ?, ?)')
      .run(window.agentId ?? null, window.startsAt, window.endsAt, window.startedBy, window.reason ?? null);
    return { ...window, id: Number(info.lastInsertRowid) };
  }

  async endMaintenance(agentId: string | undefined, at: string): Promise<number> {
    const sql = `UPDATE maintenance SET ended_at = ? WHERE ended_at IS NULL AND starts_at <= ? AND ends_at > ? AND agent_id ${agentId === undefined ? 'IS NULL' : '= ?'}`;
    const params = agentId === undefined ? [at, at, at] : [at, at, at, agentId];
    return this.#statement(sql).run(...params).changes;
  }

  async activeMaintenance(agentId: string, at: string): Promise<MaintenanceWindow | undefined> {
    const row = this.#db
      .prepare('SELECT * FROM maintenance WHERE ended_at IS NULL AND starts_at <= ? AND ends_at > ? AND (agent_id IS NULL OR agent_id = ?) ORDER BY ends_at DESC LIMIT 1')
      .get(at, at, agentId) as MaintenanceRow | undefined;
    return row === undefined ? undefined : toWindow(row);
  }

  async listMaintenance(): Promise<readonly MaintenanceWindow[]> {
    return (this.#statement('SELECT * FROM maintenance ORDER BY id').all() as MaintenanceRow[]).map(toWindow);
  }

  async createEnrollmentToken(token: { id: string; secretSha256: string; createdAt: string; expiresAt: string }): Promise<void> {
    this.#statement('INSERT INTO enrollment_tokens (id, secret_sha256, created_at, expires_at) VALUES (?, ?, ?, ?)').run(token.id, token.secretSha256, token.createdAt, token.expiresAt);
  }

  async consumeEnrollmentToken(id: string, secretSha256: string, at: string, usedBy: string): Promise<TokenVerdict> {
    return this.#db.transaction((): TokenVerdict => {
      const row = this.#statement('SELECT secret_sha256, expires_at, used_at FROM enrollment_tokens WHERE id = ?').get(id) as
        | { secret_sha256: string; expires_at: string; used_at: string | null }
        | undefined;
      // Compare even for an unknown id, against a dummy, so timing does not tell which ids exist.
      const expected = Buffer.from(row?.secret_sha256 ?? '0'.repeat(64), 'hex');
      const given = Buffer.from(/^[0-9a-f]{64}$/.test(secretSha256) ? secretSha256 : '1'.repeat(64), 'hex');
      const same = timingSafeEqual(expected, given);
      if (row === undefined || !same) return 'unknown';
      if (row.used_at !== null) return 'used';
      if (row.expires_at <= at) return 'expired';
      this.#statement('UPDATE enrollment_tokens SET used_at = ?, used_by = ? WHERE id = ?').run(at, usedBy, id);
      return 'ok';
    })();
  }

  async registerAgent(name: string, at: string, group?: string, machineId?: string): Promise<AgentRecord> {
    return this.#db.transaction(() => {
      const max = Number(this.#statement("SELECT coalesce(max(CAST(id AS INTEGER)), 0) FROM agents WHERE id <> '000'").pluck().get());
      const id = String(max + 1).padStart(3, '0');
      this.#statement('INSERT INTO agents (id, name, created_at, last_seen, group_name, machine_id) VALUES (?, ?, ?, ?, ?, ?)').run(id, name, at, at, group ?? null, machineId ?? null);
      return { id, name };
    })();
  }

  async reenrollAgent(id: string, update: { name: string; group?: string; machineId?: string; at: string }): Promise<void> {
    this.#statement("UPDATE agents SET name = ?, group_name = coalesce(?, group_name), machine_id = coalesce(?, machine_id), last_seen = ?, silent_since = NULL WHERE id = ? AND id <> '000'").run(
      update.name,
      update.group ?? null,
      update.machineId ?? null,
      update.at,
      id,
    );
  }

  async renameAgent(id: string, name: string): Promise<boolean> {
    return this.#statement("UPDATE agents SET name = ? WHERE id = ? AND id <> '000'").run(name, id).changes === 1;
  }

  async setAgentGroup(id: string, group: string | undefined): Promise<boolean> {
    return this.#statement("UPDATE agents SET group_name = ? WHERE id = ? AND id <> '000'").run(group ?? null, id).changes === 1;
  }

  async setAgentCertificate(id: string, certSha256: string): Promise<void> {
    this.#statement('UPDATE agents SET cert_sha256 = ? WHERE id = ?').run(certSha256, id);
  }

  async getAgent(id: string): Promise<AgentInfo | undefined> {
    const row = this.#statement('SELECT id, name, revoked_at, cert_sha256, last_seen, silent_since, group_name, machine_id FROM agents WHERE id = ?').get(id) as AgentRow | undefined;
    return row === undefined ? undefined : toAgentInfo(row);
  }

  async listAgentInfos(): Promise<readonly AgentInfo[]> {
    return (this.#statement('SELECT id, name, revoked_at, cert_sha256, last_seen, silent_since, group_name, machine_id FROM agents ORDER BY id').all() as AgentRow[]).map(toAgentInfo);
  }

  async revokeAgent(id: string, at: string): Promise<boolean> {
    return this.#statement('UPDATE agents SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes > 0;
  }

  async touchAgent(id: string, at: string): Promise<string | undefined> {
    return this.#db.transaction(() => {
      const silent = this.#statement('SELECT silent_since FROM agents WHERE id = ?').pluck().get(id) as string | null | undefined;
      this.#statement('UPDATE agents SET last_seen = ?, silent_since = NULL WHERE id = ?').run(at, id);
      return silent ?? undefined;
    })();
  }

  async markAgentSilent(id: string, since: string): Promise<void> {
    this.#statement('UPDATE agents SET silent_since = ? WHERE id = ? AND silent_since IS NULL').run(since, id);
  }

  async lastSequence(agentId: string): Promise<number> {
    return Number((this.#stmts.lastSeq.get(agentId) as [number] | undefined)?.[0] ?? 0);
  }

  async lastBatchSha256(agentId: string): Promise<string | undefined> {
    return (this.#statement('SELECT batch_sha256 FROM agent_sequences WHERE agent_id = ?').pluck().get(agentId) as string | null | undefined) ?? undefined;
  }

  async clearResyncSeen(agentId: string): Promise<void> {
    this.#statement('DELETE FROM resync_seen WHERE agent_id = ?').run(agentId);
  }

  async unseenByResync(agentId: string): Promise<readonly Buffer[]> {
    const keys = this.#db
      .prepare('SELECT b.path_key FROM baseline b WHERE b.agent_id = ? AND NOT EXISTS (SELECT 1 FROM resync_seen r WHERE r.agent_id = b.agent_id AND r.path_key = b.path_key) ORDER BY b.path_key')
      .pluck()
      .all(agentId) as Buffer[];
    return keys.map((k) => pathFromKey(k));
  }

  async close(): Promise<void> {
    await this.#checkpointer?.stop();
    this.#reader?.close();
    this.#reader = undefined;
    this.#db.close();
  }
}

interface AgentRow {
  id: string;
  name: string;
  revoked_at: string | null;
  cert_sha256: string | null;
  last_seen: string | null;
  silent_since: string | null;
  group_name: string | null;
  machine_id: string | null;
}

function toAgentInfo(r: AgentRow): AgentInfo {
  return {
    id: r.id,
    name: r.name,
    ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
    ...(r.cert_sha256 === null ? {} : { certSha256: r.cert_sha256 }),
    ...(r.last_seen === null ? {} : { lastSeen: r.last_seen }),
    ...(r.silent_since === null ? {} : { silentSince: r.silent_since }),
    ...(r.group_name === null ? {} : { group: r.group_name }),
    ...(r.machine_id === null ? {} : { machineId: r.machine_id }),
  };
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

function migrate(db: Database.Database): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > SQLITE_MIGRATIONS.length) {
    throw new CustosError('STORE_FAILED', `the store was written by a newer Custos (schema ${version}); upgrade Custos to open it`);
  }
  for (let v = version; v < SQLITE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function openReader(path: string): Database.Database {
  const reader = new Database(path, { readonly: true });
  reader.pragma('cache_size = -8192');
  return reader;
}

function prepareStatements(db: Database.Database) {
  const placeholders = BASELINE_COLUMNS.map(() => '?').join(', ');
  const updates = BASELINE_COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`).join(', ');
  return {
    upsertAgent: db.prepare('INSERT INTO agents (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name'),
    upsertState: db.prepare(`INSERT INTO baseline (agent_id, ${COLUMNS}) VALUES (?, ${placeholders}) ON CONFLICT (agent_id, path_key) DO UPDATE SET ${updates}`),
    deleteState: db.prepare('DELETE FROM baseline WHERE agent_id = ? AND path_key = ?'),
    getState: db.prepare(`SELECT ${COLUMNS} FROM baseline WHERE agent_id = ? AND path_key = ?`).raw(true).safeIntegers(true),
    countBaseline: db.prepare('SELECT count(*) FROM baseline WHERE agent_id = ?').raw(true),
    getHead: db.prepare('SELECT last_id, last_hash, length FROM chain_heads WHERE agent_id = ?').raw(true).safeIntegers(true),
    upsertHead: db.prepare('INSERT INTO chain_heads (agent_id, last_id, last_hash, length) VALUES (?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, length = excluded.length'),
    insertEvent: db.prepare('INSERT INTO events (agent_id, ts, kind, outcome, path_key, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    insertAlert: db.prepare('INSERT INTO alerts (id, event_id, agent_id, ts, rule_id, level) VALUES (?, ?, ?, ?, ?, ?)'),
    queueAlert: db.prepare('INSERT INTO alert_outbox (alert_id, agent_alert) VALUES (?, ?)'),
    scannedRoots: db.prepare('SELECT path FROM scanned_roots WHERE agent_id = ?').raw(true),
    markRoot: db.prepare('INSERT OR IGNORE INTO scanned_roots (agent_id, path, first_scan_at) VALUES (?, ?, ?)'),
    lastSeq: db.prepare('SELECT seq FROM agent_sequences WHERE agent_id = ?').raw(true),
    setSeq: db.prepare('INSERT INTO agent_sequences (agent_id, seq, batch_sha256) VALUES (?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq, batch_sha256 = excluded.batch_sha256'),
    markSeen: db.prepare('INSERT OR IGNORE INTO resync_seen (agent_id, path_key) VALUES (?, ?)'),
    getNoise: db.prepare('SELECT window_start_ms, changes, rolled_up FROM noise WHERE agent_id = ? AND path_key = ?').raw(true),
    upsertNoise: db.prepare(
      'INSERT INTO noise (agent_id, path_key, window_start_ms, changes, rolled_up) VALUES (?, ?, ?, ?, ?) ON CONFLICT (agent_id, path_key) DO UPDATE SET window_start_ms = excluded.window_start_ms, changes = excluded.changes, rolled_up = excluded.rolled_up',
    ),
    getMeta: db.prepare('SELECT value FROM agent_meta WHERE agent_id = ? AND key = ?').raw(true),
    setMeta: db.prepare('INSERT INTO agent_meta (agent_id, key, value) VALUES (?, ?, ?) ON CONFLICT (agent_id, key) DO UPDATE SET value = excluded.value'),
  };
}

/**
 * Builds the parameterised SELECT for a history query; with a limit, the newest rows, returned oldest first. The
 * first selected column must be the ordering one.
 */
function historySql(
  select: string,
  order: string,
  query: HistoryQuery,
  columns: { readonly agent: string; readonly ts: string; readonly path: string } = { agent: 'agent_id', ts: 'ts', path: 'path_key' },
): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.agentId !== undefined) {
    where.push(`${columns.agent} = ?`);
    params.push(query.agentId);
  }
  if (query.since !== undefined) {
    where.push(`${columns.ts} >= ?`);
    params.push(query.since);
  }
  if (query.path !== undefined) {
    const range = subtreeKeyRange(query.path);
    where.push(`${columns.path} >= ? AND ${columns.path} < ?`);
    params.push(range.from, range.to);
  }
  const filter = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
  if (query.limit === undefined) return { sql: `${select}${filter} ORDER BY ${order}`, params };
  params.push(query.limit);
  return { sql: `SELECT * FROM (${select}${filter} ORDER BY ${order} DESC LIMIT ?) ORDER BY 1`, params };
}

/** Rebuilds a file alert from the history record it was raised for (undefined for a record without a rule). */
function fileAlertFromRecord(id: string, data: string, names: ReadonlyMap<string, string>): AnyAlert | undefined {
  const r = decodeEventRecord(data);
  if (r.rule === undefined) return undefined;
  return buildAlert({
    id,
    timestamp: new Date(r.timestamp),
    agent: { id: r.agentId, name: names.get(r.agentId) ?? '' },
    rule: r.rule,
    change: r.change,
    verdict: r.verdict,
    ...(r.rolledUp === undefined ? {} : { rolledUp: r.rolledUp }),
  });
}
