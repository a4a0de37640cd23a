import { createHash } from 'node:crypto';
import type { FileHashes, FileState } from './file-state.js';

/**
 * The digests the known-hash database is asked about for a state. A regular file's are its own. A symlink has no
 * content, but its target is what a package ships (`libfoo.so.1 → libfoo.so.1.2.3`), so its "content" is the
 * SHA-256 of the target bytes; importers store package symlinks the same way, so library bumps are explained
 * like any other packaged file.
 */
export function contentDigests(state: FileState): FileHashes {
  if (state.type === 'symlink' && state.linkTarget !== undefined) return { sha256: linkDigest(state.linkTarget) };
  return state.hashes;
}

/** SHA-256 (hex) of a symlink target's bytes. */
export function linkDigest(target: Buffer): string {
  return createHash('sha256').update(target).digest('hex');
}
