import type Database from 'better-sqlite3';
import type { KnownHashVerdict } from '../../core/known-hash-verdict.js';
import { pathKey } from '../../core/path-bytes.js';
import type { ContentGroup, ContentGroups, FleetSearchQueries, HashHit, HashHitCursor, SearchDigest } from '../fleet-search-queries.js';
import { hashHitFromRow, type HashHitRow } from '../console-rows.js';

// The digest column is chosen from this fixed map, never from the caller's text.
const DIGEST_COLUMN: Readonly<Record<SearchDigest, string>> = { md5: 'b.md5', sha1: 'b.sha1', sha256: 'b.sha256' };
// How many of a group's hosts are tried for a recorded verdict before the group is shown without one.
const VERDICT_PROBES = 3;

interface GroupRow {
  type: string;
  sha256: string | null;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  uname: string | null;
  gname: string | null;
  n: number;
}

/**
 * Fleet search over the SQLite baseline: a digest search is a range of the digest's index (baseline_by_md5/sha1/
 * sha256), a path's groups a range of baseline_by_path; revoked agents are left out by joining their row.
 */
export class SqliteFleetSearch implements FleetSearchQueries {
  readonly #db: Database.Database;

  /** `db`: a connection to a store whose schema includes the fleet-search migration. */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  async hostsWithDigest(digest: SearchDigest, value: string, limit: number, after?: HashHitCursor): Promise<readonly HashHit[]> {
    const rows = this.#db
      .prepare(
        `SELECT b.agent_id, g.name AS agent_name, b.path_key, b.type, b.size, b.mode, b.uid, b.gid, b.uname, b.gname, b.sha256
         FROM baseline b JOIN agents g ON g.id = b.agent_id AND g.revoked_at IS NULL
         WHERE ${DIGEST_COLUMN[digest]} = ? AND (b.agent_id, b.path_key) > (?, ?) ORDER BY b.agent_id, b.path_key LIMIT ?`,
      )
      .all(value, after?.agentId ?? '', after?.pathKey ?? Buffer.alloc(0), limit) as HashHitRow[];
    return rows.map(hashHitFromRow);
  }

  async contentGroupsAt(path: Buffer, query: { readonly limit: number; readonly offset: number; readonly hostLimit: number }): Promise<ContentGroups> {
    const key = pathKey(path);
    const live = 'FROM baseline b JOIN agents g ON g.id = b.agent_id AND g.revoked_at IS NULL WHERE b.path_key = ?';
    const totals = this.#db
      .prepare(
        `SELECT count(*) AS hosts, count(DISTINCT b.type || '/' || ifnull(b.sha256, '') || '/' || b.mode || '/' || b.uid || '/' || b.gid) AS groups ${live}`,
      )
      .get(key) as {
      hosts: number;
      groups: number;
    };
    // Smallest group first: the host that differs from every other is what an intrusion looks like.
    const groups = this.#db
      .prepare(
        `SELECT b.type, b.sha256, b.mode, b.uid, b.gid, max(b.size) AS size, max(b.uname) AS uname, max(b.gname) AS gname, count(*) AS n ${live}
         GROUP BY b.type, b.sha256, b.mode, b.uid, b.gid ORDER BY n, b.sha256, b.mode, b.uid, b.gid, b.type LIMIT ? OFFSET ?`,
      )
      .all(key, query.limit, query.offset) as GroupRow[];
    const hostsOf = this.#db.prepare(
      `SELECT b.agent_id AS id, g.name ${live} AND b.type = ? AND b.sha256 IS ? AND b.mode = ? AND b.uid = ? AND b.gid = ? ORDER BY b.agent_id LIMIT ?`,
    );
    return {
      hostCount: totals.hosts,
      groupCount: totals.groups,
      groups: groups.map((r): ContentGroup => {
        const hosts = hostsOf.all(key, r.type, r.sha256, r.mode, r.uid, r.gid, query.hostLimit) as { id: string; name: string }[];
        const verdict =
          r.sha256 === null
            ? undefined
            : this.#recordedVerdict(
                hosts.slice(0, VERDICT_PROBES).map((h) => h.id),
                key,
                r.sha256,
              );
        return {
          type: r.type,
          mode: r.mode,
          uid: r.uid,
          gid: r.gid,
          size: r.size,
          hostCount: r.n,
          hosts,
          ...(r.sha256 === null ? {} : { sha256: r.sha256 }),
          ...(r.uname === null ? {} : { uname: r.uname }),
          ...(r.gname === null ? {} : { gname: r.gname }),
          ...(verdict === undefined ? {} : { verdict }),
        };
      }),
    };
  }

  /** The verdict of the latest recorded change to this content at this path on one of `agents` (events_by_path). */
  #recordedVerdict(agents: readonly string[], key: Buffer, sha256: string): KnownHashVerdict | undefined {
    const latest = this.#db.prepare(
      `SELECT json_extract(data, '$.verdict') AS verdict FROM events
       WHERE agent_id = ? AND path_key = ? AND json_extract(data, '$.after.h.sha256') = ? ORDER BY id DESC LIMIT 1`,
    );
    for (const agent of agents) {
      const row = latest.get(agent, key, sha256) as { verdict: string | null } | undefined;
      if (row !== undefined && row.verdict !== null) return JSON.parse(row.verdict) as KnownHashVerdict;
    }
    return undefined;
  }
}
