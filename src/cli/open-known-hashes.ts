import { existsSync } from 'node:fs';
import type { KnownHashConfig } from '../core/config/custos-config.js';
import { CustosError } from '../core/custos-error.js';
import { SqliteKnownHashStore } from '../hashdb/sqlite-known-hash-store.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';

/**
 * Opens the known-hash database for a scan: `--hashdb FILE`, else the configured one. The default location is
 * optional (no database simply means no verdicts); a database named explicitly but missing gets a warning,
 * because a typo there would silently turn package-update silencing off.
 */
export function openKnownHashes(config: KnownHashConfig, flag: string | undefined): KnownHashStore | undefined {
  const path = flag ?? config.databasePath;
  if (existsSync(path)) return SqliteKnownHashStore.open(path);
  if (flag !== undefined || config.explicit) {
    process.stderr.write(`custos: warning: known-hash database ${path} does not exist; changes are judged without known hashes\n`);
  }
  return undefined;
}

/** Opens the known-hash database for a command that only reads it (`hashdb lookup`, `stats`): never creates one. */
export function openExistingKnownHashes(path: string): SqliteKnownHashStore {
  if (!existsSync(path))
    throw new CustosError('NOT_FOUND', `no known-hash database at ${path} (fill one with \`custos hashdb import\`, or name it with --hashdb)`);
  return SqliteKnownHashStore.open(path);
}
