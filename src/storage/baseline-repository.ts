import type { NoiseState } from '../core/auto-ignore.js';
import type { FileState } from '../core/file-state.js';
import type { FingerprintPage } from '../core/fingerprint-page.js';

/** A baseline entry as a scan merges it: its path key and its fingerprint (see `storedFingerprint`). */
export interface BaselineFingerprint {
  readonly key: Buffer;
  readonly fingerprint: string;
}

/** A half-open range `[from, to)` of path keys (see `pathKey`). */
export interface KeyRange {
  readonly from: Buffer;
  readonly to: Buffer;
}

/**
 * Per-agent baselines: the trusted state of every monitored entry, the directories whose first scan is done, and
 * the auto-ignore counters. The baseline is written only by `Store.commit`, with the history that explains it.
 */
export interface BaselineRepository {
  /**
   * The fingerprints of the baseline under the given key ranges, in key order, in chunks, from one consistent
   * snapshot (the scan's own commits do not show up in it).
   */
  readFingerprints(agentId: string, ranges: readonly KeyRange[]): AsyncIterable<readonly BaselineFingerprint[]>;
  /**
   * The same as {@link readFingerprints}, in packed pages (no object per row): what a scan merges. Stores that
   * cannot pack a page in the database leave it out, and scans read `readFingerprints`.
   */
  readFingerprintPages?(agentId: string, ranges: readonly KeyRange[]): AsyncIterable<FingerprintPage>;
  /** One path's baseline state. */
  getBaselineState(agentId: string, path: Buffer): Promise<FileState | undefined>;
  /** Several paths' states at once (keyed by the path's latin1 string); absent paths are missing from the map. */
  getBaselineStates(agentId: string, paths: readonly Buffer[]): Promise<ReadonlyMap<string, FileState>>;
  countBaseline(agentId: string): Promise<number>;
  /** Directories whose first (baseline-building) scan has completed. */
  scannedRoots(agentId: string): Promise<readonly Buffer[]>;
  markRootsScanned(agentId: string, roots: readonly Buffer[], at: string): Promise<void>;
  /** Forgets that these directories were scanned (they are no longer monitored; a return is a first scan again). */
  unmarkRootsScanned(agentId: string, roots: readonly Buffer[]): Promise<void>;
  /** The auto-ignore counters of one file. */
  getNoise(agentId: string, path: Buffer): Promise<NoiseState | undefined>;
}
