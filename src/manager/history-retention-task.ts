import type { Logger } from 'pino';
import { retentionBoundary } from '../core/history-retention.js';
import type { HistoryRepository } from '../storage/history-repository.js';

/** How often the manager leading the periodic work applies `database.history_retention`. */
export const HISTORY_RETENTION_EVERY_MS = 3_600_000;

/** Raises rule 581 for one agent whose chain retention shortened, with where it now starts. */
export type HistoryTrimmedAlert = (agentId: string, details: Record<string, unknown>) => Promise<void>;

/**
 * One retention pass: drops the history older than `retentionMs` (whole months, see `retentionBoundary`), says
 * what it dropped and what it had to keep back, and raises rule 581 for each agent whose chain start moved: the
 * alert carries the anchor the kept chain starts from, so a copy of it lives off the host like a scan summary.
 */
export async function applyHistoryRetention(
  store: Pick<HistoryRepository, 'dropHistoryBefore' | 'chainAnchors'>,
  retentionMs: number,
  now: Date,
  log: Logger,
  raise: HistoryTrimmedAlert,
): Promise<void> {
  const before = retentionBoundary(now, retentionMs);
  const outcome = await store.dropHistoryBefore(before);
  if (outcome.heldBack !== undefined) log.warn({ before, reason: outcome.heldBack }, 'history retention kept back records past the boundary');
  if (outcome.droppedRecords === 0) return;
  log.info({ before, records: outcome.droppedRecords, agents: outcome.agents }, 'history retention dropped the records before the boundary');
  const anchors = new Map((await store.chainAnchors()).map((a) => [a.agentId, a]));
  for (const agentId of outcome.agents) {
    const anchor = anchors.get(agentId);
    if (anchor === undefined) continue;
    await raise(agentId, {
      before,
      dropped_records: anchor.droppedRecords,
      last_dropped_id: anchor.lastDroppedId,
      last_dropped_at: anchor.lastDroppedAt,
      chain_from: anchor.lastDroppedHash,
    });
  }
}
