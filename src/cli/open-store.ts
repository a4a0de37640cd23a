import type { StorageConfig } from '../core/config/custos-config.js';
import { CustosError } from '../core/custos-error.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/store.js';

/** Opens the store the configuration names. */
export function openStore(storage: StorageConfig): Store {
  switch (storage.engine) {
    case 'sqlite':
      return SqliteStore.open(storage.path, { cacheMb: 16 });
    case 'postgres':
      throw new CustosError('CONFIG_INVALID', 'the PostgreSQL store is not available in this version; use database.engine: sqlite');
  }
}
