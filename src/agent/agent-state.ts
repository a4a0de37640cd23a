import type Database from 'better-sqlite3';
import type { Observation } from '../core/observation.js';
import { pathKey } from '../core/path-bytes.js';
import { StateDigest } from '../core/state-digest.js';
import { storedFingerprint } from '../core/state-fingerprint.js';
import { encodeObservation, type BatchRequest } from '../protocol/wire.js';
import { openSqlite } from '../platform/open-sqlite.js';
import { AGENT_STATE_DATABASE } from './agent-state-database.js';
import type { CachedFingerprint } from './scan-tree.js';

// Pages of 512 rows: a larger page outlives a few young-generation collections while the scan merges it, is
// promoted, and on a million-file re-check the heap swells (2,000 rows: 189 MB RSS, 512: 148 MB, same time).
const READ_CHUNK = 512;

/** One batch waiting in the outbox. */
export interface OutboxEntry {
  readonly seq: number;
  readonly body: BatchRequest;
}

/**
 * The agent's own small database (`DATA/agent.db`): the cache of what it last reported (path key and fingerprint
 * per entry, untrusted and for speed only), the durable outbox of numbered batches not yet acknowledged, and a few
 * settings. A scan's batch and the cache update it implies are written in one transaction, so after any crash
 * the cache never claims what the outbox does not hold.
 */
export class AgentState {
  readonly #db: Database.Database;
  readonly #maxOutbox: number;
  /** Bumped by every reset: a scan started before one must not write into the state that followed it. */
  #generation = 0;

  private constructor(db: Database.Database, maxOutbox: number) {
    this.#db = db;
    this.#maxOutbox = maxOutbox;
  }

  /** Opens (creating) the state file; `maxOutbox` bounds the outbox in batches. */
  static open(path: string, maxOutbox = 20_000): AgentState {
    return new AgentState(openSqlite(path, AGENT_STATE_DATABASE), maxOutbox);
  }

  /** Gives back the memory SQLite caches for this connection (pages a scan read), as after a fresh open. */
  shrinkMemory(): void {
    this.#db.pragma('shrink_memory');
  }

  /** The cached fingerprints under the ranges, in key order, in chunks (a snapshot: pages by key). */
  async *readFingerprints(ranges: readonly { from: Buffer; to: Buffer }[]): AsyncGenerator<readonly CachedFingerprint[]> {
    const first = this.#db.prepare('SELECT key, fingerprint FROM cache WHERE key >= ? AND key < ? ORDER BY key LIMIT ?').raw(true);
    const next = this.#db.prepare('SELECT key, fingerprint FROM cache WHERE key > ? AND key < ? ORDER BY key LIMIT ?').raw(true);
    for (const range of ranges) {
      let rows = first.all(range.from, range.to, READ_CHUNK) as [Buffer, string][];
      while (rows.length > 0) {
        yield rows.map(([key, fingerprint]) => ({ key, fingerprint }));
        if (rows.length < READ_CHUNK) break;
        rows = next.all((rows[rows.length - 1] as [Buffer, string])[0], range.to, READ_CHUNK) as [Buffer, string][];
      }
    }
  }

  /**
   * Numbers a batch, puts it in the outbox and moves the cache to match, in one transaction. Returns the
   * sequence, or `undefined` when the outbox is full (the caller then starts over with a full resync).
   */
  enqueue(
    agentId: string,
    observations: readonly Observation[],
    extra: Pick<BatchRequest, 'scan' | 'end'> = {},
    generation = this.#generation,
  ): number | 'stale' | undefined {
    return this.#db.transaction((): number | 'stale' | undefined => {
      if (generation !== this.#generation) return 'stale';
      if (this.outboxSize() >= this.#maxOutbox) return undefined;
      const seq = this.#nextSeq();
      const notice = this.getMeta('pending_notice');
      // An older manager refuses a check mask with bits it does not know (see encodeChecks).
      const newerChecks = this.getMeta('manager_inode_attributes') !== undefined;
      const body: BatchRequest = {
        agentId,
        seq,
        ...(extra.scan === undefined ? {} : { scan: extra.scan }),
        ...(notice === 'outbox-overflow' ? { notice } : {}),
        observations: observations.map((o) => encodeObservation(o, newerChecks)),
        ...(extra.end === undefined ? {} : { end: extra.end }),
      };
      this.#db.prepare('INSERT INTO outbox (seq, body, created_at) VALUES (?, ?, ?)').run(seq, JSON.stringify(body), new Date().toISOString());
      this.setMeta('next_seq', String(seq + 1));
      if (notice !== undefined) this.#db.prepare("DELETE FROM meta WHERE key = 'pending_notice'").run();
      const upsert = this.#db.prepare('INSERT INTO cache (key, fingerprint) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint');
      const remove = this.#db.prepare('DELETE FROM cache WHERE key = ? OR (key > ? AND key < ?)');
      for (const o of observations) {
        const key = pathKey(o.path);
        if (o.current === undefined) remove.run(key, Buffer.concat([key, Buffer.of(0)]), Buffer.concat([key, Buffer.of(1)]));
        else upsert.run(key, storedFingerprint(o.current));
      }
      return seq;
    })();
  }

  /** The oldest unacknowledged batch. */
  oldest(): OutboxEntry | undefined {
    const row = this.#db.prepare('SELECT seq, body FROM outbox ORDER BY seq LIMIT 1').raw(true).get() as [number, string] | undefined;
    return row === undefined ? undefined : { seq: row[0], body: JSON.parse(row[1]) as BatchRequest };
  }

  /** Drops every batch up to and including `seq` (the manager holds them). */
  acknowledge(seq: number): void {
    this.#db.prepare('DELETE FROM outbox WHERE seq <= ?').run(seq);
  }

  outboxSize(): number {
    return Number(this.#db.prepare('SELECT count(*) FROM outbox').pluck().get());
  }

  /**
   * Forgets the cache (and, with `dropOutbox`, the unsent batches, numbering restarts at the manager's next
   * expected sequence): the next scan sends everything, and the manager sweeps what it no longer hears of.
   */
  resetForResync(options: { readonly dropOutbox: boolean; readonly nextSeq?: number; readonly notice?: 'outbox-overflow' }): void {
    this.#generation++;
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM cache').run();
      // Until a full scan ends, the next scheduled scan is a full one, whatever realtime writes into the cache.
      this.setMeta('full_scan_pending', '1');
      if (options.dropOutbox) {
        const oldest = this.oldest()?.seq;
        this.#db.prepare('DELETE FROM outbox').run();
        const next = options.nextSeq ?? oldest;
        if (next !== undefined) this.setMeta('next_seq', String(next));
      }
      if (options.notice !== undefined) this.setMeta('pending_notice', options.notice);
    })();
  }

  /** True when nothing is cached: the next scan must be a full one. */
  cacheEmpty(): boolean {
    return this.#db.prepare('SELECT 1 FROM cache LIMIT 1').get() === undefined;
  }

  /** True when the next scheduled scan must send everything (a reset happened, or nothing is cached yet). */
  needsFullScan(): boolean {
    return this.getMeta('full_scan_pending') !== undefined || this.cacheEmpty();
  }

  /** A full scan was enqueued to its end. */
  fullScanDone(): void {
    this.#db.prepare("DELETE FROM meta WHERE key = 'full_scan_pending'").run();
  }

  /** The current generation (see `enqueue`). */
  get generation(): number {
    return this.#generation;
  }

  /** The highest batch number given out so far (0 before the first). */
  highestSeq(): number {
    return this.#nextSeq() - 1;
  }

  /**
   * Drops cached entries outside the given subtrees (directories no longer monitored), so the state digest
   * covers what is watched, as the manager's baseline does once it retired them.
   */
  retainOnly(ranges: readonly { from: Buffer; to: Buffer }[]): number {
    if (ranges.length === 0) return this.#db.prepare('DELETE FROM cache').run().changes;
    // One statement per distinct number of ranges; the configuration has a handful of directories.
    const inside = ranges.map(() => '(key >= ? AND key < ?)').join(' OR ');
    return this.#db.prepare(`DELETE FROM cache WHERE NOT (${inside})`).run(...ranges.flatMap((r) => [r.from, r.to])).changes;
  }

  /** The digest of everything cached, in key order (what the manager's baseline must equal). */
  digest(): { digest: string; entries: number } {
    const d = new StateDigest();
    for (const [key, fingerprint] of this.#db.prepare('SELECT key, fingerprint FROM cache ORDER BY key').raw(true).iterate() as IterableIterator<
      [Buffer, string]
    >) {
      d.add(key, fingerprint);
    }
    return { digest: d.hex(), entries: d.entries };
  }

  getMeta(key: string): string | undefined {
    return (this.#db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined) ?? undefined;
  }

  setMeta(key: string, value: string): void {
    this.#db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  close(): void {
    this.#db.close();
  }

  #nextSeq(): number {
    return Number(this.getMeta('next_seq') ?? '1');
  }
}
