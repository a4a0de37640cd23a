import type { EventRecord } from '../core/event-record.js';

/** A history record as stored: its position, its chain hash, and the record. */
export interface StoredEvent {
  readonly id: number;
  readonly hash: string;
  readonly record: EventRecord;
}

/** Filters for reading the history or the alerts; all optional. */
export interface HistoryQuery {
  readonly agentId?: string;
  /** ISO 8601; only entries at or after this time. */
  readonly since?: string;
  /** Only this path and what lies below it. */
  readonly path?: Buffer;
  /** Newest entries only, at most this many (results stay in chronological order). */
  readonly limit?: number;
}

/** The result of checking every agent's history chain. */
export interface ChainReport {
  readonly ok: boolean;
  readonly checked: number;
  /** The first record that does not verify, with why. */
  readonly firstBroken?: { readonly agentId: string; readonly eventId: number; readonly reason: string };
  /** Where each chain that retention shortened now starts (absent when no history was ever dropped). */
  readonly starts?: readonly ChainStart[];
}

/**
 * Where an agent's kept history starts once retention dropped its oldest records: the anchor kept when they were
 * dropped (how many, and the hash of the last one, which the first kept record must chain from).
 */
export interface ChainAnchor {
  readonly agentId: string;
  /** How many records of the chain were dropped, in all. */
  readonly droppedRecords: number;
  /** The id, time and chain hash of the last record dropped. */
  readonly lastDroppedId: number;
  readonly lastDroppedAt: string;
  readonly lastDroppedHash: string;
}

/** An anchor as `verify` reports it: with the first kept record (absent when every record was dropped). */
export interface ChainStart extends ChainAnchor {
  readonly firstKept?: { readonly id: number; readonly at: string };
}

/** What one retention pass did. */
export interface RetentionOutcome {
  /** Records dropped, and the agents whose chains they were taken from. */
  readonly droppedRecords: number;
  readonly agents: readonly string[];
  /** Set when older history was kept back, with why (a chain the time order would cut in the middle). */
  readonly heldBack?: string;
}

/**
 * The append-only, hash-chained history of every agent. Records are appended only by `Store.commit`; reads
 * stream in pages, so a history of millions of records is never held in memory at once.
 */
export interface HistoryRepository {
  /** History records, oldest first, read page by page. */
  queryEvents(query: HistoryQuery): AsyncIterable<StoredEvent>;
  /** Recomputes every chain link and compares each chain's end with the recorded head. */
  verifyChain(agentId?: string): Promise<ChainReport>;
  /** The end of an agent's history chain (its last record's id and hash, and the chain's length), if it has one. */
  chainHead(agentId: string): Promise<{ readonly lastId: number; readonly lastHash: string; readonly length: number } | undefined>;
  /** The chain hash of one history record of an agent, if the record exists. */
  eventHash(agentId: string, eventId: number): Promise<string | undefined>;
  /** True when some history record of the agent has this chain hash (a head copied off the host earlier). */
  hasChainHash(agentId: string, hash: string): Promise<boolean>;
  /**
   * How many changes of exactly this path the history holds, counted as OSSEC counts a file's changes (every
   * record but the one of its first appearance), up to `atMost`: what OSSEC's rules 551 and 552 need.
   */
  countChanges(agentId: string, path: Buffer, atMost: number): Promise<number>;
  /**
   * History retention: drops the records made before `before` (the first instant of a month, see
   * `retentionBoundary`), only ever a prefix of each agent's chain, and keeps each shortened chain's anchor so
   * `verifyChain` still proves what is kept. PostgreSQL drops whole monthly partitions; SQLite deletes in
   * bounded batches. An alert still waiting for its sinks is never dropped.
   */
  dropHistoryBefore(before: string): Promise<RetentionOutcome>;
  /** The anchors of the chains retention shortened. */
  chainAnchors(): Promise<readonly ChainAnchor[]>;
}
