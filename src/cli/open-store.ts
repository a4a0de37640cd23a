import type { StorageConfig } from '../core/config/custos-config.js';
import { existsSync } from 'node:fs';
import { CustosError } from '../core/custos-error.js';
import { dirname } from 'node:path';
import type { PeriodicLeadership } from '../storage/periodic-leadership.js';
import type { PostgresStore } from '../storage/postgres/postgres-store.js';
import { assertPrivatePath } from '../storage/private-path.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/store.js';

/** Opens the store the configuration names; a data directory or database others can write to is refused. */
export async function openStore(storage: StorageConfig): Promise<Store> {
  switch (storage.engine) {
    case 'sqlite':
      assertPrivatePath(dirname(storage.path), 'data directory');
      assertPrivatePath(storage.path, 'database');
      // 8 MB of page cache: a scan writes its baseline in key order and reads it through a connection of its own,
      // so more cache buys nothing (a million-file first scan: 163-165 MB RSS at 16 MB, 153-157 MB at 8, same time).
      return SqliteStore.open(storage.path, { cacheMb: 8 });
    case 'postgres':
      return (await postgresStore()).open(storage.url);
  }
}

/**
 * Opens the store for a command that only reads it (`events`, `alerts`, `verify`): a database that is not there is
 * an error naming it, never a new empty one (which would hide a wrong --db or --config behind "no events").
 */
export async function openExistingStore(storage: StorageConfig): Promise<Store> {
  if (storage.engine === 'sqlite' && !existsSync(storage.path))
    throw new CustosError('NOT_FOUND', `no baseline database at ${storage.path} (run \`custos check\` first, or name it with --db or --data)`);
  if (storage.engine === 'postgres') return (await postgresStore()).open(storage.url, { mustExist: true });
  return openStore(storage);
}

/**
 * The manager's store and, on PostgreSQL (where several managers may share it), the leadership of its periodic
 * work. SQLite checkpoints its WAL from a thread of its own there, and commits the batches that arrive together
 * in one transaction (group commit): the manager's commits are its bottleneck.
 * `alertLeaseMs` (`manager.alert_lease`): how long the alerts this manager commits stay its own to deliver.
 */
export async function openManagerStore(
  storage: StorageConfig,
  alertLeaseMs?: number,
): Promise<{ readonly store: Store; readonly leadership?: PeriodicLeadership }> {
  if (storage.engine === 'sqlite') return { store: SqliteStore.open(storage.path, { backgroundCheckpoints: true, groupCommit: {} }) };
  const store = await (await postgresStore()).open(storage.url, alertLeaseMs === undefined ? {} : { alertLeaseMs });
  return { store, leadership: store.leadership('manager-periodic') };
}

/** The PostgreSQL store, loaded only when configured: `pg` is ~90 ms of every SQLite `custos check`'s start-up otherwise. */
async function postgresStore(): Promise<typeof PostgresStore> {
  return (await import('../storage/postgres/postgres-store.js')).PostgresStore;
}
