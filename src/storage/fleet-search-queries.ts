import type { KnownHashVerdict } from '../core/known-hash-verdict.js';

/** The digests fleet search takes; which one a digest is follows from its length (32, 40 or 64 hex digits). */
export const SEARCH_DIGESTS = ['md5', 'sha1', 'sha256'] as const;
export type SearchDigest = (typeof SEARCH_DIGESTS)[number];

/** A position in a hash search's listing: the last (agent, path key) of the page before. */
export interface HashHitCursor {
  readonly agentId: string;
  readonly pathKey: Buffer;
}

/** One current baseline entry, on one host, whose content has the digest searched for. */
export interface HashHit {
  readonly agentId: string;
  readonly agentName: string;
  readonly path: Buffer;
  readonly pathKey: Buffer;
  readonly type: string;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname?: string;
  readonly gname?: string;
  readonly sha256?: string;
}

/** What hosts agree on at one path: the content and who owns it with which mode. */
export interface ContentKey {
  readonly type: string;
  /** Absent for an entry without content digests (a directory, or hashing turned off). */
  readonly sha256?: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** One group of hosts with the same content at a path, and what the known-hash database said of that content. */
export interface ContentGroup extends ContentKey {
  readonly size: number;
  readonly uname?: string;
  readonly gname?: string;
  /** How many hosts are in the group (all of them, not just those listed). */
  readonly hostCount: number;
  /** The first hosts of the group by id, at most the limit asked for. */
  readonly hosts: readonly { readonly id: string; readonly name: string }[];
  /** The verdict recorded when one of these hosts last changed to this content, when a change was recorded. */
  readonly verdict?: KnownHashVerdict;
}

/** The hosts' baselines at one path, grouped by content, the smallest group (the odd host out) first. */
export interface ContentGroups {
  /** Hosts (not revoked) whose baseline has the path. */
  readonly hostCount: number;
  /** How many distinct groups there are in all (the page is `groups`). */
  readonly groupCount: number;
  readonly groups: readonly ContentGroup[];
}

/**
 * Fleet search over the agents' current baselines (revoked agents left out): every answer is an index range of
 * the baseline (by digest, or by path), bounded by its limit.
 */
export interface FleetSearchQueries {
  /** Baseline entries whose `digest` is `value` (lower-case hex), by agent then path, after `after` (keyset paging). */
  hostsWithDigest(digest: SearchDigest, value: string, limit: number, after?: HashHitCursor): Promise<readonly HashHit[]>;
  /** The content groups at `path`, smallest first, `limit` of them from `offset`, each with up to `hostLimit` hosts. */
  contentGroupsAt(path: Buffer, query: { readonly limit: number; readonly offset: number; readonly hostLimit: number }): Promise<ContentGroups>;
}
