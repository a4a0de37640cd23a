import type { InstalledPackage, PackageUpdate } from '../../core/package-state.js';
import type { HashSourceRef } from '../hash-source.js';
import type { KnownHashStore } from '../known-hash-store.js';
import type { ImportProgress } from './import-rows.js';

/** A host's package database as an import reads it: what is installed, and each package's rows and paths. */
export interface InstalledPackageSource {
  readonly installed: ReadonlyMap<string, InstalledPackage>;
  /** The rows and owned paths of these packages (all of them at once when asked for every installed one). */
  updates(keys: readonly string[]): readonly PackageUpdate[];
  readonly stamp: string;
}

/** What bringing a host's installed state up to date did. */
export interface InstalledStateSummary {
  readonly rows: number;
  readonly inserted: number;
  /** Packages read: all of them, or with `changedOnly` those installed, upgraded or reinstalled since. */
  readonly packages: number;
  /** Packages gone since the last import. */
  readonly removedPackages: number;
  /** Paths that left with a removed or upgraded package: their deletion is explained from now on. */
  readonly retiredPaths: number;
  /** True when every installed package was read (the first import, or one without `changedOnly`). */
  readonly full: boolean;
}

/**
 * Brings a host's installed-package state in the known-hash database up to date with its package database: the
 * packages whose stamp changed since the last import (all of them the first time, or without `changedOnly`) and
 * the ones gone, in chunks of `chunk` packages (one chunk at least, so the database stamp is recorded even when no
 * package changed).
 */
export async function applyInstalledState(
  store: KnownHashStore,
  source: HashSourceRef,
  db: InstalledPackageSource,
  options: {
    readonly changedOnly?: boolean;
    readonly onProgress?: ImportProgress;
    readonly now?: Date;
    readonly chunk: number;
    /** Sees each chunk of package updates as it is applied (an importer's own counts). */
    readonly onUpdates?: (updated: readonly PackageUpdate[]) => void;
  },
): Promise<InstalledStateSummary> {
  const previous = await store.installedPackages(source);
  const full = options.changedOnly !== true || previous.size === 0;
  const changed = [...db.installed.values()].filter((p) => full || previous.get(p.key)?.stamp !== p.stamp).map((p) => p.key);
  const removed = [...previous.keys()].filter((k) => !db.installed.has(k));
  const at = options.now ?? new Date();
  // Every installed package at once is one read of the whole database (rpm -qa); otherwise a chunk at a time.
  const chunk = changed.length === db.installed.size ? Math.max(1, changed.length) : options.chunk;
  let rows = 0;
  let inserted = 0;
  let retiredPaths = 0;
  for (let i = 0; i === 0 || i < changed.length; i += chunk) {
    const updated = db.updates(changed.slice(i, i + chunk));
    options.onUpdates?.(updated);
    const applied = await store.applyPackageState(source, { updated, removed: i === 0 ? removed : [], databaseStamp: db.stamp, at });
    rows += applied.rows;
    inserted += applied.inserted;
    retiredPaths += applied.retiredPaths;
    options.onProgress?.(rows);
  }
  return { rows, inserted, packages: changed.length, removedPackages: removed.length, retiredPaths, full };
}
