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
export type { EnrollmentTokenInfo } from './fleet-repository.js';
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
  /** Bookkeeping that must hold exactly when this batch's changes do, written last in the same transaction. */
  readonly bookkeeping?: BatchBookkeeping;
}

/**
 * Per-agent state a batch (or the last commit of a run) updates with its changes: written after them in their
 * transaction, so a crash cannot leave the changes without it (a scan whose baseline is built but whose
 * directories are not marked scanned would have its next changes taken silently as a first scan).
 */
export interface BatchBookkeeping {
  /** The full (resync) scan this batch ends is over: forget the paths it reported (`clearResyncSeen`). */
  readonly clearResyncSeen?: boolean;
  /** Directories whose baseline is now built (`markRootsScanned`), and when. */
  readonly rootsScanned?: { readonly roots: readonly Buffer[]; readonly at: string };
  /** Per-agent values to set (`setMeta`); with `keep`, a value already there stays (set once). */
  readonly meta?: readonly { readonly key: string; readonly value: string; readonly keep?: boolean }[];
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
