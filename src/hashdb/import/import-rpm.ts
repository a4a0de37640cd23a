import type { HashSourceRef } from '../hash-source.js';
import type { KnownHashStore } from '../known-hash-store.js';
import { openRpmDatabase } from '../../host/rpm-database.js';
import type { ImportCounts, ImportProgress } from './import-rows.js';

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
  const previous = await store.installedPackages(source);
  const full = options.changedOnly !== true || previous.size === 0;
  const changed = [...db.installed.values()].filter((p) => full || previous.get(p.key)?.stamp !== p.stamp).map((p) => p.key);
  const removed = [...previous.keys()].filter((k) => !db.installed.has(k));
  const at = options.now ?? new Date();
  let rows = 0;
  let inserted = 0;
  let retiredPaths = 0;
  for (let i = 0; i === 0 || i < changed.length; i += CHUNK) {
    const keys = changed.length === db.installed.size && full ? changed : changed.slice(i, i + CHUNK);
    const updated = db.updates(keys);
    const applied = await store.applyPackageState(source, { updated, removed: i === 0 ? removed : [], databaseStamp: db.stamp, at });
    rows += applied.rows;
    inserted += applied.inserted;
    retiredPaths += applied.retiredPaths;
    options.onProgress?.(rows);
    if (keys === changed) break;
  }
  return { rows, inserted, packages: changed.length, removedPackages: removed.length, retiredPaths, skipped: db.skipped() };
}
