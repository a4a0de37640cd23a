import { hasHashIssue, type FileState } from './file-state.js';

/**
 * When a file could not be read this time (permission denied, changed while read), keeps the last trusted
 * digests on its new state, so the next readable scan compares against them rather than against nothing. The
 * issue stays on the state, so its fingerprint never matches and the file is read again next time.
 */
export function carryForwardDigests(previous: FileState | undefined, current: FileState): FileState {
  if (previous?.type !== 'file' || current.type !== 'file' || !hasHashIssue(current)) return current;
  if (Object.keys(current.hashes).length > 0) return current;
  return { ...current, hashes: previous.hashes };
}
