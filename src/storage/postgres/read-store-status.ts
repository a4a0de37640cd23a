import type { StoreStatus } from '../store-status.js';
import { PostgresDatabase } from './postgres-database.js';
import { snapshotRead } from './snapshot-read.js';

/**
 * Reads the status of a PostgreSQL store for one agent (standalone: the local one) from one read-only snapshot:
 * never creates or migrates a store, so it also runs on a hot standby.
 */
export async function readPostgresStoreStatus(url: string, agentId: string, metaKeys: readonly string[]): Promise<StoreStatus> {
  const db = await PostgresDatabase.open(url, { max: 1, mustExist: true });
  try {
    for await (const status of snapshotRead(db, async function* (reader) {
      const count = async (sql: string, values: readonly unknown[] = []): Promise<number> =>
        Number((await reader.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, values))[0]?.n ?? 0);
      const head = (
        await reader.query<{ last_id: string; last_hash: string; length: string }>('SELECT last_id, last_hash, length FROM chain_heads WHERE agent_id = $1', [
          agentId,
        ])
      )[0];
      const meta: Record<string, string> = {};
      if (metaKeys.length > 0) {
        const rows = await reader.query<{ key: string; value: string }>('SELECT key, value FROM agent_meta WHERE agent_id = $1 AND key = ANY($2::text[])', [
          agentId,
          metaKeys,
        ]);
        for (const row of rows) meta[row.key] = row.value;
      }
      const status: StoreStatus = {
        baselineEntries: await count('baseline WHERE agent_id = $1', [agentId]),
        ...(head === undefined ? {} : { chainHead: { lastEventId: Number(head.last_id), lastHash: head.last_hash, length: Number(head.length) } }),
        undeliveredAlerts: await count('alert_outbox'),
        storedAlerts: await count('alerts WHERE agent_id = $1', [agentId]),
        agents: await count('agents'),
        meta,
      };
      yield status;
    }))
      return status;
    throw new Error('unreachable: the status read yields once');
  } finally {
    await db.close();
  }
}
