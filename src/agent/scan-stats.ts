import type { FileIssue } from '../core/file-state.js';
import type { UnscannableRoot } from './root-coverage.js';

/** Counters of one scan, updated as it runs (the progress bar reads them) and summarised at the end. */
export interface ScanStats {
  /** Monitored entries seen by the walk. */
  entries: number;
  /** Files read and hashed. */
  hashed: number;
  /** Files not read again because their fingerprint was unchanged (fast path). */
  reused: number;
  bytesHashed: number;
  /** Files over `max_file_size`: not read, checked by their attributes (and ctime) only. */
  attributesOnly: number;
  /** Files that could not be hashed (permission, changed while read, ...). */
  issues: number;
  /** The first few of those, to show the operator. */
  issueSamples: { readonly path: Buffer; readonly issue: FileIssue }[];
  /** Files that disappeared between the walk and the read. */
  vanished: number;
  /** Subtrees the walk could not enter. */
  unscanned: number;
  /**
   * The first few of those that hide changes (unreadable, unlistable, too long a path: not a file system skipped
   * on purpose), to alert and show.
   */
  unscannedSamples: { readonly path: Buffer; readonly issue: FileIssue }[];
  /** How many there were in all (beyond the samples too). */
  unscannedHiding: number;
  /** Baseline entries left as they were: out of scope now, or in a subtree that could not be scanned. */
  kept: number;
  /** Monitored directories the scan found nothing to scan in (missing, unreadable, excluded), when asked to check. */
  unscannableRoots: readonly UnscannableRoot[];
}

/** Fresh counters. */
export function createScanStats(): ScanStats {
  return {
    entries: 0,
    hashed: 0,
    reused: 0,
    bytesHashed: 0,
    attributesOnly: 0,
    issues: 0,
    issueSamples: [],
    vanished: 0,
    unscanned: 0,
    unscannedSamples: [],
    unscannedHiding: 0,
    kept: 0,
    unscannableRoots: [],
  };
}
