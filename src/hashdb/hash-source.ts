import type { HashSourceKind, PackageRef } from '../core/known-hash-policy.js';

/** A source of known hashes, as an import names it. Re-importing the same kind, name and host reuses it. */
export interface HashSourceRef {
  readonly kind: HashSourceKind;
  readonly name: string;
  /** The host whose own package database this came from: its rows apply to that host only. */
  readonly host?: string;
  /** How it was verified (signing key, signed index hashes, ...), kept as JSON. */
  readonly evidence?: Readonly<Record<string, unknown>>;
}

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
}

