import type { DeclaredMode } from './declared-mode.js';
import type { PackageRef } from './known-hash-policy.js';

/** One known hash to import. */
export interface KnownHashRow {
  /** The raw digest: 16 bytes MD5, 20 bytes SHA-1, 32 bytes SHA-256. */
  readonly digest: Buffer;
  /** The canonical absolute path the source ships this content at; absent for hash-only sources. */
  readonly path?: Buffer;
  readonly package?: PackageRef;
  /** A known-bad hash (from a bad list); `label` says what it is. */
  readonly bad?: boolean;
  readonly label?: string;
  /** The mode and owner the source gives this path in this package (kept per path and package, not per digest). */
  readonly declared?: DeclaredMode;
}

/** One installed package as a host's package database describes it, with a stamp that changes when it does. */
export interface InstalledPackage {
  /** `name`, or `name:arch` for a Multi-Arch: same package (dpkg's own key). */
  readonly key: string;
  readonly package: PackageRef;
  /**
   * Changes whenever dpkg touches the package: its version, status and conffile hashes, and the identity and
   * change time of its file list and md5sums (dpkg rewrites them on every unpack, whatever mtime it sets).
   */
  readonly stamp: string;
}

/** A package installed, upgraded or reinstalled since the last import: its rows and every path it owns. */
export interface PackageUpdate {
  readonly installed: InstalledPackage;
  readonly rows: readonly KnownHashRow[];
  /** Canonical paths of its file list, directories left out (their coming and going is recorded, never alerted). */
  readonly owns: readonly Buffer[];
  /** What the rows came from: md5sums lines, conffiles, listed symlinks, and md5sums lines that were not valid. */
  readonly counts: { readonly md5sums: number; readonly conffiles: number; readonly symlinks: number; readonly malformed: number };
}

/** A side effect of maintainer scripts or triggers, verified at import (see dpkg-side-effects). */
export interface DerivedEntry {
  readonly row: KnownHashRow;
  /** What it depends on, to tell later whether its removal is explained: `init:/etc/init.d/x`, `alt:editor`, ... */
  readonly because: string;
}

/** A path that must be absent, and the package and reason that explain its deletion. */
export interface ExpectedAbsence {
  readonly path: Buffer;
  readonly package?: PackageRef;
  readonly reason: string;
}
