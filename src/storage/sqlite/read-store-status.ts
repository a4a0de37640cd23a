import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CustosError } from '../../core/custos-error.js';
import type { StoreStatus } from '../store-status.js';
import { BASELINE_APPLICATION_ID, claimApplicationId } from './application-id.js';

export type { StoreStatus } from '../store-status.js';

/**
 * Reads the status of the baseline database at `path` without writing anything: opened read-only, never created
 * (a missing file is an error naming it), never migrated.
 */
export function readStoreStatus(path: string, agentId: string, metaKeys: readonly string[]): StoreStatus {
  if (!existsSync(path)) throw new CustosError('NOT_FOUND', `no baseline database at ${path} (run \`custos check\` first, or name it with --db)`);
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    claimApplicationId(db, path, BASELINE_APPLICATION_ID, true);
    const count = (sql: string, ...args: unknown[]): number =>
      Number(
        db
          .prepare(sql)
          .pluck()
          .get(...args) ?? 0,
      );
    const head = db.prepare('SELECT last_id, last_hash, length FROM chain_heads WHERE agent_id = ?').raw(true).get(agentId) as
      [number, string, number] | undefined;
    const meta: Record<string, string> = {};
    for (const key of metaKeys) {
      const value = db.prepare('SELECT value FROM agent_meta WHERE agent_id = ? AND key = ?').pluck().get(agentId, key) as string | undefined;
      if (value !== undefined) meta[key] = value;
    }
    return {
      baselineEntries: count('SELECT count(*) FROM baseline WHERE agent_id = ?', agentId),
      ...(head === undefined ? {} : { chainHead: { lastEventId: head[0], lastHash: head[1], length: head[2] } }),
      undeliveredAlerts: count('SELECT count(*) FROM alert_outbox'),
      storedAlerts: count('SELECT count(*) FROM alerts WHERE agent_id = ?', agentId),
      agents: count('SELECT count(*) FROM agents'),
      meta,
    };
  } catch (error) {
    if (error instanceof Error && /no such table/.test(error.message))
      throw new CustosError('STORE_CORRUPT', `${path} is not a Custos baseline database (${error.message})`);
    throw error;
  } finally {
    db.close();
  }
}
