import type { Logger } from 'pino';
import { retentionBoundary } from '../core/history-retention.js';
import type { HistoryRepository } from '../storage/history-repository.js';

/** How often the manager leading the periodic work applies `database.history_retention`. */
export const HISTORY_RETENTION_EVERY_MS = 3_600_000;

/**
 * One retention pass: drops the history older than `retentionMs` (whole months, see `retentionBoundary`) and says
 * what it dropped and what it had to keep back, so nothing leaves the history unannounced.
 */
export async function applyHistoryRetention(store: Pick<HistoryRepository, 'dropHistoryBefore'>, retentionMs: number, now: Date, log: Logger): Promise<void> {
  const before = retentionBoundary(now, retentionMs);
  const outcome = await store.dropHistoryBefore(before);
  if (outcome.droppedRecords > 0) log.info({ before, records: outcome.droppedRecords, agents: outcome.agents }, 'history retention dropped the records before the boundary');
  if (outcome.heldBack !== undefined) log.warn({ before, reason: outcome.heldBack }, 'history retention kept back records past the boundary');
}
