import type Database from 'better-sqlite3';
import { chainHash, decodeEventRecord, encodeEventRecord, GENESIS_HASH, type EventRecord } from '../../core/event-record.js';
import { pathKey } from '../../core/path-bytes.js';
import { checkChain, type ChainHead, type ChainRow } from '../check-chain.js';
import type { ChainAnchor, ChainReport, HistoryQuery, HistoryRepository, RetentionOutcome, StoredEvent } from '../history-repository.js';
import { HISTORY_PAGE_ROWS, historyFilter } from './history-filter.js';
import { HistorySummaries } from './history-summaries.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { SqliteHistoryRetention } from './sqlite-history-retention.js';

/** A history record just appended that carries an alert: what the alert queue needs to point at it. */
export interface AppendedAlert {
  readonly alertId: string;
  readonly eventId: bigint;
  readonly record: EventRecord;
}

/** The append-only, hash-chained history in SQLite (see the `events` and `chain_heads` tables). */
export class SqliteHistoryRepository implements HistoryRepository {
  readonly #conn: SqliteConnection;
  readonly #getHead: Database.Statement;
  readonly #upsertHead: Database.Statement;
  readonly #insertEvent: Database.Statement;
  readonly #retention: SqliteHistoryRetention;
  readonly #summaries: HistorySummaries;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
    this.#summaries = new HistorySummaries(conn.db);
    this.#retention = new SqliteHistoryRetention(conn);
    this.#getHead = conn.statement('SELECT last_id, last_hash, length FROM chain_heads WHERE agent_id = ?', 'raw', true);
    this.#upsertHead = conn.statement(
      'INSERT INTO chain_heads (agent_id, last_id, last_hash, length) VALUES (?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash, length = excluded.length',
    );
    this.#insertEvent = conn.statement('INSERT INTO events (agent_id, ts, kind, outcome, path_key, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  }

  /**
   * Appends records to an agent's chain, each linked to the one before, and moves the chain's head; the caller
   * holds the batch's transaction. Returns the records that carry an alert, with their ids.
   */
  appendInTransaction(agentId: string, records: readonly EventRecord[]): AppendedAlert[] {
    const alerts: AppendedAlert[] = [];
    if (records.length === 0) return alerts;
    const head = this.#getHead.get(agentId) as [bigint, string, bigint] | undefined;
    let prev = head === undefined ? GENESIS_HASH : head[1];
    let length = head === undefined ? 0 : Number(head[2]);
    let firstId: bigint | undefined;
    let lastId = 0n;
    for (const record of records) {
      const data = encodeEventRecord(record);
      const hash = chainHash(prev, data);
      lastId = BigInt(
        this.#insertEvent.run(agentId, record.timestamp, record.change.kind, record.outcome, pathKey(record.change.path), data, prev, hash).lastInsertRowid,
      );
      firstId ??= lastId;
      if (record.alertId !== undefined) alerts.push({ alertId: record.alertId, eventId: lastId, record });
      prev = hash;
      length++;
    }
    this.#upsertHead.run(agentId, lastId, prev, length);
    this.#summaries.recordsAdded(firstId ?? lastId, lastId);
    return alerts;
  }

  async *queryEvents(query: HistoryQuery): AsyncIterable<StoredEvent> {
    if (query.limit !== undefined && query.limit <= 0) return;
    const filter = historyFilter(query, { agent: 'agent_id', ts: 'ts', path: 'path_key' });
    // Only what was committed when the query began: a history growing while it is read does not keep it going.
    const upper = Number(this.#conn.statement('SELECT coalesce(max(id), 0) FROM events', 'pluck').get());
    let after = 0;
    if (query.limit !== undefined) {
      // The newest `limit` records: start just before the oldest of them, found from the newest end.
      const first = this.#conn
        .statement(`SELECT id FROM events WHERE ${filter.where} AND id <= ? ORDER BY id DESC LIMIT 1 OFFSET ?`, 'pluck')
        .get(...filter.params, upper, query.limit - 1) as number | undefined;
      if (first !== undefined) after = first - 1;
    }
    const page = this.#conn.statement(`SELECT id, hash, data FROM events WHERE ${filter.where} AND id > ? AND id <= ? ORDER BY id LIMIT ?`, 'raw');
    for (;;) {
      // Each page is read whole before the consumer sees a row: no statement stays open across its awaits.
      const rows = page.all(...filter.params, after, upper, HISTORY_PAGE_ROWS) as [number, string, string][];
      for (const [id, hash, data] of rows) yield { id, hash, record: decodeEventRecord(data) };
      if (rows.length < HISTORY_PAGE_ROWS) return;
      after = (rows[rows.length - 1] as [number, string, string])[0];
    }
  }

  async chainHead(agentId: string): Promise<{ lastId: number; lastHash: string; length: number } | undefined> {
    const row = this.#conn.statement('SELECT last_id, last_hash, length FROM chain_heads WHERE agent_id = ?', 'raw').get(agentId) as
      [number, string, number] | undefined;
    return row === undefined ? undefined : { lastId: Number(row[0]), lastHash: String(row[1]), length: Number(row[2]) };
  }

  async eventHash(agentId: string, eventId: number): Promise<string | undefined> {
    return this.#conn.statement('SELECT hash FROM events WHERE id = ? AND agent_id = ?', 'pluck').get(eventId, agentId) as string | undefined;
  }

  async hasChainHash(agentId: string, hash: string): Promise<boolean> {
    // No index on hash: a full pass over the agent's history, which `verify` makes anyway.
    return this.#conn.statement('SELECT 1 FROM events WHERE agent_id = ? AND hash = ? LIMIT 1', 'pluck').get(agentId, hash) !== undefined;
  }

  async countChanges(agentId: string, path: Buffer, atMost: number): Promise<number> {
    // The first records only, in order: bounded however often a noisy file changed.
    const kinds = this.#conn
      .statement('SELECT kind FROM events WHERE agent_id = ? AND path_key = ? ORDER BY id LIMIT ?', 'pluck')
      .all(agentId, pathKey(path), atMost + 1) as string[];
    return Math.min(atMost, kinds.length - (kinds[0] === 'added' ? 1 : 0));
  }

  async dropHistoryBefore(before: string): Promise<RetentionOutcome> {
    return this.#retention.dropBefore(before);
  }

  async chainAnchors(): Promise<readonly ChainAnchor[]> {
    return this.#retention.anchors();
  }

  async verifyChain(agentId?: string): Promise<ChainReport> {
    const anchors = new Map<string, ChainAnchor>();
    for (const a of await this.#retention.anchors()) if (agentId === undefined || a.agentId === agentId) anchors.set(a.agentId, a);
    const heads = new Map<string, ChainHead>();
    const headRows = this.#conn.statement('SELECT agent_id, last_hash, length FROM chain_heads', 'raw').all() as [string, string, number][];
    for (const [agent, lastHash, length] of headRows) {
      if (agentId === undefined || agent === agentId) heads.set(agent, { lastHash, length });
    }
    const where = agentId === undefined ? '' : 'WHERE agent_id = ?';
    const stmt = this.#conn.privateStatement(
      `SELECT id, agent_id, ts, kind, outcome, path_key, data, prev_hash, hash FROM events ${where} ORDER BY agent_id, id`,
      'raw',
    );
    const rows = (agentId === undefined ? stmt.iterate() : stmt.iterate(agentId)) as IterableIterator<unknown[]>;
    const mapped = (function* (): Generator<ChainRow> {
      for (const r of rows) {
        yield {
          id: Number(r[0]),
          agentId: String(r[1]),
          ts: String(r[2]),
          kind: String(r[3]),
          outcome: String(r[4]),
          pathKey: r[5] as Buffer,
          data: String(r[6]),
          prevHash: String(r[7]),
          hash: String(r[8]),
        };
      }
    })();
    return checkChain(mapped, heads, anchors);
  }
}
