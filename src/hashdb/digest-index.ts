import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { decodeRecord, DigestIndexCorrupt, DigestIndexFile, encodeRecord, RECORD_BYTES, writeDigestIndex, type IndexedRow } from './digest-index-file.js';

/** How often a cache that lost its index looks for a fresh one saved by an importer (as `BLOOM_RETRY_MS`). */
const INDEX_RETRY_MS = 1000;
/** How stale the index may be (as `BLOOM_RECHECK_MS`): an import by another process is seen within this time. */
const INDEX_RECHECK_MS = 50;
/**
 * Rows added by imports are kept in a delta (a small file beside the index, and a map in memory) up to this many;
 * an import that would pass it rebuilds the whole index from the database instead.
 */
const DELTA_LIMIT = 200_000;
const DELTA_MAGIC = 'CDXD';
const DELTA_HEADER_BYTES = 32;

/** What the index cache reads of the database it describes (the known-hash store answers with SQL). */
export interface DigestIndexSource {
  /** The database's generation: every import that added rows moves it on by one. */
  generation(): number;
  /** A number that changes whenever another connection commits (SQLite's `data_version`). */
  changeCounter(): number;
  /** Runs `read` in one read snapshot, so rows and the generation they are tagged with agree. */
  snapshot<T>(read: () => T): T;
  /** How many rows the known table holds. */
  count(): number;
  /** Every row of the known table, in key order (digest bytes first). */
  rows(): Iterable<IndexedRow>;
}

/** The digest index of one generation, for lookups: the file, plus the rows imported since it was written. */
export class DigestIndex {
  readonly generation: number;
  readonly #base: DigestIndexFile;
  readonly #delta: ReadonlyMap<string, readonly IndexedRow[]>;
  readonly deltaRows: number;

  constructor(base: DigestIndexFile, delta: ReadonlyMap<string, readonly IndexedRow[]>, deltaRows: number, generation: number) {
    this.#base = base;
    this.#delta = delta;
    this.deltaRows = deltaRows;
    this.generation = generation;
  }

  /** Every known row with exactly this digest: none means the known table has none. Throws `DigestIndexCorrupt`. */
  find(digest: Buffer): readonly IndexedRow[] {
    const found = this.#base.find(digest);
    if (this.#delta.size === 0) return found;
    const added = this.#delta.get(digest.toString('latin1'));
    return added === undefined ? found : [...found, ...added];
  }

  /** The rows added since the file was written (to carry them into the next delta). */
  deltaEntries(): IndexedRow[] {
    return [...this.#delta.values()].flat();
  }

  get baseGeneration(): number {
    return this.#base.generation;
  }

  close(): void {
    this.#base.close();
  }
}

/** The rows one import added, collected for the index (see `DigestIndexCache.forImport`). */
export interface DigestIndexImport {
  readonly rows: IndexedRow[];
}

/**
 * The digest index beside a known-hash database: `<db>.digests` (every known row, sorted, bucketed; see
 * `DigestIndexFile`) and `<db>.digests.delta` (rows imported since). It answers "which rows have this digest"
 * exactly, without SQLite, so a Bloom filter's false "maybe" and a hit on a hash-only row cost one positioned
 * read. Its life cycle follows the Bloom filter cache's: built (or loaded) when a long-running reader opens; kept
 * current by imports (in the delta, or rebuilt when the delta grows past DELTA_LIMIT or a bulk import cannot say
 * which rows it added); dropped when another process's import makes it stale and picked up again once that
 * importer saved a fresh one. A damaged file is never believed: it is dropped and lookups ask the database.
 */
export class DigestIndexCache {
  readonly #file: string;
  readonly #deltaFile: string;
  readonly #source: DigestIndexSource;
  readonly #now: () => number;
  readonly #onForeignCommit: () => void;
  #keep = false;
  #index: DigestIndex | undefined;
  #changeCounter = -1;
  #checkedAt = 0;
  #retryAt = 0;
  #staleStamp = '';

  private constructor(databasePath: string, source: DigestIndexSource, now: () => number, onForeignCommit: () => void) {
    this.#onForeignCommit = onForeignCommit;
    this.#file = `${databasePath}.digests`;
    this.#deltaFile = `${databasePath}.digests.delta`;
    this.#source = source;
    this.#now = now;
  }

  /**
   * The cache of the database at `databasePath`; keeps nothing for lookups until `keep`. `onForeignCommit` is told
   * when it notices that another connection committed (what is cached beside the index may be stale too).
   */
  static open(
    databasePath: string,
    source: DigestIndexSource,
    options: { readonly now?: () => number; readonly onForeignCommit?: () => void } = {},
  ): DigestIndexCache {
    return new DigestIndexCache(databasePath, source, options.now ?? (() => performance.now()), options.onForeignCommit ?? (() => {}));
  }

  /** Keeps the index for lookups from now on: the saved one if it matches the database, else built (and saved) now. */
  keep(): void {
    this.#keep = true;
    this.#replace(this.#read() ?? this.#build());
  }

  /** The index for lookups, if it still describes the database (else `undefined`: ask the database). */
  forLookups(): DigestIndex | undefined {
    if (!this.#keep) return undefined;
    const now = this.#now();
    if (now - this.#checkedAt >= INDEX_RECHECK_MS) {
      this.#checkedAt = now;
      const counter = this.#source.changeCounter();
      if (counter !== this.#changeCounter) {
        this.#changeCounter = counter;
        this.#onForeignCommit();
        if (this.#source.generation() !== this.#index?.generation) this.#replace(undefined);
      }
    }
    if (this.#index === undefined && now >= this.#retryAt) {
      this.#retryAt = now + INDEX_RETRY_MS;
      const stamp = this.#filesStamp();
      if (stamp !== this.#staleStamp) {
        this.#replace(this.#read());
        if (this.#index === undefined) this.#staleStamp = stamp;
      }
    }
    return this.#index;
  }

  /**
   * A lookup found `index` damaged: drop it (and its files, so no reader believes them); lookups ask the database.
   * Nothing happens if it was already replaced.
   */
  damaged(index: DigestIndex): void {
    if (index !== this.#index) return;
    this.#replace(undefined);
    this.#remove();
  }

  /** Where an import collects the rows it adds, when there is an index to keep current (in memory or saved). */
  forImport(): DigestIndexImport | undefined {
    if (this.#index === undefined && !this.#filesExist()) return undefined;
    return { rows: [] };
  }

  /**
   * An import moved the database from `generationBefore` on by one. The index takes in its rows (`bulk`: they are
   * not known one by one, so the index is rebuilt) if it described the generation before; when another process
   * imported in between it is left stale, and rebuilt by the next reader that keeps it.
   */
  imported(collected: DigestIndexImport | undefined, generationBefore: number, bulk: boolean): void {
    if (collected === undefined) return;
    const current = this.#index?.generation === generationBefore ? this.#index : this.#readAt(generationBefore);
    if (current === undefined) {
      if (this.#keep) this.#replace(undefined);
      return;
    }
    if (bulk || current.deltaRows + collected.rows.length > DELTA_LIMIT) {
      if (current !== this.#index) current.close();
      this.#replace(this.#build());
      return;
    }
    const rows = [...current.deltaEntries(), ...collected.rows];
    this.#writeDelta(current.baseGeneration, generationBefore + 1, rows);
    const next = this.#readAt(generationBefore + 1);
    if (current !== this.#index) current.close();
    this.#replace(this.#keep ? next : (next?.close(), undefined));
  }

  /** Rows were deleted from the known table in a way the delta cannot express: the saved index is dropped. */
  invalidate(): void {
    this.#replace(undefined);
    this.#remove();
  }

  /** Closes the open file. */
  close(): void {
    this.#replace(undefined);
  }

  #replace(index: DigestIndex | undefined): void {
    if (this.#index !== undefined && this.#index !== index) this.#index.close();
    this.#index = index;
  }

  #build(): DigestIndex {
    // One read snapshot: the rows and the generation they are tagged with agree, however long the build takes.
    const generation = this.#source.snapshot(() => {
      const g = this.#source.generation();
      writeDigestIndex(this.#file, g, this.#source.count(), this.#source.rows());
      return g;
    });
    rmSync(this.#deltaFile, { force: true });
    const base = DigestIndexFile.open(this.#file, generation);
    if (base === undefined) throw new DigestIndexCorrupt(`${this.#file} changed while it was built`);
    return new DigestIndex(base, new Map(), 0, generation);
  }

  /** The saved index if it describes the database's current generation (a damaged one is removed). */
  #read(): DigestIndex | undefined {
    return this.#readAt(this.#source.generation());
  }

  #readAt(generation: number): DigestIndex | undefined {
    try {
      const delta = this.#readDelta();
      const baseGeneration = delta !== undefined && delta.generation === generation ? delta.baseGeneration : generation;
      const base = DigestIndexFile.open(this.#file, baseGeneration);
      if (base === undefined) return undefined;
      if (baseGeneration === generation) return new DigestIndex(base, new Map(), 0, generation);
      const map = new Map<string, IndexedRow[]>();
      for (const row of (delta as { rows: IndexedRow[] }).rows) {
        const key = row.digest.toString('latin1');
        const list = map.get(key);
        if (list === undefined) map.set(key, [row]);
        else list.push(row);
      }
      return new DigestIndex(base, map, (delta as { rows: IndexedRow[] }).rows.length, generation);
    } catch (error) {
      if (!(error instanceof DigestIndexCorrupt)) throw error;
      this.#remove();
      return undefined;
    }
  }

  #readDelta(): { baseGeneration: number; generation: number; rows: IndexedRow[] } | undefined {
    let data: Buffer;
    try {
      data = readFileSync(this.#deltaFile);
    } catch {
      return undefined;
    }
    if (data.length < DELTA_HEADER_BYTES || data.toString('latin1', 0, 4) !== DELTA_MAGIC) throw new DigestIndexCorrupt(`${this.#deltaFile}: not a delta`);
    const count = data.readDoubleLE(24);
    if (data.length !== DELTA_HEADER_BYTES + count * RECORD_BYTES) throw new DigestIndexCorrupt(`${this.#deltaFile}: truncated`);
    const rows: IndexedRow[] = [];
    for (let i = 0; i < count; i++) rows.push(decodeRecord(data, DELTA_HEADER_BYTES + i * RECORD_BYTES));
    return { baseGeneration: data.readDoubleLE(8), generation: data.readDoubleLE(16), rows };
  }

  #writeDelta(baseGeneration: number, generation: number, rows: readonly IndexedRow[]): void {
    const data = Buffer.alloc(DELTA_HEADER_BYTES + rows.length * RECORD_BYTES);
    data.write(DELTA_MAGIC, 0, 'latin1');
    data.writeUInt32LE(1, 4);
    data.writeDoubleLE(baseGeneration, 8);
    data.writeDoubleLE(generation, 16);
    data.writeDoubleLE(rows.length, 24);
    rows.forEach((row, i) => encodeRecord(data, DELTA_HEADER_BYTES + i * RECORD_BYTES, row));
    // Written aside and renamed: a reader never sees half a delta.
    const fd = openSync(`${this.#deltaFile}.tmp`, 'w', 0o644);
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(`${this.#deltaFile}.tmp`, this.#deltaFile);
  }

  #remove(): void {
    for (const f of [this.#file, this.#deltaFile]) rmSync(f, { force: true });
  }

  #filesExist(): boolean {
    try {
      statSync(this.#file);
      return true;
    } catch {
      return false;
    }
  }

  #filesStamp(): string {
    return [this.#file, this.#deltaFile]
      .map((f) => {
        try {
          const st = statSync(f);
          return `${st.mtimeMs}:${st.size}`;
        } catch {
          return 'missing';
        }
      })
      .join('/');
  }
}
