import type { KnownHashConfig, StorageConfig } from '../core/config/custos-config.js';
import type { KnownHashStore } from './known-hash-store.js';
import { SqliteKnownHashStore, type KnownHashStoreOptions } from './sqlite-known-hash-store.js';

/** True when a known-hash database is named by a `postgres://` (or `postgresql://`) connection string, not a file. */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * Where the known-hash database is: the one configured (`known_hashes.database`), else, when the store is on
 * PostgreSQL, the same PostgreSQL database (so an import through one manager is seen by all), else the SQLite file
 * `sqliteDefault`.
 */
export function knownHashLocation(config: { readonly knownHashes: KnownHashConfig; readonly storage: StorageConfig }, sqliteDefault: string): string {
  if (config.knownHashes.explicit) return config.knownHashes.databasePath;
  return config.storage.engine === 'postgres' ? config.storage.url : sqliteDefault;
}

/**
 * Opens the known-hash database at `location`: a `postgres://…[?schema=NAME]` URL selects PostgreSQL, anything else
 * is an SQLite file. `bloom` keeps Bloom filters in memory (long-running readers; on SQLite the digest index too,
 * and `build` and `keepAfter` say when, see `KnownHashStoreOptions`); `mustExist` (PostgreSQL) refuses to create the
 * tables, for commands that only read (a file's existence is checked by the caller, which words it).
 */
export async function openKnownHashStore(
  location: string,
  options: { readonly bloom?: boolean; readonly mustExist?: boolean } & Pick<KnownHashStoreOptions, 'build' | 'keepAfter'> = {},
): Promise<KnownHashStore> {
  // Loaded only for PostgreSQL: `pg` is ~90 ms of every `custos check`'s start-up otherwise.
  if (isPostgresLocation(location)) {
    const { bloom, mustExist } = options;
    return (await import('./postgres/postgres-known-hash-store.js')).PostgresKnownHashStore.open(location, {
      ...(bloom === undefined ? {} : { bloom }),
      ...(mustExist === undefined ? {} : { mustExist }),
    });
  }
  const { bloom, build, keepAfter } = options;
  return SqliteKnownHashStore.open(location, {
    ...(bloom === undefined ? {} : { bloom }),
    ...(build === undefined ? {} : { build }),
    ...(keepAfter === undefined ? {} : { keepAfter }),
  });
}
