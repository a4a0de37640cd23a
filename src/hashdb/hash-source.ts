import type { HashSourceKind } from '../core/known-hash-policy.js';

/** A source of known hashes, as an import names it. Re-importing the same kind, name and host reuses it. */
export interface HashSourceRef {
  readonly kind: HashSourceKind;
  readonly name: string;
  /** The host whose own package database this came from: its rows apply to that host only. */
  readonly host?: string;
  /** How it was verified (signing key, signed index hashes, ...), kept as JSON. */
  readonly evidence?: Readonly<Record<string, unknown>>;
}

export type { KnownHashRow } from '../core/package-state.js';
