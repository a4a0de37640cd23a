import { existsSync, statSync } from 'node:fs';
import type { KnownHashConfig, StorageConfig } from '../core/config/custos-config.js';
import { CustosError } from '../core/custos-error.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import { isPostgresLocation, knownHashLocation, openKnownHashStore } from '../hashdb/open-known-hash-store.js';

/**
 * Opens the known-hash database for a scan: `--hashdb FILE|URL`, else the configured one (or, with the store on
 * PostgreSQL, that database). The default location is optional (no database simply means no verdicts); a database
 * named explicitly but missing gets a warning, because a typo there would silently turn package-update silencing off.
 */
export async function openKnownHashes(
  config: { readonly knownHashes: KnownHashConfig; readonly storage: StorageConfig },
  flag: string | undefined,
): Promise<KnownHashStore | undefined> {
  const location = flag ?? knownHashLocation(config, config.knownHashes.databasePath);
  const named = flag !== undefined || config.knownHashes.explicit;
  if (isPostgresLocation(location)) {
    try {
      return await openKnownHashStore(location, { mustExist: true });
    } catch (error) {
      if (!(error instanceof CustosError) || error.code !== 'NOT_FOUND') throw error;
      if (named) process.stderr.write(`custos: warning: ${error.message}; changes are judged without known hashes\n`);
      return undefined;
    }
  }
  if (existsSync(location)) return openKnownHashStore(location, { bloom: true, build: 'never', keepAfter: lookupsWorthLoading(location) });
  if (named) process.stderr.write(`custos: warning: known-hash database ${location} does not exist; changes are judged without known hashes\n`);
  return undefined;
}

/**
 * After how many lookups a one-shot scan takes up the saved Bloom filters and digest index. Loading them costs about
 * their size in reads and checks: 0.62 s for 188 MB of filters and a 64 MB index directory at 100M rows (quiet), where
 * they save 11-12 µs a lookup (misses 87k/s from SQLite against 1.48M/s, hits 61k/s against 245k/s:
 * docs/performance.md, "Digest index"), so they pay off after about 50,000 lookups: one per 4,000 bytes of the saved
 * filter. At 10M rows under load (load average 9) loading took 0.3-0.6 s, the index's log of 80,000 rows included,
 * against about 23 µs saved a miss: some 20,000 lookups, hence that floor. A scan never builds missing ones: at 10M
 * rows the index alone took 141 s to build (measured under load), far more than any scan's lookups save; the
 * manager keeps them current, and `custos hashdb import` appends to their logs.
 */
function lookupsWorthLoading(location: string): number {
  const bytes = statSync(`${location}.bloom`, { throwIfNoEntry: false })?.size ?? 0;
  return Math.max(20_000, Math.round(bytes / 4000));
}

/** Opens the known-hash database for a command that only reads it (`hashdb lookup`, `stats`): never creates one. */
export async function openExistingKnownHashes(location: string): Promise<KnownHashStore> {
  if (isPostgresLocation(location)) return openKnownHashStore(location, { mustExist: true });
  if (!existsSync(location))
    throw new CustosError('NOT_FOUND', `no known-hash database at ${location} (fill one with \`custos hashdb import\`, or name it with --hashdb)`);
  return openKnownHashStore(location);
}
