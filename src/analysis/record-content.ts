import type { CapturedContent } from '../core/diff/content-capture.js';
import { looksBinary } from '../core/diff/content-capture.js';
import { describeContentChange, type ContentOutcome } from '../core/diff/describe-content-change.js';
import { redactSecrets } from '../core/diff/redact-secrets.js';
import type { FileChange } from '../core/file-change.js';
import type { ContentStore } from '../storage/content-store.js';

/** What {@link recordContent} needs besides the change. */
export interface RecordContentOptions {
  readonly store: ContentStore;
  readonly agentId: string;
  /** Files larger than this get no diff (and no copy). */
  readonly sizeLimitBytes: number;
  /** Extra secret-line patterns, besides the built-in rules. */
  readonly redact: readonly RegExp[];
}

/**
 * Keeps the new version of a `report_changes` file (redacted, compressed, counted against the quota) and returns
 * the text of the alert's `syscheck.diff`: for a modification, the diff against the kept copy or why there is
 * none; for a new file nothing (its content is only recorded, for the next change); a deletion forgets the copy.
 */
export function recordContent(change: FileChange, captured: CapturedContent, options: RecordContentOptions): string | undefined {
  const { store, agentId } = options;
  if (change.kind === 'deleted') {
    store.remove(agentId, change.path);
    return undefined;
  }
  const previous = change.kind === 'modified' ? store.get(agentId, change.path) : undefined;
  const outcome = keepNew(change.path, captured, options);
  if (change.kind !== 'modified') return undefined;
  if (outcome.kind === 'unavailable') return describeContentChange(change, outcome);
  if (previous === undefined) return describeContentChange(change, { kind: 'unavailable', reason: 'first-version' });
  if (previous.kind === 'missing')
    return describeContentChange(change, { kind: 'unavailable', reason: previous.reason, limitBytes: options.sizeLimitBytes, earlier: true });
  return describeContentChange(change, { kind: 'diff', before: previous.text, after: outcome.text });
}

/** Stores the new version (or why there is none) and says what it was. */
function keepNew(
  path: Buffer,
  captured: CapturedContent,
  options: RecordContentOptions,
): { kind: 'text'; text: string } | Extract<ContentOutcome, { kind: 'unavailable' }> {
  const { store, agentId } = options;
  if (captured.kind === 'none') {
    store.markMissing(agentId, path, captured.reason);
    // The reader's limit when it says (an agent applied its own diff_size_limit), else this side's.
    return { kind: 'unavailable', reason: captured.reason, limitBytes: captured.limitBytes ?? options.sizeLimitBytes };
  }
  if (captured.bytes.length > options.sizeLimitBytes) {
    store.markMissing(agentId, path, 'too-large');
    return { kind: 'unavailable', reason: 'too-large', limitBytes: options.sizeLimitBytes };
  }
  if (looksBinary(captured.bytes)) {
    store.markMissing(agentId, path, 'binary');
    return { kind: 'unavailable', reason: 'binary' };
  }
  // Redacted before it is stored: a secret line never reaches the database, so no diff can show it.
  const { text } = redactSecrets(captured.bytes.toString('utf8'), options.redact);
  store.put(agentId, path, captured.sha256, text);
  return { kind: 'text', text };
}
