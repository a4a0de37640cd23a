import type { NoiseState } from '../core/auto-ignore.js';
import type { AgentAlert } from '../core/build-alert.js';
import type { EventRecord } from '../core/event-record.js';
import type { FileState } from '../core/file-state.js';
import type { AgentMetaRepository } from './agent-meta-repository.js';
import type { AlertRepository } from './alert-repository.js';
import type { BaselineRepository } from './baseline-repository.js';
import type { EmailQueueRepository } from './email-queue-repository.js';
import type { FleetRepository } from './fleet-repository.js';
import type { HistoryRepository } from './history-repository.js';
import type { MaintenanceRepository } from './maintenance-repository.js';

export type { AgentMetaRepository, AgentUsage } from './agent-meta-repository.js';
export type { AlertRepository } from './alert-repository.js';
export type { BaselineFingerprint, BaselineRepository, KeyRange } from './baseline-repository.js';
export type { EmailQueueEntry, EmailQueueRepository, SentEmail } from './email-queue-repository.js';
export type { AgentInfo, AgentRecord, EnrollmentTokenRecord, FleetRepository, TokenVerdict } from './fleet-repository.js';
export type { ChainAnchor, ChainReport, ChainStart, HistoryQuery, HistoryRepository, RetentionOutcome, StoredEvent } from './history-repository.js';
export type { MaintenanceRepository, MaintenanceWindow } from './maintenance-repository.js';

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
  /** Agent alerts this batch raises, queued for delivery in the same transaction. */
  readonly agentAlerts?: readonly AgentAlert[];
}

/** Thrown by `commit` when a batch's sequence is not the next one for its agent. */
export class SequenceError extends Error {
  readonly expected: number;
  constructor(expected: number, got: number) {
    super(`batch ${got} is out of order: the next one is ${expected}`);
    this.name = 'SequenceError';
    this.expected = expected;
  }
}

/** Applies change batches: the one write that spans baseline, history, alerts and the fleet's sequences. */
export interface ChangeWriter {
  /** Applies a batch in one transaction (see `ChangeBatch`). */
  commit(batch: ChangeBatch): Promise<void>;
}

/**
 * The store behind analysis: per-agent baselines, the append-only chained history, alerts, and a little
 * per-agent bookkeeping, as small repositories that one engine implements together over one connection and one
 * transaction. Async so a networked engine (PostgreSQL) fits the same interface as SQLite. Callers that need
 * only a part take that repository's interface.
 */
export type Store = BaselineRepository &
  HistoryRepository &
  AlertRepository &
  EmailQueueRepository &
  FleetRepository &
  MaintenanceRepository &
  AgentMetaRepository &
  ChangeWriter & {
    close(): Promise<void>;
  };
