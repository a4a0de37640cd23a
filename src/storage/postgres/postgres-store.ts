import { randomUUID } from 'node:crypto';
import type { NoiseState } from '../../core/auto-ignore.js';
import type { AgentAlert, AnyAlert } from '../../core/build-alert.js';
import type { QueuedEmail } from '../../core/email-plan.js';
import type { FileState } from '../../core/file-state.js';
import type {
  AgentInfo,
  AgentRecord,
  AgentUsage,
  BaselineFingerprint,
  BatchBookkeeping,
  ChainAnchor,
  ChainReport,
  ChangeBatch,
  EmailQueueEntry,
  HistoryQuery,
  KeyRange,
  MaintenanceWindow,
  RetentionOutcome,
  SentEmail,
  Store,
  StoredEvent,
  TokenVerdict,
  EnrollmentTokenInfo,
} from '../store.js';
import type { PeriodicLeadership } from '../periodic-leadership.js';
import { AdvisoryLeadership } from './advisory-leadership.js';
import { PostgresAgentMetaRepository } from './agent-meta-repository.js';
import { PostgresAlertQueueRepository } from './alert-queue-repository.js';
import { PostgresBaselineRepository } from './baseline-repository.js';
import { PostgresBatchSequenceRepository } from './batch-sequence-repository.js';
import { PostgresEmailQueueRepository } from './email-queue-repository.js';
import { PostgresFleetRegistryRepository } from './fleet-registry-repository.js';
import { PostgresHistoryRepository } from './history-repository.js';
import { PostgresMaintenanceRepository } from './maintenance-repository.js';
import { PostgresDatabase, type Queryable } from './postgres-database.js';

/**
 * The store on PostgreSQL, for fleets past one machine: several managers may share one database. Each repository
 * owns a group of tables; they share one pool, and `commit` runs a whole batch in one transaction under the
 * agent's advisory lock, so a batch is applied exactly once per (agent, sequence) however the managers race.
 */
export class PostgresStore implements Store {
  readonly database: PostgresDatabase;
  readonly #baseline: PostgresBaselineRepository;
  readonly #history: PostgresHistoryRepository;
  readonly #alerts: PostgresAlertQueueRepository;
  readonly #email: PostgresEmailQueueRepository;
  readonly #fleet: PostgresFleetRegistryRepository;
  readonly #sequences: PostgresBatchSequenceRepository;
  readonly #maintenance: PostgresMaintenanceRepository;
  readonly #meta: PostgresAgentMetaRepository;

  private constructor(db: PostgresDatabase, alertLeaseMs: number | undefined) {
    this.database = db;
    this.#baseline = new PostgresBaselineRepository(db);
    this.#history = new PostgresHistoryRepository(db);
    this.#alerts = new PostgresAlertQueueRepository(db, randomUUID(), alertLeaseMs);
    this.#email = new PostgresEmailQueueRepository(db);
    this.#fleet = new PostgresFleetRegistryRepository(db);
    this.#sequences = new PostgresBatchSequenceRepository(db);
    this.#maintenance = new PostgresMaintenanceRepository(db);
    this.#meta = new PostgresAgentMetaRepository(db);
  }

  /**
   * Connects to `url` (`postgres://…`, optionally `?schema=NAME`) and brings the schema up to date.
   * `mustExist`: refuse a schema holding no store instead of creating one. `alertLeaseMs`: how long this store's claim on the alerts it queues holds against other managers.
   */
  static async open(
    url: string,
    options: { readonly maxConnections?: number; readonly alertLeaseMs?: number; readonly mustExist?: boolean } = {},
  ): Promise<PostgresStore> {
    const db = await PostgresDatabase.open(url, {
      ...(options.maxConnections === undefined ? {} : { max: options.maxConnections }),
      mustExist: options.mustExist === true,
    });
    return new PostgresStore(db, options.alertLeaseMs);
  }

  async commit(batch: ChangeBatch): Promise<void> {
    // A month's partition is made before its first record comes, outside the batch's transaction.
    await this.#history.retention.ensurePartitions(batch.events.map((e) => e.timestamp));
    await this.database.transaction(async (q) => {
      const { agentId } = batch;
      // Everything that reads then writes an agent's state (sequence, chain head) runs under its lock.
      await this.#sequences.lockAgent(q, agentId);
      if (batch.sequence !== undefined) await this.#sequences.advance(q, agentId, batch.sequence, batch.sequenceSha256);
      await this.#sequences.markSeen(q, agentId, batch.resyncSeen ?? []);
      await this.#baseline.apply(q, agentId, batch.upserts, batch.deletes);
      const alertIds = await this.#history.append(q, agentId, batch.events);
      await this.#alerts.enqueue(q, alertIds, false);
      for (const alert of batch.agentAlerts ?? []) await this.#history.insertAgentAlert(q, alert);
      await this.#alerts.enqueue(
        q,
        (batch.agentAlerts ?? []).map((a) => a.id),
        true,
      );
      await this.#baseline.upsertNoise(q, agentId, batch.noise ?? []);
      if (batch.bookkeeping !== undefined) await this.#keepBooks(q, agentId, batch.bookkeeping);
    });
  }

  /** A batch's bookkeeping, in its transaction (see `BatchBookkeeping`). */
  async #keepBooks(q: Queryable, agentId: string, books: BatchBookkeeping): Promise<void> {
    if (books.clearResyncSeen === true) await this.#sequences.clearSeen(agentId, q);
    if (books.rootsScanned !== undefined) await this.#baseline.markRootsScanned(agentId, books.rootsScanned.roots, books.rootsScanned.at, q);
    for (const { key, value, keep } of books.meta ?? []) await this.#meta.set(agentId, key, value, keep === true, q);
  }

  async recordAgentAlert(alert: AgentAlert): Promise<void> {
    await this.database.transaction(async (q) => {
      await this.#history.insertAgentAlert(q, alert);
      await this.#alerts.enqueue(q, [alert.id], true);
    });
  }

  async #agentNames(): Promise<ReadonlyMap<string, string>> {
    return new Map((await this.#fleet.listAgents()).map((a) => [a.id, a.name]));
  }

  upsertAgent = (agent: AgentRecord): Promise<void> => this.#fleet.upsertAgent(agent);
  listAgents = (): Promise<readonly AgentRecord[]> => this.#fleet.listAgents();
  readFingerprints = (agentId: string, ranges: readonly KeyRange[]): AsyncIterable<readonly BaselineFingerprint[]> =>
    this.#baseline.readFingerprints(agentId, ranges);
  getBaselineState = (agentId: string, path: Buffer): Promise<FileState | undefined> => this.#baseline.getState(agentId, path);
  getBaselineStates = (agentId: string, paths: readonly Buffer[]): Promise<ReadonlyMap<string, FileState>> => this.#baseline.getStates(agentId, paths);
  countBaseline = (agentId: string): Promise<number> => this.#baseline.count(agentId);
  scannedRoots = (agentId: string): Promise<readonly Buffer[]> => this.#baseline.scannedRoots(agentId);
  markRootsScanned = (agentId: string, roots: readonly Buffer[], at: string): Promise<void> => this.#baseline.markRootsScanned(agentId, roots, at);
  unmarkRootsScanned = (agentId: string, roots: readonly Buffer[]): Promise<void> => this.#baseline.unmarkRootsScanned(agentId, roots);
  getNoise = (agentId: string, path: Buffer): Promise<NoiseState | undefined> => this.#baseline.getNoise(agentId, path);
  getMeta = (agentId: string, key: string): Promise<string | undefined> => this.#meta.get(agentId, key);
  agentUsage = (agentId: string): Promise<AgentUsage> => this.#meta.usage(agentId);
  setMeta = (agentId: string, key: string, value: string): Promise<void> => this.#meta.set(agentId, key, value);
  queryEvents = (query: HistoryQuery): AsyncIterable<StoredEvent> => this.#history.queryEvents(query);

  async *queryAlerts(query: HistoryQuery): AsyncIterable<AnyAlert> {
    yield* this.#history.queryAlerts(query, await this.#agentNames());
  }

  undeliveredAlerts = (limit: number): Promise<readonly AnyAlert[]> => this.#alerts.claim(limit, () => this.#agentNames());
  orphanedAlerts = (limit: number): Promise<readonly AnyAlert[]> => this.#alerts.claim(limit, () => this.#agentNames(), true);
  markAlertsDelivered = (ids: readonly string[]): Promise<void> => this.#alerts.markDelivered(ids);
  queueEmails = (entries: readonly EmailQueueEntry[], atMs: number): Promise<number> => this.#email.queue(entries, atMs);
  pendingEmails = (limit: number): Promise<readonly QueuedEmail[]> => this.#email.pending(limit);
  recordEmailSent = (mail: SentEmail): Promise<void> => this.#email.recordSent(mail);
  emailsSentSince = (sinceMs: number): Promise<number> => this.#email.sentSince(sinceMs);
  verifyChain = (agentId?: string): Promise<ChainReport> => this.#history.verifyChain(agentId);
  chainHead = (agentId: string): Promise<{ readonly lastId: number; readonly lastHash: string; readonly length: number } | undefined> =>
    this.#history.chainHead(agentId);
  eventHash = (agentId: string, eventId: number): Promise<string | undefined> => this.#history.eventHash(agentId, eventId);
  hasChainHash = (agentId: string, hash: string): Promise<boolean> => this.#history.hasChainHash(agentId, hash);
  countChanges = (agentId: string, path: Buffer, atMost: number): Promise<number> => this.#history.countChanges(agentId, path, atMost);
  dropHistoryBefore = (before: string): Promise<RetentionOutcome> => this.#history.retention.dropBefore(before);
  chainAnchors = (): Promise<readonly ChainAnchor[]> => this.#history.retention.anchors();
  startMaintenance = (window: Omit<MaintenanceWindow, 'id' | 'endedAt'>): Promise<MaintenanceWindow> => this.#maintenance.start(window);
  endMaintenance = (agentId: string | undefined, at: string): Promise<number> => this.#maintenance.end(agentId, at);
  activeMaintenance = (agentId: string, at: string): Promise<MaintenanceWindow | undefined> => this.#maintenance.active(agentId, at);
  listMaintenance = (): Promise<readonly MaintenanceWindow[]> => this.#maintenance.list();
  createEnrollmentToken = (token: {
    readonly id: string;
    readonly secretSha256: string;
    readonly createdAt: string;
    readonly expiresAt: string;
  }): Promise<void> => this.#fleet.createToken(token);
  consumeEnrollmentToken = (id: string, secretSha256: string, at: string, usedBy: string): Promise<TokenVerdict> =>
    this.#fleet.consumeToken(id, secretSha256, at, usedBy);
  listEnrollmentTokens = (since: string): Promise<readonly EnrollmentTokenInfo[]> => this.#fleet.listTokens(since);
  revokeEnrollmentToken = (id: string, at: string): Promise<boolean> => this.#fleet.revokeToken(id, at);
  registerAgent = (name: string, at: string, group?: string, machineId?: string): Promise<AgentRecord> => this.#fleet.registerAgent(name, at, group, machineId);
  reenrollAgent = (id: string, update: { readonly name: string; readonly group?: string; readonly machineId?: string; readonly at: string }): Promise<void> =>
    this.#fleet.reenrollAgent(id, update);
  renameAgent = (id: string, name: string): Promise<boolean> => this.#fleet.renameAgent(id, name);
  setAgentGroup = (id: string, group: string | undefined): Promise<boolean> => this.#fleet.setAgentGroup(id, group);
  setAgentCertificate = (id: string, certSha256: string): Promise<void> => this.#fleet.setAgentCertificate(id, certSha256);
  getAgent = (id: string): Promise<AgentInfo | undefined> => this.#fleet.getAgent(id);
  listAgentInfos = (): Promise<readonly AgentInfo[]> => this.#fleet.listAgentInfos();
  revokeAgent = (id: string, at: string): Promise<boolean> => this.#fleet.revokeAgent(id, at);
  touchAgent = (id: string, at: string): Promise<string | undefined> => this.#fleet.touchAgent(id, at);
  markAgentSilent = (id: string, since: string): Promise<void> => this.#fleet.markAgentSilent(id, since);
  lastSequence = (agentId: string): Promise<number> => this.#sequences.lastSequence(agentId);
  lastBatchSha256 = (agentId: string): Promise<string | undefined> => this.#sequences.lastBatchSha256(agentId);
  clearResyncSeen = (agentId: string): Promise<void> => this.#sequences.clearSeen(agentId);
  unseenByResync = (agentId: string): Promise<readonly Buffer[]> => this.#sequences.unseen(agentId);

  /** Leadership of the periodic work named `name` among the managers sharing this database. */
  leadership(name: string): PeriodicLeadership {
    const leadership = new AdvisoryLeadership(this.database, name);
    this.#leaderships.push(leadership);
    return leadership;
  }

  readonly #leaderships: AdvisoryLeadership[] = [];

  async close(): Promise<void> {
    await Promise.all(this.#leaderships.map((l) => l.close()));
    await this.database.close();
  }
}
