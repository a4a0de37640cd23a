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
}
