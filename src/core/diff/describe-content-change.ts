import type { FileChange } from '../file-change.js';
import type { DiffUnavailableReason } from './content-capture.js';
import { unifiedDiff } from './unified-diff.js';

/** A change's content outcome: a diff of the stored copies, or why there is none. */
export type ContentOutcome =
  | { readonly kind: 'diff'; readonly before: string; readonly after: string }
  | {
      readonly kind: 'unavailable';
      readonly reason: DiffUnavailableReason;
      readonly limitBytes?: number;
      readonly pattern?: string;
      /** The reason is the earlier version's (it had no copy), not the new one's. */
      readonly earlier?: boolean;
    };

/** Lines of diff an alert carries at most (the rest is counted in "… N more lines"). */
export const MAX_DIFF_LINES = 200;

/**
 * The text of `syscheck.diff` for a modification: the unified diff of the (redacted) old and new content, or one
 * line saying why there is none, with the sizes and SHA-256s of both versions so the change is still pinned.
 */
export function describeContentChange(change: Extract<FileChange, { kind: 'modified' }>, outcome: ContentOutcome): string {
  if (outcome.kind === 'diff') {
    const diff = unifiedDiff(outcome.before, outcome.after, { maxLines: MAX_DIFF_LINES });
    return diff.text === '' ? 'content unchanged (after redaction)' : diff.text;
  }
  const sizes = `size ${change.before.size} -> ${change.after.size} bytes`;
  const sha =
    change.before.hashes.sha256 === undefined || change.after.hashes.sha256 === undefined
      ? ''
      : `, sha256 ${change.before.hashes.sha256} -> ${change.after.hashes.sha256}`;
  return `${unavailableText(outcome)} (${sizes}${sha})`;
}

/** One line saying why a diff is missing: `diff not stored: nodiff (/etc/shadow)`. */
export function unavailableText(outcome: Extract<ContentOutcome, { kind: 'unavailable' }>): string {
  if (outcome.earlier === true && outcome.reason !== 'quota' && outcome.reason !== 'first-version') {
    return `diff not available: no copy of the earlier version (${unavailableText({ ...outcome, earlier: false }).replace(/^diff not (available|stored): /, '')})`;
  }
  switch (outcome.reason) {
    case 'nodiff':
      return `diff not stored: nodiff${outcome.pattern === undefined ? '' : ` (${outcome.pattern})`}`;
    case 'first-version':
      return 'diff not available: first version recorded, no earlier copy to compare with';
    case 'too-large':
      return `diff not available: file over the ${outcome.limitBytes ?? 0}-byte diff size limit`;
    case 'binary':
      return 'diff not available: binary content';
    case 'quota':
      return 'diff not available: the earlier copy was evicted by the disk quota';
    case 'changed-while-read':
      return 'diff not available: the file changed while its content was read';
    case 'unreadable':
      return 'diff not available: the content could not be read';
    case 'not-regular':
      return 'diff not available: not a regular file';
  }
}
