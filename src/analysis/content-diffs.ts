import type { CapturedContent } from '../core/diff/content-capture.js';
import { BUILTIN_NODIFF, nodiffMatch, type ContentPolicy } from '../core/diff/content-policy.js';
import { describeContentChange } from '../core/diff/describe-content-change.js';
import type { FileChange } from '../core/file-change.js';
import type { Observation } from '../core/observation.js';
import type { ContentStore } from '../storage/content-store.js';
import { recordContent } from './record-content.js';

/** Gives ingest the `syscheck.diff` of a change, keeping the content copies up to date on the way. */
export interface ContentDiffs {
  diffFor(agentId: string, change: FileChange, observation: Observation): Promise<string | undefined>;
}

/** Reads a file's content for a diff: at most `limitBytes`, through no symlink, checked against `sha256`. */
export type ReadContent = (path: Buffer, limitBytes: number, sha256: string | undefined) => Promise<CapturedContent>;

/**
 * Standalone mode: the configuration decides which files report changes, and their content is read from the
 * disk here, only for files that changed.
 */
export function localContentDiffs(deps: {
  readonly store: ContentStore;
  readonly policy: ContentPolicy;
  readonly redact: readonly RegExp[];
  readonly read: ReadContent;
}): ContentDiffs {
  return {
    async diffFor(agentId, change) {
      if (change.kind === 'deleted') {
        deps.store.remove(agentId, change.path);
        return undefined;
      }
      const decision = deps.policy.decide(change.path);
      if (!decision.report) return undefined;
      if (decision.nodiff) return nodiffText(change, agentId, deps.store, decision.pattern);
      if (!contentChanged(change)) return undefined;
      const captured =
        change.after.type === 'file'
          ? await deps.read(change.path, decision.sizeLimitBytes, change.after.hashes.sha256)
          : ({ kind: 'none', reason: 'not-regular' } as const);
      return recordContent(change, captured, { store: deps.store, agentId, sizeLimitBytes: decision.sizeLimitBytes, redact: deps.redact });
    },
  };
}

/**
 * The manager: an agent attaches the content of a changed report_changes file to its observation (its own
 * configuration decided, and its own nodiff list kept secrets home); the built-in nodiff list is applied again
 * here, so an agent configured without it still never has a shadow file stored.
 */
export function remoteContentDiffs(deps: {
  readonly store: ContentStore;
  readonly redact: readonly RegExp[];
  readonly sizeLimitBytes: number;
  readonly builtinNodiff: boolean;
}): ContentDiffs {
  return {
    async diffFor(agentId, change, observation) {
      if (change.kind === 'deleted') {
        deps.store.remove(agentId, change.path);
        return undefined;
      }
      const captured = observation.content;
      if (captured === undefined) return undefined;
      const pattern = deps.builtinNodiff ? nodiffMatch(change.path, BUILTIN_NODIFF) : undefined;
      if (pattern !== undefined || (captured.kind === 'none' && captured.reason === 'nodiff')) {
        return nodiffText(change, agentId, deps.store, pattern ?? (captured.kind === 'none' ? captured.detail : undefined));
      }
      if (!contentChanged(change)) return undefined;
      return recordContent(change, captured, { store: deps.store, agentId, sizeLimitBytes: deps.sizeLimitBytes, redact: deps.redact });
    },
  };
}

/** A metadata-only change (chmod, chown, touch) leaves the content, and its copy, as they were. */
function contentChanged(change: Exclude<FileChange, { kind: 'deleted' }>): boolean {
  if (change.kind === 'added') return true;
  const before = change.before.hashes.sha256;
  const after = change.after.hashes.sha256;
  return before === undefined || after === undefined || before !== after;
}

/** Drops any copy kept before the file became nodiff, and says why a modification has no diff. */
function nodiffText(change: Exclude<FileChange, { kind: 'deleted' }>, agentId: string, store: ContentStore, pattern: string | undefined): string | undefined {
  store.remove(agentId, change.path);
  if (change.kind !== 'modified') return undefined;
  return describeContentChange(change, { kind: 'unavailable', reason: 'nodiff', ...(pattern === undefined ? {} : { pattern }) });
}
