import type { HashSourceRef } from '../hash-source.js';
import type { KnownHashStore } from '../known-hash-store.js';
import { openRpmDatabase } from '../../host/rpm-database.js';
import type { ImportCounts, ImportProgress } from './import-rows.js';
import { applyInstalledState } from './installed-state.js';

/** What an rpm import read and changed. */
export interface RpmImportSummary extends ImportCounts {
  /** Packages read: all of them, or with `changedOnly` those installed, upgraded or reinstalled since. */
  readonly packages: number;
  /** Packages gone since the last import. */
  readonly removedPackages: number;
  /** Paths that left with a removed or upgraded package: their deletion is explained from now on. */
  readonly retiredPaths: number;
  /** %ghost files and digests of algorithms Custos does not compute (SHA-384/512), not imported. */
  readonly skipped: number;
}

/** The source a host's own rpm database is imported as. */
export function rpmSource(root: string, host: string): HashSourceRef {
  return { kind: 'rpm', name: `rpm ${root}`, host };
}

const CHUNK = 200;

/**
 * Imports a host's own rpm database as host-scoped `rpm` rows, with the installed state behind them, as the dpkg
 * import does: file digests (SHA-256 on current distributions, MD5 on old ones) and symlink targets as rpm ships
 * them, which installed package owns which path, and the paths that left with a removed or upgraded package (their
 * deletion is explained). Only the versions installed now count. `changedOnly` reads only the packages whose
 * transaction changed since the last import; it is a full import the first time.
 */
export async function importRpm(
  store: KnownHashStore,
  options: { readonly root: string; readonly host: string; readonly changedOnly?: boolean; readonly onProgress?: ImportProgress; readonly now?: Date },
): Promise<RpmImportSummary> {
  const source = rpmSource(options.root, options.host);
  const db = openRpmDatabase(options.root);
  const state = await applyInstalledState(store, source, db, { ...options, chunk: CHUNK });
  return {
    rows: state.rows,
    inserted: state.inserted,
    packages: state.packages,
    removedPackages: state.removedPackages,
    retiredPaths: state.retiredPaths,
    skipped: db.skipped(),
  };
}
