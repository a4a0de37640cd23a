import { rmSync, statSync } from 'node:fs';
import { DigestIndexCorrupt, digestIndexGeneration, DigestIndexFile, RECORD_BYTES, writeDigestIndex, type IndexedRow } from './digest-index-file.js';
import { decodeRows, DigestIndex, encodeRows } from './digest-index-view.js';
import { GenerationLog, GenerationLogCorrupt, type LogBlock } from './generation-log.js';

/** How often a cache that lost its index looks for a fresh one saved by an importer (as `BLOOM_RETRY_MS`). */
const INDEX_RETRY_MS = 1000;
/** How stale the index may be (as `BLOOM_RECHECK_MS`): an import by another process is seen within this time. */
const INDEX_RECHECK_MS = 50;
/**
 * Rows added by imports are kept in a log beside the index (and a map in memory) up to about this many; past it the
 * whole index is rebuilt from the database (in the background where the reader asked for that, see `keep`).
 */
const DELTA_LIMIT = 200_000;
/** A reader that keeps the index and has been without a current one this long asks for a rebuild. */
const REBUILD_AFTER_MS = 10_000;
const LOG_MAGIC = 'CDXL';

export { DigestIndex } from './digest-index-view.js';

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

/** The rows one import added, collected for the index (see `DigestIndexCache.forImport`). */
export interface DigestIndexImport {
  readonly rows: IndexedRow[];
}

/**
 * The digest index beside a known-hash database: `<db>.digests` (every known row, sorted, bucketed; see
 * `DigestIndexFile`) and `<db>.digests.log` (the rows each later import added, one checksummed block per import;
 * see `GenerationLog`). It answers "which rows have this digest" exactly, without SQLite, so a Bloom filter's
 * false "maybe" and a hit on a hash-only row cost one positioned read. Its life cycle follows the Bloom filter
 * cache's: loaded when a long-running reader opens (or built: at once, or in the background); kept current by
 * imports, which append their rows to the log (rebuilt when the log passes DELTA_LIMIT rows or a bulk import
 * cannot say which rows it added); brought on from the log when another process imports, dropped when the log
 * does not reach. A damaged file or log is never believed: it is removed and lookups ask the database.
 */
export class DigestIndexCache {
  readonly #file: string;
  readonly #log: GenerationLog;
  readonly #source: DigestIndexSource;
  readonly #now: () => number;
  readonly #onForeignCommit: () => void;
  #keep = false;
  #rebuild: (() => void) | undefined;
  #index: DigestIndex | undefined;
  #changeCounter = -1;
  #checkedAt = 0;
  #retryAt = 0;
  #lostAt = 0;
  #staleStamp = '';

  private constructor(databasePath: string, source: DigestIndexSource, now: () => number, onForeignCommit: () => void) {
    this.#onForeignCommit = onForeignCommit;
    this.#file = `${databasePath}.digests`;
    this.#log = new GenerationLog(`${databasePath}.digests.log`, LOG_MAGIC);
    // The whole-file delta of earlier versions: never read, and removed with the next build.
    this.#oldDelta = `${databasePath}.digests.delta`;
    this.#source = source;
    this.#now = now;
  }

  readonly #oldDelta: string;

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

  /**
   * Keeps the index for lookups from now on: the saved one if it matches the database, else built at once
   * (`build: 'now'`), or by whoever `build` asks (a thread that builds and saves it; lookups ask the database until
   * it is saved, and it is asked again when the index stays lost for REBUILD_AFTER_MS).
   */
  keep(options: { readonly build: 'now' | (() => void) } = { build: 'now' }): void {
    this.#keep = true;
    this.#changeCounter = this.#source.changeCounter();
    this.#checkedAt = this.#now();
    this.#replace(this.#read());
    if (this.#index !== undefined) {
      // An index saved without a log (an older version, the bench's fixture): start one, so imports can append.
      try {
        if (!this.#log.reaches(this.#index.generation)) this.#log.reset(this.#index.generation);
      } catch {
        // a reader that cannot write beside the database (a check as another user, a read-only mount) goes without
      }
      return;
    }
    if (options.build === 'now') {
      this.#replace(this.build());
      return;
    }
    this.#rebuild = options.build;
    this.#lostAt = this.#now();
    this.#rebuild();
  }

  /**
   * This process's own connection moved the generation on without a log block (a dead or failed import's rows
   * left to a rebuild): its commits do not change the change counter, so the next lookup looks at the generation
   * as after another process's commit, and drops the index that no longer match.
   */
  databaseChanged(): void {
    this.#changeCounter = -1;
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Something was saved beside the database (a background build ended): look at the saved files at the next lookup. */
  savedChanged(): void {
    this.#retryAt = 0;
    this.#staleStamp = '';
    // A rebuild past DELTA_LIMIT: the fresh file replaces the one in memory with its long delta.
    if (this.#keep && this.#index !== undefined) this.#replace(this.#read() ?? this.#index);
  }

  /** True when lookups have a current index now. */
  get ready(): boolean {
    return this.#index !== undefined;
  }

  /** The index for lookups, if it still describes the database (else `undefined`: ask the database). */
  forLookups(now: number = this.#now()): DigestIndex | undefined {
    if (!this.#keep) return undefined;
    if (now - this.#checkedAt >= INDEX_RECHECK_MS) {
      this.#checkedAt = now;
      const counter = this.#source.changeCounter();
      if (counter !== this.#changeCounter) {
        this.#changeCounter = counter;
        this.#onForeignCommit();
        this.#catchUp(now);
      }
    }
    if (this.#index === undefined && now >= this.#retryAt) {
      this.#retryAt = now + INDEX_RETRY_MS;
      const stamp = this.#filesStamp();
      if (stamp !== this.#staleStamp) {
        this.#replace(this.#read());
        if (this.#index === undefined) this.#staleStamp = stamp;
      }
      if (this.#index === undefined && this.#rebuild !== undefined && now - this.#lostAt >= REBUILD_AFTER_MS) {
        this.#lostAt = now;
        this.#rebuild();
      }
    }
    return this.#index;
  }

  /** Another connection committed: bring the index to the database's generation from the log, or drop it. */
  #catchUp(now: number): void {
    const generation = this.#source.generation();
    const index = this.#index;
    if (index === undefined || index.generation === generation) return;
    try {
      const blocks = index.generation < generation ? this.#blocksAfter(index.generation) : undefined;
      if (blocks !== undefined) for (const block of blocks) if (block.generation <= generation) index.extend(decodeRows(block.payload), block.generation);
    } catch (error) {
      if (!(error instanceof DigestIndexCorrupt)) throw error;
      this.damaged(index);
    }
    if (this.#index?.generation === generation) return;
    this.#replace(undefined);
    this.#lostAt = now;
    this.#retryAt = 0;
    this.#staleStamp = '';
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
   * An import moved the database from `generationBefore` on by one. Its rows are appended to the log if the log
   * ended at the generation before (and taken into the index in memory if it described that generation); a bulk
   * import (its rows are not known one by one) or a log past DELTA_LIMIT rows has the index rebuilt. When another
   * process imported in between, the saved index is left stale (and rebuilt by a reader that keeps it).
   */
  imported(collected: DigestIndexImport | undefined, generationBefore: number, bulk: boolean): void {
    if (collected === undefined) return;
    const next = generationBefore + 1;
    let tail: { readonly generation: number; readonly bytes: number } | undefined;
    try {
      tail = this.#log.tail();
      if (tail === undefined && statSync(this.#log.file, { throwIfNoEntry: false }) === undefined) {
        // No log (an index saved by an older version, or the bench's fixture): the file's own generation.
        const base = digestIndexGeneration(this.#file);
        if (base !== undefined) tail = { generation: base, bytes: 0 };
      }
    } catch (error) {
      if (!(error instanceof GenerationLogCorrupt)) throw error;
    }
    const current = this.#index?.generation === generationBefore ? this.#index : undefined;
    if (bulk) {
      // Rebuilt only where an index was current: in memory, or saved (a base and a log that reach).
      if (current !== undefined || tail?.generation === generationBefore) this.#rebuildNow();
      return;
    }
    const logged = tail?.generation === generationBefore;
    if (logged && statSync(this.#log.file, { throwIfNoEntry: false }) === undefined) this.#log.reset(generationBefore);
    if (logged) this.#log.append(next, encodeRows(collected.rows));
    try {
      current?.extend(collected.rows, next);
    } catch (error) {
      if (!(error instanceof DigestIndexCorrupt)) throw error;
      this.damaged(current as DigestIndex);
    }
    // Not logged: the saved index is stale (a reader that keeps one in memory still has it current, and asks for
    // the saved one to be rebuilt). Logged past DELTA_LIMIT: rebuilt, in the background where that was asked for.
    if (logged && (tail as { bytes: number }).bytes + collected.rows.length * RECORD_BYTES <= DELTA_LIMIT * RECORD_BYTES) return;
    if (!logged && current === undefined) return;
    if (this.#rebuild !== undefined) this.#rebuild();
    else if (logged) this.#rebuildNow();
  }

  /** Rows were deleted from the known table in a way the log cannot express: the saved index is dropped. */
  invalidate(): void {
    this.#replace(undefined);
    this.#remove();
  }

  /** Closes the open file. */
  close(): void {
    this.#replace(undefined);
  }

  #rebuildNow(): void {
    const built = this.build();
    if (this.#keep) this.#replace(built);
    else built.close();
  }

  #replace(index: DigestIndex | undefined): void {
    if (this.#index !== undefined && this.#index !== index) this.#index.close();
    this.#index = index;
  }

  /**
   * Builds the index from the database and saves it (a rebuild thread runs this too). The log is started first,
   * so imports that commit while the build reads (minutes at 100M rows) append to it, and the saved index with the
   * log is current when the build ends.
   */
  build(): DigestIndex {
    if (!this.#log.reaches(this.#source.generation())) this.#log.reset(this.#source.generation());
    // One read snapshot: the rows and the generation they are tagged with agree, however long the build takes.
    const generation = this.#source.snapshot(() => {
      const g = this.#source.generation();
      writeDigestIndex(this.#file, g, this.#source.count(), this.#source.rows());
      return g;
    });
    this.#log.rebase(generation);
    rmSync(this.#oldDelta, { force: true });
    const base = DigestIndexFile.open(this.#file, generation);
    if (base === undefined) throw new DigestIndexCorrupt(`${this.#file} changed while it was built`);
    const index = new DigestIndex(base);
    for (const block of this.#blocksAfter(generation) ?? []) index.extend(decodeRows(block.payload), block.generation);
    return index;
  }

  /** The saved index brought to the database's current generation, if the file and log reach it (damaged ones are removed). */
  #read(): DigestIndex | undefined {
    const generation = this.#source.generation();
    let index: DigestIndex | undefined;
    try {
      const baseGeneration = digestIndexGeneration(this.#file);
      if (baseGeneration === undefined || baseGeneration > generation) return undefined;
      const blocks = baseGeneration === generation ? [] : this.#blocksAfter(baseGeneration);
      if (blocks === undefined) return undefined;
      const base = DigestIndexFile.open(this.#file, baseGeneration);
      if (base === undefined) return undefined;
      index = new DigestIndex(base);
      for (const block of blocks) if (block.generation <= generation) index.extend(decodeRows(block.payload), block.generation);
      if (index.generation === generation) return index;
      index.close();
      return undefined;
    } catch (error) {
      if (!(error instanceof DigestIndexCorrupt)) throw error;
      index?.close();
      this.#remove();
      return undefined;
    }
  }

  /** The log's blocks past `generation`, if its chain reaches it; throws `DigestIndexCorrupt` for a damaged log. */
  #blocksAfter(generation: number): readonly LogBlock[] | undefined {
    let contents;
    try {
      contents = this.#log.read();
    } catch (error) {
      if (error instanceof GenerationLogCorrupt) throw new DigestIndexCorrupt(error.message);
      throw error;
    }
    if (contents === undefined || contents.baseGeneration > generation || contents.generation < generation) return undefined;
    return contents.blocks.filter((b) => b.generation > generation);
  }

  #remove(): void {
    for (const f of [this.#file, this.#oldDelta]) rmSync(f, { force: true });
    this.#log.remove();
  }

  #filesExist(): boolean {
    return statSync(this.#file, { throwIfNoEntry: false }) !== undefined || statSync(this.#log.file, { throwIfNoEntry: false }) !== undefined;
  }

  #filesStamp(): string {
    return [this.#file, this.#log.file]
      .map((f) => {
        const st = statSync(f, { throwIfNoEntry: false });
        return st === undefined ? 'missing' : `${st.mtimeMs}:${st.size}`;
      })
      .join('/');
  }
}
