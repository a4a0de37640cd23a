import type { KnownHashVerdict } from '../../core/known-hash-verdict.js';
import { pathFromKey, pathKey } from '../../core/path-bytes.js';
import type { AlertBucket, ChangedPath, FleetAgent } from '../console-queries.js';
import type { ContentGroup, ContentGroups, HashHit, HashHitCursor, SearchDigest } from '../fleet-search-queries.js';
import { PATH_HOURS_KEPT_MS, windowEdges } from '../window-edges.js';
import type { PostgresDatabase } from './postgres-database.js';
import { FLEET_AGENTS_SQL, fleetAgentFromRow, hashHitFromRow, type FleetAgentRow } from '../console-rows.js';

// The digest column is chosen from this fixed map, never from the caller's text.
const DIGEST_COLUMN: Readonly<Record<SearchDigest, string>> = { md5: 'b.md5', sha1: 'b.sha1', sha256: 'b.sha256' };
const VERDICT_PROBES = 3;
const LIVE = 'FROM baseline b JOIN agents g ON g.id = b.agent_id AND g.revoked_at IS NULL WHERE b.path_key = $1';

/** The fleet overview (from the summary tables) and fleet search (baseline indexes) on PostgreSQL. */
export class PostgresFleetQueries {
  readonly #db: PostgresDatabase;

  /** `db`: the store's database, its schema brought up to date. */
  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  async fleetAgents(nowMs: number, silentAfterMs: number): Promise<readonly FleetAgent[]> {
    const agents = (await this.#db.query<FleetAgentRow>(FLEET_AGENTS_SQL)).rows;
    const open = (await this.#db.query<{ agent_id: string; level: number; open: string }>('SELECT agent_id, level, open FROM alert_open_counts WHERE open > 0'))
      .rows;
    const byAgent = new Map<string, Record<string, number>>();
    for (const row of open) byAgent.set(row.agent_id, { ...byAgent.get(row.agent_id), [String(row.level)]: Number(row.open) });
    return agents.map((a) => fleetAgentFromRow(a, byAgent, nowMs, silentAfterMs));
  }

  async alertsOverTime(since: string, bucket: 'hour' | 'day'): Promise<readonly AlertBucket[]> {
    const e = windowEdges(since);
    const rows = (
      await this.#db.query<{ bucket: string; level: number; count: string }>(
        `SELECT * FROM (SELECT substr(bucket, 1, $4) AS bucket, level, sum(n) AS count FROM (
           SELECT substr(ts, 1, 13) AS bucket, level, count(*) AS n FROM alerts WHERE ts >= $1 AND ts < $2 GROUP BY 1, 2
           UNION ALL SELECT substr(ts, 1, 13), level, count(*) FROM agent_alerts WHERE ts >= $1 AND ts < $2 GROUP BY 1, 2
           UNION ALL SELECT hour, level, alerts FROM alert_hours WHERE hour >= $3
         ) x GROUP BY 1, 2) y ORDER BY bucket COLLATE "C", level`,
        [e.since, e.hourEnd, e.hourEnd.slice(0, 13), bucket === 'hour' ? 13 : 10],
      )
    ).rows;
    return rows.map((r) => ({ bucket: r.bucket, level: r.level, count: Number(r.count) }));
  }

  async mostChangedPaths(since: string, limit: number): Promise<readonly ChangedPath[]> {
    const e = windowEdges(since);
    // See the SQLite engine: whole hours from the hour summaries while kept, whole days from the day summaries.
    const rawEnd = Date.parse(e.hourEnd) >= Date.now() - PATH_HOURS_KEPT_MS ? e.hourEnd : e.dayEnd;
    const values: unknown[] = [];
    const p = (value: unknown): string => `$${values.push(value)}`;
    const parts = [
      ...(e.since < rawEnd
        ? [`SELECT agent_id, path_key, count(*) AS n FROM events WHERE ts >= ${p(e.since)} AND ts < ${p(rawEnd)} GROUP BY agent_id, path_key`]
        : []),
      ...(rawEnd < e.dayEnd
        ? [
            `SELECT agent_id, path_key, sum(changes) AS n FROM path_change_hours WHERE hour >= ${p(rawEnd.slice(0, 13))} AND hour < ${p(e.dayEnd.slice(0, 13))} GROUP BY agent_id, path_key`,
          ]
        : []),
      `SELECT agent_id, path_key, sum(changes) AS n FROM path_change_days WHERE day >= ${p(e.dayEnd.slice(0, 10))} GROUP BY agent_id, path_key`,
    ];
    const sql = `SELECT agent_id, path_key, sum(n) AS n FROM (${parts.join(' UNION ALL ')}) x GROUP BY agent_id, path_key ORDER BY n DESC, agent_id COLLATE "C", path_key LIMIT ${p(limit)}`;
    const rows = (await this.#db.query<{ agent_id: string; path_key: Buffer; n: string }>(sql, values)).rows;
    return rows.map((r) => ({ agentId: r.agent_id, path: pathFromKey(r.path_key), changes: Number(r.n) }));
  }

  async hostsWithDigest(digest: SearchDigest, value: string, limit: number, after?: HashHitCursor): Promise<readonly HashHit[]> {
    const rows = (
      await this.#db.query<{
        agent_id: string;
        agent_name: string;
        path_key: Buffer;
        type: string;
        size: string;
        mode: string;
        uid: string;
        gid: string;
        uname: string | null;
        gname: string | null;
        sha256: string | null;
      }>(
        `SELECT b.agent_id, g.name AS agent_name, b.path_key, b.type, b.size, b.mode, b.uid, b.gid, b.uname, b.gname, b.sha256
         FROM baseline b JOIN agents g ON g.id = b.agent_id AND g.revoked_at IS NULL
         WHERE ${DIGEST_COLUMN[digest]} = $1 AND (b.agent_id, b.path_key) > ($2, $3) ORDER BY b.agent_id, b.path_key LIMIT $4`,
        [value, after?.agentId ?? '', after?.pathKey ?? Buffer.alloc(0), limit],
      )
    ).rows;
    return rows.map(hashHitFromRow);
  }

  async contentGroupsAt(path: Buffer, query: { readonly limit: number; readonly offset: number; readonly hostLimit: number }): Promise<ContentGroups> {
    const key = pathKey(path);
    const totals = (
      await this.#db.query<{ hosts: string; groups: string }>(
        `SELECT count(*) AS hosts, count(DISTINCT (b.type, b.sha256, b.mode, b.uid, b.gid)) AS groups ${LIVE}`,
        [key],
      )
    ).rows[0];
    // Smallest group first: the host that differs from every other is what an intrusion looks like.
    const groups = (
      await this.#db.query<{
        type: string;
        sha256: string | null;
        mode: string;
        uid: string;
        gid: string;
        size: string;
        uname: string | null;
        gname: string | null;
        n: string;
      }>(
        `SELECT b.type, b.sha256, b.mode, b.uid, b.gid, max(b.size) AS size, max(b.uname) AS uname, max(b.gname) AS gname, count(*) AS n ${LIVE}
         GROUP BY b.type, b.sha256, b.mode, b.uid, b.gid ORDER BY n, b.sha256 COLLATE "C" NULLS FIRST, b.mode, b.uid, b.gid, b.type COLLATE "C" LIMIT $2 OFFSET $3`,
        [key, query.limit, query.offset],
      )
    ).rows;
    const out: ContentGroup[] = [];
    for (const r of groups) {
      const hosts = (
        await this.#db.query<{ id: string; name: string }>(
          `SELECT b.agent_id AS id, g.name ${LIVE} AND b.type = $2 AND b.sha256 IS NOT DISTINCT FROM $3 AND b.mode = $4 AND b.uid = $5 AND b.gid = $6 ORDER BY b.agent_id LIMIT $7`,
          [key, r.type, r.sha256, r.mode, r.uid, r.gid, query.hostLimit],
        )
      ).rows;
      const verdict =
        r.sha256 === null
          ? undefined
          : await this.#recordedVerdict(
              hosts.slice(0, VERDICT_PROBES).map((h) => h.id),
              key,
              r.sha256,
            );
      out.push({
        type: r.type,
        mode: Number(r.mode),
        uid: Number(r.uid),
        gid: Number(r.gid),
        size: Number(r.size),
        hostCount: Number(r.n),
        hosts,
        ...(r.sha256 === null ? {} : { sha256: r.sha256 }),
        ...(r.uname === null ? {} : { uname: r.uname }),
        ...(r.gname === null ? {} : { gname: r.gname }),
        ...(verdict === undefined ? {} : { verdict }),
      });
    }
    return { hostCount: Number(totals?.hosts ?? 0), groupCount: Number(totals?.groups ?? 0), groups: out };
  }

  async #recordedVerdict(agents: readonly string[], key: Buffer, sha256: string): Promise<KnownHashVerdict | undefined> {
    for (const agent of agents) {
      const row = (
        await this.#db.query<{ verdict: string | null }>(
          `SELECT (data::jsonb)->>'verdict' AS verdict FROM events WHERE agent_id = $1 AND path_key = $2 AND (data::jsonb)->'after'->'h'->>'sha256' = $3 ORDER BY id DESC LIMIT 1`,
          [agent, key, sha256],
        )
      ).rows[0];
      if (row !== undefined && row.verdict !== null) return JSON.parse(row.verdict) as KnownHashVerdict;
    }
    return undefined;
  }
}
