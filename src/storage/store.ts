import type { NoiseState } from '../core/auto-ignore.js';
import type { AgentAlert, AnyAlert } from '../core/build-alert.js';
import type { QueuedEmail } from '../core/email-plan.js';
import type { EventRecord } from '../core/event-record.js';
import type { FileState } from '../core/file-state.js';

/** A baseline entry as a scan merges it: its path key and its fingerprint (see `storedFingerprint`). */
export interface BaselineFingerprint {
  readonly key: Buffer;
  readonly fingerprint: string;
}

/** A half-open range `[from, to)` of path keys (see `pathKey`). */
export interface KeyRange {
  readonly from: Buffer;
  readonly to: Buffer;
}

/**
 * Everything one step of analysis changes, applied in one transaction: the baseline moves, the history grows
 * (each record chained to the one before; a record with an `alertId` is an alert). Either all of it lands or
 * none of it does.
 */
export interface ChangeBatch {
  readonly agentId: string;
  readonly upserts: readonly FileState[];
  readonly deletes: readonly Buffer[];
  readonly events: readonly EventRecord[];
  /** Auto-ignore counters to keep. */
  readonly noise?: readonly { readonly path: Buffer; readonly state: NoiseState }[];
  /**
   * The agent's batch sequence number this batch applies: it must be the next one, or the whole batch is
   * refused (thrown) and nothing of it lands. This is what makes a batch apply exactly once.
   */
  readonly sequence?: number;
  /** The SHA-256 of the batch that `sequence` numbers, kept to tell a true replay from a lost agent state. */
  readonly sequenceSha256?: string;
  /** Paths reported by a full (resync) scan, remembered until the scan ends. */
  readonly resyncSeen?: readonly Buffer[];
  /** Agent alerts this batch raises, queued for delivery in the same transaction */
  readonly agentAlerts?: readonly AgentAlert[];
}

/** The fleet's view of one agent. */
export interface AgentInfo extends AgentRecord {
  readonly revokedAt?: string;
  readonly certSha256?: string;
  readonly lastSeen?: string;
  /** Set while the agent is overdue (rule 563 raised), cleared when it returns. */
  readonly silentSince?: string;
  /** The configuration group it belongs to, if any. */
  readonly group?: string;
  /** SHA-256 of the host's machine id, when the agent sent one at enrolment. */
  readonly machineId?: string;
}

/** Why an enrollment token was not accepted. */
export type TokenVerdict = 'ok' | 'unknown' | 'used' | 'expired';

/** Thrown by `commit` when a batch's sequence is not the next one for its agent. */
export class SequenceError extends Error {
  readonly expected: number;
  constructor(expected: number, got: number) {
    super(`batch ${got} is out of order: the next one is ${expected}`);
    this.name = 'SequenceError';
    this.expected = expected;
  }
}

/** A maintenance window: changes are recorded without alerts between its start and end. */
export interface MaintenanceWindow {
  readonly id: number;
  /** Absent: every agent. */
  readonly agentId?: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly startedBy: string;
  readonly reason?: string;
  /** Set when it was stopped before its end. */
  readonly endedAt?: string;
}

/** A history record as stored: its position, its chain hash, and the record. */
export interface StoredEvent {
  readonly id: number;
  readonly hash: string;
  readonly record: EventRecord;
}

/** Filters for reading the history or the alerts; all optional. */
export interface HistoryQuery {
  readonly agentId?: string;
  /** ISO 8601; only entries at or after this time. */
  readonly since?: string;
  /** Only this path and what lies below it. */
  readonly path?: Buffer;
  /** Newest entries only, at most this many (results stay in chronological order). */
  readonly limit?: number;
}

/** The result of checking every agent's history chain. */
export interface ChainReport {
  readonly ok: boolean;
  readonly checked: number;
  /** The first record that does not verify, with why. */
  readonly firstBroken?: { readonly agentId: string; readonly eventId: number; readonly reason: string };
}

/** An alert to queue for mailing along one route (see `routeKey`). */
export interface EmailQueueEntry {
  readonly alertId: string;
  readonly route: string;
  readonly alert: AnyAlert;
}

/** A message handed to the SMTP server (`sent`), or refused by it for good (`rejected`). */
export interface SentEmail {
  readonly id: string;
  /** The queue rows it carried. */
  readonly seqs: readonly number[];
  readonly sentAtMs: number;
  readonly outcome: 'sent' | 'rejected';
}

/** A monitored host known to the store. Standalone mode is agent `000`. */
export interface AgentRecord {
  readonly id: string;
  readonly name: string;
}

/**
 * The store behind analysis: per-agent baselines, the append-only chained history, alerts, and a little
 * per-agent bookkeeping. Async so a networked engine (PostgreSQL) fits the same interface as SQLite.
 */
export interface Store {
  /** Creates or renames an agent. */
  upsertAgent(agent: AgentRecord): Promise<void>;
  listAgents(): Promise<readonly AgentRecord[]>;
  /**
   * The fingerprints of the baseline under the given key ranges, in key order, in chunks, from one consistent
   * snapshot (the scan's own commits do not show up in it).
   */
  readFingerprints(agentId: string, ranges: readonly KeyRange[]): AsyncIterable<readonly BaselineFingerprint[]>;
  /** One path's baseline state. */
  getBaselineState(agentId: string, path: Buffer): Promise<FileState | undefined>;
  /** Several paths' states at once (keyed by the path's latin1 string); absent paths are missing from the map. */
  getBaselineStates(agentId: string, paths: readonly Buffer[]): Promise<ReadonlyMap<string, FileState>>;
  countBaseline(agentId: string): Promise<number>;
  /** Applies a batch in one transaction. */
  commit(batch: ChangeBatch): Promise<void>;
  /** Directories whose first (baseline-building) scan has completed. */
  scannedRoots(agentId: string): Promise<readonly Buffer[]>;
  markRootsScanned(agentId: string, roots: readonly Buffer[], at: string): Promise<void>;
  /** Forgets that these directories were scanned (they are no longer monitored; a return is a first scan again). */
  unmarkRootsScanned(agentId: string, roots: readonly Buffer[]): Promise<void>;
  getMeta(agentId: string, key: string): Promise<string | undefined>;
  setMeta(agentId: string, key: string, value: string): Promise<void>;
  queryEvents(query: HistoryQuery): AsyncIterable<StoredEvent>;
  /** Alerts, oldest first: file alerts rebuilt from the history records they were raised for, and agent alerts. */
  queryAlerts(query: HistoryQuery): AsyncIterable<AnyAlert>;
  recordAgentAlert(alert: AgentAlert): Promise<void>;
  /**
   * The oldest `limit` alerts committed but not yet marked delivered, in the order they were raised: every alert is
   * queued for the sinks in its own transaction (by `commit` and `recordAgentAlert`), so a crash before the sinks
   * had it loses nothing.
   */
  undeliveredAlerts(limit: number): Promise<readonly AnyAlert[]>;
  /** Takes alerts off the delivery queue once every sink has them. */
  markAlertsDelivered(ids: readonly string[]): Promise<void>;
  /**
   * Queues alerts for the email sink, in one transaction. An alert already queued for a route (sent or not) is not
   * queued again, so redelivering alerts after a crash never mails them twice. Returns how many were added.
   */
  queueEmails(entries: readonly EmailQueueEntry[], atMs: number): Promise<number>;
  /** The oldest `limit` queued emails not yet sent. */
  pendingEmails(limit: number): Promise<readonly QueuedEmail[]>;
  /** Records a message as sent (or refused for good) and takes its alerts off the email queue, in one transaction. */
  recordEmailSent(mail: SentEmail): Promise<void>;
  /** How many messages were sent since `sinceMs` (refused ones do not count). */
  emailsSentSince(sinceMs: number): Promise<number>;
  /** Recomputes every chain link and compares each chain's end with the recorded head. */
  verifyChain(agentId?: string): Promise<ChainReport>;
  /** The end of an agent's history chain (its last record's id and hash, and the chain's length), if it has one. */
  chainHead(agentId: string): Promise<{ readonly lastId: number; readonly lastHash: string; readonly length: number } | undefined>;
  /** The chain hash of one history record of an agent, if the record exists. */
  eventHash(agentId: string, eventId: number): Promise<string | undefined>;
  /** True when some history record of the agent has this chain hash (a head copied off the host earlier). */
  hasChainHash(agentId: string, hash: string): Promise<boolean>;
  /** The auto-ignore counters of one file. */
  getNoise(agentId: string, path: Buffer): Promise<NoiseState | undefined>;
  startMaintenance(window: Omit<MaintenanceWindow, 'id' | 'endedAt'>): Promise<MaintenanceWindow>;
  /** Ends the windows running at `at` (for one agent, or the global ones); returns how many. */
  endMaintenance(agentId: string | undefined, at: string): Promise<number>;
  /** The window in force for an agent at a time (its own, or a global one), if any. */
  activeMaintenance(agentId: string, at: string): Promise<MaintenanceWindow | undefined>;
  listMaintenance(): Promise<readonly MaintenanceWindow[]>;

  // Fleet: enrollment, agents, batch sequences, resync.
  createEnrollmentToken(token: { readonly id: string; readonly secretSha256: string; readonly createdAt: string; readonly expiresAt: string }): Promise<void>;
  /** Uses a token once: its secret's hash must match (compared in constant time), and it must be unused and unexpired. */
  consumeEnrollmentToken(id: string, secretSha256: string, at: string, usedBy: string): Promise<TokenVerdict>;
  /** Registers a new agent under the next free id (`001`, `002`, ...), optionally in a configuration group. */
  registerAgent(name: string, at: string, group?: string, machineId?: string): Promise<AgentRecord>;
  /**
   * An existing agent enrolled again (same host, or `--replace`): it keeps its id, baseline and history; its
   * name, machine id and (when given) group are updated, and it counts as heard from now.
   */
  reenrollAgent(id: string, update: { readonly name: string; readonly group?: string; readonly machineId?: string; readonly at: string }): Promise<void>;
  /** Renames an agent; false when there is no such agent. */
  renameAgent(id: string, name: string): Promise<boolean>;
  /** Moves an agent to a configuration group (undefined: none); false when there is no such agent. */
  setAgentGroup(id: string, group: string | undefined): Promise<boolean>;
  setAgentCertificate(id: string, certSha256: string): Promise<void>;
  getAgent(id: string): Promise<AgentInfo | undefined>;
  listAgentInfos(): Promise<readonly AgentInfo[]>;
  /** Refuses the agent from now on; false when there is no such agent. */
  revokeAgent(id: string, at: string): Promise<boolean>;
  /** Records that the agent was heard from; returns when it had been marked silent, if it was. */
  touchAgent(id: string, at: string): Promise<string | undefined>;
  markAgentSilent(id: string, since: string): Promise<void>;
  /** The highest batch sequence applied for the agent (0 before the first). */
  lastSequence(agentId: string): Promise<number>;
  /** The SHA-256 of the last batch applied for the agent, when known. */
  lastBatchSha256(agentId: string): Promise<string | undefined>;
  /** Forgets what a previous full scan reported. */
  clearResyncSeen(agentId: string): Promise<void>;
  /** Baseline paths a full scan did not report (after all its batches). */
  unseenByResync(agentId: string): Promise<readonly Buffer[]>;
  close(): Promise<void>;
}
