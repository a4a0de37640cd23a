import type { DiffUnavailableReason } from '../core/diff/content-capture.js';

/** The last recorded content of one file: its (redacted) text, or why no copy is kept. */
export type StoredContent =
  { readonly kind: 'text'; readonly sha256: string; readonly text: string } | { readonly kind: 'missing'; readonly reason: DiffUnavailableReason };

/** How much content is kept. */
export interface ContentUsage {
  /** Files with a copy. */
  readonly copies: number;
  /** Compressed bytes of those copies: what the disk quota counts. */
  readonly storedBytes: number;
  /** Bytes of the copies before compression. */
  readonly textBytes: number;
}

/**
 * The last version of each `report_changes` file, kept so the next change can be diffed: on the manager for a
 * fleet (never on the monitored host), in a database of its own for standalone mode. Only redacted text is ever
 * given to it. Copies are compressed and counted against a quota; past it, the oldest copies are replaced by a
 * `quota` marker, so the alert that would have used one says why it has no diff.
 */
export interface ContentStore {
  get(agentId: string, path: Buffer): StoredContent | undefined;
  /** Keeps `text` as the file's last version, then evicts the oldest copies while the quota is exceeded. */
  put(agentId: string, path: Buffer, sha256: string, text: string): void;
  /** Records that the file's current version has no copy, and why (the previous copy is dropped). */
  markMissing(agentId: string, path: Buffer, reason: DiffUnavailableReason): void;
  /** Forgets the file (it was deleted): a file created again later starts over. */
  remove(agentId: string, path: Buffer): void;
  usage(): ContentUsage;
  close(): void;
}
