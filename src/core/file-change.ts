import type { CheckSet } from './check-set.js';
import { compareFileState, type Attribute } from './compare-file-state.js';
import type { FileState } from './file-state.js';

/** What happened to a path between two scans. */
export const CHANGE_KINDS = ['added', 'modified', 'deleted'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One change of one path: the states before and after, and which checked attributes differ. */
export type FileChange =
  | { readonly kind: 'added'; readonly path: Buffer; readonly after: FileState; readonly changedAttributes: readonly [] }
  | {
      readonly kind: 'modified';
      readonly path: Buffer;
      readonly before: FileState;
      readonly after: FileState;
      readonly changedAttributes: readonly Attribute[];
    }
  | { readonly kind: 'deleted'; readonly path: Buffer; readonly before: FileState; readonly changedAttributes: readonly [] };

/**
 * The pure decision at the heart of FIM: given what the baseline holds and what the scan saw, returns the change,
 * or `undefined` when nothing that `checks` covers differs (or the path exists on neither side).
 */
export function diffFileStates(before: FileState | undefined, after: FileState | undefined, checks: CheckSet): FileChange | undefined {
  if (before === undefined && after === undefined) return undefined;
  if (before === undefined && after !== undefined) {
    return { kind: 'added', path: after.path, after, changedAttributes: [] };
  }
  if (after === undefined && before !== undefined) {
    return { kind: 'deleted', path: before.path, before, changedAttributes: [] };
  }
  const b = before as FileState;
  const a = after as FileState;
  const changedAttributes = compareFileState(b, a, checks);
  if (changedAttributes.length === 0) return undefined;
  return { kind: 'modified', path: a.path, before: b, after: a, changedAttributes };
}

/** The state a change leaves in the baseline: the new state, or none for a deletion. */
export function stateAfter(change: FileChange): FileState | undefined {
  return change.kind === 'deleted' ? undefined : change.after;
}
