import { hasHashIssue, type FileState } from './file-state.js';

/**
 * When a file could not be read this time (permission denied), keeps the last trusted digests on its new state,
 * so the next readable scan compares against them rather than against nothing. The issue stays on the state, so
 * its fingerprint never matches and the file is read again next time.
 *
 * Only while the stat still says nothing touched the file (same size, times, inode and device): digests carried
 * onto a file whose stat moved would let a file that was rewritten (and keeps being touched, so that it never
 * reads cleanly) pass as unchanged.
 */
export function carryForwardDigests(previous: FileState | undefined, current: FileState): FileState {
  if (previous?.type !== 'file' || current.type !== 'file' || !hasHashIssue(current)) return current;
  if (Object.keys(current.hashes).length > 0) return current;
  if (!sameStat(previous, current)) return current;
  return { ...current, hashes: previous.hashes };
}

function sameStat(a: FileState, b: FileState): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.inode === b.inode && a.dev === b.dev;
}
