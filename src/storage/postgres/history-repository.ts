import type { AgentAlert, AnyAlert } from '../../core/build-alert.js';
import { chainHash, decodeEventRecord, encodeEventRecord, GENESIS_HASH, type EventRecord } from '../../core/event-record.js';
import { pathKey } from '../../core/path-bytes.js';
import { checkChain, type ChainHead, type ChainRow } from '../check-chain.js';
import type { ChainAnchor, ChainReport, HistoryQuery, StoredEvent } from '../store.js';
import { fileAlertFromRecord } from '../file-alert-from-record.js';
import { historySql } from './history-sql.js';
import { mergeByTime, snapshotRead } from './snapshot-read.js';
import { PostgresHistoryRetention } from './history-retention.js';
import type { PostgresDatabase, Queryable } from './postgres-database.js';

/** History rows read per page by `verifyChain`: the chain is checked as it streams, never held whole. */
const VERIFY_PAGE = 2000;

/** The append-only, hash-chained history of every agent, and the alerts raised on it. */
export class PostgresHistoryRepository {
  readonly #db: PostgresDatabase;
  /** The monthly partitions: made ahead of the records that need them, dropped by retention. */
  readonly retention: PostgresHistoryRetention;

  constructor(db: PostgresDatabase) {
    this.#db = db;
    this.retention = new PostgresHistoryRetention(db);
  }

  /**
   * Appends records to an agent's chain and moves its head, inside the caller's transaction, which must hold the
   * agent's lock (see `PostgresStore.commit`): ids are taken in one go and ascend in chain order. Returns the ids
   * of the alerts recorded, in order.
   */
  async append(q: Queryable, agentId: string, records: readonly EventRecord[]): Promise<string[]> {
    if (records.length === 0) return [];
    const head = (await q.query<{ last_hash: string; length: string }>('SELECT last_hash, length FROM chain_heads WHERE agent_id = $1', [agentId])).rows[0];
    const { rows: idRows } = await q.query<{ id: string }>("SELECT nextval('custos_event_ids') AS id FROM generate_series(1, $1)", [records.length]);
    const ids = idRows.map((r) => BigInt(r.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let prev = head?.last_hash ?? GENESIS_HASH;
    const cols: unknown[][] = [[], [], [], [], [], [], [], []];
    const alerts: unknown[][] = [[], [], [], [], []];
    records.forEach((record, i) => {
      const data = encodeEventRecord(record);
      const hash = chainHash(prev, data);
      const id = String(ids[i]);
      [id, record.timestamp, record.change.kind, record.outcome, pathKey(record.change.path), data, prev, hash].forEach((v, c) => cols[c]?.push(v));
      if (record.alertId !== undefined)
        [record.alertId, id, record.timestamp, record.rule?.id ?? 0, record.rule?.level ?? 0].forEach((v, c) => alerts[c]?.push(v));
      prev = hash;
    });
    await q.query(
      'INSERT INTO events (id, agent_id, ts, kind, outcome, path_key, data, prev_hash, hash) SELECT i, $1, t, k, o, p, d, ph, h FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[], $8::text[], $9::text[]) AS u(i, t, k, o, p, d, ph, h)',
      [agentId, ...cols],
    );
    if ((alerts[0] ?? []).length > 0) {
      await q.query(
        'INSERT INTO alerts (id, event_id, agent_id, ts, rule_id, level) SELECT a, e, $1, t, r, l FROM unnest($2::text[], $3::bigint[], $4::text[], $5::int[], $6::int[]) AS u(a, e, t, r, l) ORDER BY e',
        [agentId, ...alerts],
      );
    }
    const length = Number(head?.length ?? 0) + records.length;
    await q.query(
      'INSERT INTO chain_heads (agent_id, last_id, last_hash, length) VALUES ($1, $2, $3, $4) ON CONFLICT (agent_id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, length = excluded.length',
      [agentId, String(ids[ids.length - 1]), prev, length],
    );
    return alerts[0] as string[];
  }

  /** Records an agent alert, inside the caller's transaction. */
  async insertAgentAlert(q: Queryable, alert: AgentAlert): Promise<void> {
    await q.query('INSERT INTO agent_alerts (id, agent_id, ts, rule_id, level, json) VALUES ($1, $2, $3, $4, $5, $6)', [
      alert.id,
      alert.agent.id,
      alert.timestamp,
      alert.rule.id,
      alert.rule.level,
      JSON.stringify(alert),
    ]);
  }

  /** The history the query selects, in id order, read page by page from one snapshot. */
  queryEvents(query: HistoryQuery): AsyncIterable<StoredEvent> {
    if (query.limit !== undefined && query.limit <= 0) return emptyRead<StoredEvent>();
    const { text, values } = historySql('SELECT id, hash, data FROM events', 'id', query);
    return snapshotRead(this.#db, async function* (reader) {
      for await (const row of reader.rows<{ id: string; hash: string; data: string }>(text, values))
        yield { id: Number(row.id), hash: row.hash, record: decodeEventRecord(row.data) };
    });
  }

  /**
   * File and agent alerts merged by time (a file alert first on a tie), read page by page from one snapshot. With
   * a limit, the newest that many of the two together: they are among the newest that many of each, so those are
   * read and the excess skipped.
   */
  queryAlerts(query: HistoryQuery, names: ReadonlyMap<string, string>): AsyncIterable<AnyAlert> {
    if (query.limit !== undefined && query.limit <= 0) return emptyRead<AnyAlert>();
    const files = historySql('SELECT a.ts, a.seq, a.id, e.data FROM alerts a JOIN events e ON e.id = a.event_id', ['a.ts', 'a.seq'], query, {
      agent: 'a.agent_id',
      ts: 'a.ts',
      path: 'e.path_key',
    });
    // Agent alerts concern no path: a query by path lists file alerts only.
    const agents = query.path === undefined ? historySql('SELECT ts, seq, json FROM agent_alerts', ['ts', 'seq'], query) : undefined;
    return snapshotRead(this.#db, async function* (reader) {
      const count = async (sql: { text: string; values: unknown[] }): Promise<number> =>
        Number((await reader.query<{ n: string }>(`SELECT count(*) AS n FROM (${sql.text}) AS counted`, sql.values))[0]?.n ?? 0);
      let skip = query.limit === undefined ? 0 : Math.max(0, (await count(files)) + (agents === undefined ? 0 : await count(agents)) - query.limit);
      const fileRows = reader.rows<{ ts: string; id: string; data: string }>(files.text, files.values);
      const agentRows =
        agents === undefined ? emptyRead<{ ts: string; json: string }>() : reader.rows<{ ts: string; json: string }>(agents.text, agents.values);
      for await (const next of mergeByTime(
        fileRows,
        agentRows[Symbol.asyncIterator](),
        (r) => r.ts,
        (r) => r.ts,
      )) {
        if (skip > 0) {
          skip--;
          continue;
        }
        if (next.from === 'b') {
          yield JSON.parse(next.item.json) as AgentAlert;
        } else {
          const alert = fileAlertFromRecord(next.item.id, next.item.data, names);
          if (alert !== undefined) yield alert;
        }
      }
    });
  }

  async chainHead(agentId: string): Promise<{ lastId: number; lastHash: string; length: number } | undefined> {
    const row = (
      await this.#db.query<{ last_id: string; last_hash: string; length: string }>('SELECT last_id, last_hash, length FROM chain_heads WHERE agent_id = $1', [
        agentId,
      ])
    ).rows[0];
    return row === undefined ? undefined : { lastId: Number(row.last_id), lastHash: row.last_hash, length: Number(row.length) };
  }

  async eventHash(agentId: string, eventId: number): Promise<string | undefined> {
    return (await this.#db.query<{ hash: string }>('SELECT hash FROM events WHERE id = $1 AND agent_id = $2', [eventId, agentId])).rows[0]?.hash;
  }

  async hasChainHash(agentId: string, hash: string): Promise<boolean> {
    return (await this.#db.query('SELECT 1 FROM events WHERE agent_id = $1 AND hash = $2 LIMIT 1', [agentId, hash])).rows.length > 0;
  }

  /** How many changes of exactly this path the history holds, as OSSEC counts them (see `HistoryRepository`). */
  async countChanges(agentId: string, path: Buffer, atMost: number): Promise<number> {
    // The first records only, in order: bounded however often a noisy file changed.
    const kinds = (
      await this.#db.query<{ kind: string }>('SELECT kind FROM events WHERE agent_id = $1 AND path_key = $2 ORDER BY id LIMIT $3', [
        agentId,
        pathKey(path),
        atMost + 1,
      ])
    ).rows.map((r) => r.kind);
    return Math.min(atMost, kinds.length - (kinds[0] === 'added' ? 1 : 0));
  }

  /**
   * Checks every chain (or one agent's) from one snapshot: the heads, the anchors and the pages of records agree in
   * time. The lock comes first: retention's DETACH waits for it, so no partition vanishes under the read (a dropped
   * table is gone for every snapshot).
   */
  async verifyChain(agentId?: string): Promise<ChainReport> {
    return this.#db.transaction(async (q) => {
      await q.query('LOCK TABLE events IN ACCESS SHARE MODE');
      const anchors = new Map<string, ChainAnchor>();
      for (const a of await this.retention.anchors(q)) if (agentId === undefined || a.agentId === agentId) anchors.set(a.agentId, a);
      const heads = new Map<string, ChainHead>();
      const headRows = await q.query<{ agent_id: string; last_hash: string; length: string }>('SELECT agent_id, last_hash, length FROM chain_heads');
      for (const r of headRows.rows)
        if (agentId === undefined || r.agent_id === agentId) heads.set(r.agent_id, { lastHash: r.last_hash, length: Number(r.length) });
      return checkChain(pagedChainRows(q, agentId), heads, anchors);
    }, 'REPEATABLE READ');
  }
}

async function* pagedChainRows(q: Queryable, agentId: string | undefined): AsyncIterable<ChainRow> {
  let after: [string, string] | undefined;
  for (;;) {
    const values: unknown[] = [];
    const where: string[] = [];
    if (agentId !== undefined) where.push(`agent_id = $${values.push(agentId)}`);
    if (after !== undefined) where.push(`(agent_id COLLATE "C", id) > ($${values.push(after[0])}::text COLLATE "C", $${values.push(after[1])}::bigint)`);
    const { rows } = await q.query<{
      id: string;
      agent_id: string;
      ts: string;
      kind: string;
      outcome: string;
      path_key: Buffer;
      data: string;
      prev_hash: string;
      hash: string;
    }>(
      `SELECT id, agent_id, ts, kind, outcome, path_key, data, prev_hash, hash FROM events ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY agent_id COLLATE "C", id LIMIT ${VERIFY_PAGE}`,
      values,
    );
    for (const r of rows)
      yield {
        id: Number(r.id),
        agentId: r.agent_id,
        ts: r.ts,
        kind: r.kind,
        outcome: r.outcome,
        pathKey: r.path_key,
        data: r.data,
        prevHash: r.prev_hash,
        hash: r.hash,
      };
    const last = rows[rows.length - 1];
    if (rows.length < VERIFY_PAGE || last === undefined) return;
    after = [last.agent_id, last.id];
  }
}

/** A read that yields nothing (a limit of 0, or a source a query leaves out). */
async function* emptyRead<T>(): AsyncGenerator<T> {}
