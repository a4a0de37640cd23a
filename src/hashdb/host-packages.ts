import type { InstalledVersions, PackageRef } from '../core/known-hash-policy.js';
import type { DerivedEntry, ExpectedAbsence, InstalledPackage, PackageUpdate } from '../core/package-state.js';
import type { HashSourceRef } from './hash-source.js';

export type { DerivedEntry, ExpectedAbsence, InstalledPackage, PackageUpdate } from '../core/package-state.js';

/** What an import changes in one host's installed-package state, applied in one transaction. */
export interface PackageStateChange {
  readonly updated: readonly PackageUpdate[];
  /** Keys of packages no longer installed (removed, or only their conffiles left). */
  readonly removed: readonly string[];
  /** The package database's own stamp after this import (to tell later whether an import was missed). */
  readonly databaseStamp: string;
  readonly at: Date;
}

/** What applying a package state change did. */
export interface PackageStateSummary {
  readonly rows: number;
  readonly inserted: number;
  readonly installed: number;
  readonly removed: number;
  /** Paths that left with a removed or upgraded package: their deletion is explained. */
  readonly retiredPaths: number;
}

/**
 * The installed-package state of hosts, kept beside the known hashes: which packages are installed, which paths
 * they own, which paths left with a package (so their deletion is explained) and what maintainer scripts did.
 * Only an import from the host's own package database writes it.
 */
export interface HostPackageStore {
  /** The packages installed as of the last import from this source, by key (empty before the first). */
  installedPackages(source: HashSourceRef): Promise<ReadonlyMap<string, InstalledPackage>>;
  /** Applies an import's package changes: rows, ownership, and retired paths, in one transaction. */
  applyPackageState(source: HashSourceRef, change: PackageStateChange): Promise<PackageStateSummary>;
  /** Which of these canonical paths an installed package owns (per this source), with the package. */
  ownersOf(source: HashSourceRef, paths: readonly Buffer[]): Promise<ReadonlyMap<string, PackageRef>>;
  /**
   * Replaces the verified side effects of maintainer scripts (under the source's derived twin): their rows become
   * known-good at their paths, `absent` explains deletions until the next derivation, and rows of the last
   * derivation that are gone now are retired with a removal reason when `goneCauses` has their cause.
   */
  replaceDerived(
    source: HashSourceRef,
    entries: readonly DerivedEntry[],
    absent: readonly ExpectedAbsence[],
    goneCauses: ReadonlyMap<string, string>,
  ): Promise<{ readonly rows: number; readonly retired: number }>;
  /** The causes (`DerivedEntry.because`) of the rows the last derivation wrote. */
  derivedCauses(source: HashSourceRef): Promise<readonly string[]>;
  /** The package database stamp the last import recorded, if any. */
  databaseStamp(source: HashSourceRef): Promise<string | undefined>;
  /** The package versions the source's host has installed, by name; undefined before its first import. */
  installedVersions(source: HashSourceRef): Promise<InstalledVersions | undefined>;
  /** What became of a .deb the manager was given (by SHA-256), if it has seen it. */
  debVerdict(sha256: string): Promise<DebVerdict | undefined>;
  /** Records what became of a .deb: verified against the signed indexes (and imported), or refused and why. */
  recordDeb(sha256: string, verdict: DebVerdict): Promise<void>;
  /** A value an importer keeps for a source between imports (e.g. the host's own libraries), if set. */
  sourceValue(source: HashSourceRef, key: string): Promise<string | undefined>;
  setSourceValue(source: HashSourceRef, key: string, value: string): Promise<void>;
}

/** What became of one .deb a host offered. */
export interface DebVerdict {
  readonly verdict: 'verified' | 'refused';
  /** `name version arch`. */
  readonly package: string;
  readonly reason?: string;
}

/** The source derived (maintainer-script) rows of a host's package database are kept under. */
export function derivedSource(source: HashSourceRef): HashSourceRef {
  return { ...source, name: `${source.name} (maintainer scripts)` };
}
