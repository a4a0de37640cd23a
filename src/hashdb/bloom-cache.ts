import { BloomFiles, applyBlocks, type Blooms } from './bloom-files.js';
import { BloomFilter } from './bloom-filter.js';
import { BloomImport } from './bloom-import.js';

export type { Blooms } from './bloom-files.js';

/** How often a cache that lost its filters looks for fresh ones saved by an importer. */
const BLOOM_RETRY_MS = 1000;
/**
 * How stale a filter may be: asking SQLite whether another connection committed costs ~5 µs, more than a whole
 * filtered miss, so it is asked at most this often. An import is seen by lookups within this time.
 */
const BLOOM_RECHECK_MS = 50;
/**
 * The saved log is folded into new base files once it is this fraction of their size: a fold writes the whole
 * filters (188 MB at 100M rows), so imports cost, on average, about eight times the bytes they log.
 */
const FOLD_FRACTION = 1 / 8;
/** A reader that keeps filters and has been without current ones this long asks for a rebuild (see `keep`). */
const REBUILD_AFTER_MS = 10_000;

/** The two digest lists a cache keeps a filter of. */
export type DigestList = 'known' | 'bad';

/** What the cache needs to know of the database it describes (the known-hash store answers with SQL). */
export interface BloomSource {
  /** The database's generation: every import that added rows moves it on by one. */
  generation(): number;
  /** A number that changes whenever another connection commits (SQLite's `data_version`). */
  changeCounter(): number;
  /** Runs `read` in one read snapshot, so digests and the generation they are tagged with agree. */
  snapshot<T>(read: () => T): T;
  /** How many digests a list holds. */
  count(list: DigestList): number;
  /** Every digest of a list. */
  digests(list: DigestList): Iterable<Buffer>;
}

/** How a cache is opened. */
export interface BloomCacheOptions {
  /** Milliseconds of a monotonic clock (default `performance.now`); tests pass their own. */
  readonly now?: () => number;
}

/** How a reader keeps the filters. */
export interface KeepOptions {
  /**
   * Without current saved filters: `now` builds them at once (minutes at 100M rows, the event loop blocked);
   * a function is called instead (the manager starts a thread that builds and saves them), and lookups ask the
   * database until saved filters turn up. It is called again when filters stay lost for REBUILD_AFTER_MS.
   */
  readonly build: 'now' | (() => void);
}

/**
 * The Bloom filter cache in front of a known-hash database: two filters (known, known-bad) saved beside it (see
 * `BloomFiles`: base files tagged with the generation they were saved at, and a log of the digests each import
 * added since). Its life cycle: loaded when a long-running reader opens (or built: at once, or in the background
 * while lookups ask the database); kept current in place by this process's imports, each appending its digests to
 * the log; brought on from the log when another process imports (dropped meanwhile, and when the log does not
 * reach: lookups ask the database until current filters are saved again). Never rebuilt on a lookup.
 */
export class BloomCache {
  readonly #files: BloomFiles;
  readonly #source: BloomSource;
  #keep = false;
  #rebuild: (() => void) | undefined;
  readonly #now: () => number;
  #blooms: Blooms | undefined;
  /** The source's change counter when the generation was last read. */
  #changeCounter = -1;
  #retryAt = 0;
  #checkedAt = 0;
  /** When the filters for lookups were lost (or never had), for REBUILD_AFTER_MS. */
  #lostAt = 0;
  /** Modification stamp of the filter files last found stale, so they are not read again for nothing. */
  #staleStamp = '';

  private constructor(databasePath: string, source: BloomSource, options: BloomCacheOptions) {
    this.#files = new BloomFiles(databasePath);
    this.#source = source;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * The cache of the database at `databasePath`. Until `keep` it keeps no filters for lookups, and only keeps the
   * saved ones current during this process's imports, for the readers that keep them.
   */
  static open(databasePath: string, source: BloomSource, options: BloomCacheOptions = {}): BloomCache {
    return new BloomCache(databasePath, source, options);
  }

  /** Keeps filters in memory for lookups from now on: the saved ones if they match the database, else built (see `KeepOptions`). */
  keep(options: KeepOptions = { build: 'now' }): void {
    this.#keep = true;
    this.#blooms = this.#files.read(this.#source.generation());
    this.#changeCounter = this.#source.changeCounter();
    this.#checkedAt = this.#now();
    if (this.#blooms !== undefined) {
      // Files saved without a log (an older version, the bench's fixture): start one, so imports can append. A reader
      // that cannot write beside the database (a check as another user, a read-only mount) goes without.
      try {
        this.#files.startLog(this.#blooms.generation);
      } catch {
        // the saved files stay as they are: an import then finds no log and leaves them stale
      }
      return;
    }
    if (options.build === 'now') {
      this.#blooms = this.build();
      return;
    }
    this.#rebuild = options.build;
    this.#lostAt = this.#now();
    this.#rebuild();
  }

  /**
   * This process's own connection moved the generation on without a log block (a dead or failed import's rows
   * left to a rebuild): its commits do not change the change counter, so the next lookup looks at the generation
   * as after another process's commit, and drops the filters that no longer match.
   */
  databaseChanged(): void {
    this.#changeCounter = -1;
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Something was saved beside the database (a background build ended): look at the saved files at the next lookup. */
  savedChanged(): void {
    this.#retryAt = 0;
    this.#staleStamp = '';
  }

  /** True when lookups have current filters now. */
  get ready(): boolean {
    return this.#blooms !== undefined;
  }

  /**
   * The filters for lookups, if they still describe the database (else `undefined`: ask the database). Another
   * process (`custos hashdb import`, the apt hook) may add rows while this one runs, and a filter that has not seen
   * them would turn a newly imported known-bad hash into "unknown". So every BLOOM_RECHECK_MS the change counter
   * says whether anyone else committed; on a new generation the filters take in the blocks that importer logged,
   * or are dropped when the log does not bring them there; dropped, the saved ones are read again (at most every
   * BLOOM_RETRY_MS) until they match, and after REBUILD_AFTER_MS a rebuild is asked for.
   */
  forLookups(now: number = this.#now()): Blooms | undefined {
    if (!this.#keep) return undefined;
    if (now - this.#checkedAt >= BLOOM_RECHECK_MS) {
      this.#checkedAt = now;
      const counter = this.#source.changeCounter();
      if (counter !== this.#changeCounter) {
        this.#changeCounter = counter;
        this.#catchUp(now);
      }
    }
    if (this.#blooms === undefined && now >= this.#retryAt) {
      this.#retryAt = now + BLOOM_RETRY_MS;
      const stamp = this.#files.stamp();
      if (stamp !== this.#staleStamp) {
        this.#blooms = this.#files.read(this.#source.generation());
        if (this.#blooms === undefined) this.#staleStamp = stamp;
      }
      if (this.#blooms === undefined && this.#rebuild !== undefined && now - this.#lostAt >= REBUILD_AFTER_MS) {
        this.#lostAt = now;
        this.#rebuild();
      }
    }
    return this.#blooms;
  }

  /** Another connection committed: bring the filters to the database's generation from the log, or drop them. */
  #catchUp(now: number): void {
    const generation = this.#source.generation();
    const blooms = this.#blooms;
    if (blooms === undefined || blooms.generation === generation) return;
    const blocks = blooms.generation < generation ? this.#files.since(blooms.generation) : undefined;
    if (blocks !== undefined) applyBlocks(blooms, blocks);
    if (blooms.generation === generation) return;
    this.#blooms = undefined;
    this.#lostAt = now;
    // Whatever is saved now may already be current: look at once rather than after BLOOM_RETRY_MS.
    this.#retryAt = 0;
    this.#staleStamp = '';
  }

  /**
   * Where an import puts its digests: into the filters in memory if this process keeps them (a bulk import: into
   * the saved ones read now, when they match the database), and for a row import into a list for the saved log.
   */
  forImport(options: { readonly bulk: boolean }): BloomImport {
    const load = (): Blooms | undefined => this.#blooms ?? this.#files.read(this.#source.generation());
    return new BloomImport(options.bulk ? load() : this.#blooms, !options.bulk, load);
  }

  /**
   * An import that added rows moved the database from `generationBefore` on by one. Filters in memory that
   * described the generation before took in its rows and move on with it (when another process imported in
   * between, they lack its rows and are left as they were, to be caught up or dropped). The saved filters move on
   * only if they stood at the generation before: by one appended block (a row import), or by a new base (a bulk
   * import, or a log grown past FOLD_FRACTION of the base); otherwise they stay stale.
   */
  imported(session: BloomImport, generationBefore: number): void {
    const next = generationBefore + 1;
    const filters = session.filters !== undefined && session.filters.generation === generationBefore ? session.filters : undefined;
    if (filters !== undefined) filters.generation = next;
    const tail = this.#files.tail();
    const added = session.added;
    if (added !== undefined && tail?.generation === generationBefore) {
      this.#files.append(next, added);
      if (tail.logBytes <= tail.baseBytes * FOLD_FRACTION) return;
      const whole = filters ?? this.#files.read(next);
      if (whole !== undefined) this.#files.save(whole);
      return;
    }
    // A bulk import (or a row import past COLLECT_LIMIT), or a log that does not end where this import started:
    // whole filters that are current are saved as a new base; without them the saved filters stay stale.
    if (filters !== undefined) this.#files.save(filters);
  }

  /**
   * Builds the filters from the database and saves them (a rebuild thread runs this; a reader that keeps filters
   * with `build: 'now'` too). The log is started first, so imports that commit while the build reads append to it
   * and the saved base, with the log, is current when the build ends.
   */
  build(): Blooms {
    this.#files.startLog(this.#source.generation());
    // One read snapshot: the digests and the generation they are tagged with agree, however long the build takes
    // and whatever another process imports meanwhile.
    const blooms = this.#source.snapshot(() => ({ generation: this.#source.generation(), known: this.#build('known'), bad: this.#build('bad') }));
    this.#files.save(blooms);
    return blooms;
  }

  #build(list: DigestList): BloomFilter {
    // Room to grow: later imports add to the filter in place until it is rebuilt.
    const bloom = BloomFilter.forCapacity(this.#source.count(list) * 1.5 + 100_000);
    for (const digest of this.#source.digests(list)) bloom.add(digest);
    return bloom;
  }
}
