import type { AgentAlert, AnyAlert } from '../core/build-alert.js';
import type { HistoryQuery } from './history-repository.js';

/**
 * Alerts and their delivery queue. A file alert is stored as a pointer to the history record it was raised for
 * (and rebuilt from it, so the two never disagree); an agent alert is stored whole. Every alert is queued for the
 * sinks in the transaction that commits it.
 */
export interface AlertRepository {
  /** Alerts, oldest first: file alerts rebuilt from the history records they were raised for, and agent alerts. */
  queryAlerts(query: HistoryQuery): AsyncIterable<AnyAlert>;
  /** Stores an agent alert and queues it for delivery, in one transaction. */
  recordAgentAlert(alert: AgentAlert): Promise<void>;
  /**
   * The oldest `limit` alerts committed but not yet marked delivered, in the order they were raised: every alert is
   * queued for the sinks in its own transaction (by `commit` and `recordAgentAlert`), so a crash before the sinks
   * had it loses nothing.
   */
  undeliveredAlerts(limit: number): Promise<readonly AnyAlert[]>;
  /**
   * Alerts another manager on the same store claimed and did not deliver within its lease (it died), now claimed
   * by this one, oldest first: what a live manager sweeps up while it runs. Never this store's own alerts, so a
   * sweep cannot race this manager's own deliveries; on a store only one manager uses (SQLite), always none.
   */
  orphanedAlerts(limit: number): Promise<readonly AnyAlert[]>;
  /** Takes alerts off the delivery queue once every sink has them. */
  markAlertsDelivered(ids: readonly string[]): Promise<void>;
}
