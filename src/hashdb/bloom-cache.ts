import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { BloomFilter } from './bloom-filter.js';

/** How often a cache that lost its filters looks for fresh ones saved by an importer. */
const BLOOM_RETRY_MS = 1000;
/**
 * How stale a filter may be: asking SQLite whether another connection committed costs ~5 µs, more than a whole
 * filtered miss, so it is asked at most this often. An import is seen by lookups within this time.
 */
const BLOOM_RECHECK_MS = 50;

/** The Bloom filters of the known and known-bad digests, and the database generation they describe. */
export interface Blooms {
  readonly known: BloomFilter;
  readonly bad: BloomFilter;
  generation: number;
}

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

/**
 * The Bloom filter cache in front of a known-hash database: two filters (known, known-bad) saved beside it as
 * `<db>.bloom` and `<db>.bad.bloom`, tagged with the database generation they were built from. Its life cycle:
 * built (or loaded) when a long-running reader opens; kept current in place by imports and saved as the new
 * generation; dropped when another process's import makes them stale, and picked up again once that importer
 * saved fresh ones. Never rebuilt on a lookup: at 100 million rows that takes minutes.
 */
export class BloomCache {
  readonly #files: readonly [known: string, bad: string];
  readonly #source: BloomSource;
  #keep = false;
  readonly #now: () => number;
  #blooms: Blooms | undefined;
  /** The source's change counter when the generation was last read. */
  #changeCounter = -1;
  #retryAt = 0;
  #checkedAt = 0;
  /** Modification stamp of the filter files last found stale, so they are not read again for nothing. */
  #staleStamp = '';

  private constructor(databasePath: string, source: BloomSource, options: BloomCacheOptions) {
    this.#files = [`${databasePath}.bloom`, `${databasePath}.bad.bloom`];
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

  /** Keeps filters in memory for lookups from now on: the saved ones if they match the database, else built (and saved) now. */
  keep(): void {
    this.#keep = true;
    this.#blooms = this.#load();
  }

  /**
   * The filters for lookups, if they still describe the database (else `undefined`: ask the database). Another
   * process (`custos hashdb import`, the apt hook) may add rows while this one runs, and a filter that has not seen
   * them would turn a newly imported known-bad hash into "unknown". So every BLOOM_RECHECK_MS the change counter
   * says whether anyone else committed; on a new generation the filters are dropped, and the ones the importer
   * saved are loaded (at most every BLOOM_RETRY_MS) as soon as they match.
   */
  forLookups(): Blooms | undefined {
    if (!this.#keep) return undefined;
    const now = this.#now();
    if (now - this.#checkedAt >= BLOOM_RECHECK_MS) {
      this.#checkedAt = now;
      const counter = this.#source.changeCounter();
      if (counter !== this.#changeCounter) {
        this.#changeCounter = counter;
        if (this.#source.generation() !== this.#blooms?.generation) this.#blooms = undefined;
      }
    }
    if (this.#blooms === undefined && now >= this.#retryAt) {
      this.#retryAt = now + BLOOM_RETRY_MS;
      const stamp = this.#filesStamp();
      if (stamp !== this.#staleStamp) {
        this.#blooms = this.#read();
        if (this.#blooms === undefined) this.#staleStamp = stamp;
      }
    }
    return this.#blooms;
  }

  /**
   * The filters an import adds its digests to: the ones in memory, else the saved ones when they match the
   * database (so a long-running reader can pick them up), else none (whoever calls `keep` builds them).
   */
  forImport(): Blooms | undefined {
    return this.#blooms ?? this.#read();
  }

  /**
   * An import that added rows moved the database from `generationBefore` on by one. The filters that took in its
   * rows are saved as the new generation only if they described the one before: when another process imported in
   * between, they lack its rows and are left stale (readers then ask the database until filters are rebuilt).
   */
  imported(blooms: Blooms | undefined, generationBefore: number): void {
    if (blooms === undefined || blooms.generation !== generationBefore) return;
    blooms.generation = generationBefore + 1;
    this.#save(blooms);
  }

  /** The saved filters if they match the database, else filters built from it (and saved). */
  #load(): Blooms {
    const saved = this.#read();
    if (saved !== undefined) return saved;
    // One read snapshot: the digests and the generation they are tagged with agree, however long the build takes
    // and whatever another process imports meanwhile.
    const blooms = this.#source.snapshot(() => ({ generation: this.#source.generation(), known: this.#build('known'), bad: this.#build('bad') }));
    this.#save(blooms);
    return blooms;
  }

  #build(list: DigestList): BloomFilter {
    // Room to grow: later imports add to the filter in place until it is rebuilt.
    const bloom = BloomFilter.forCapacity(this.#source.count(list) * 1.5 + 100_000);
    for (const digest of this.#source.digests(list)) bloom.add(digest);
    return bloom;
  }

  /** The filters saved beside the database, if they were built from its current generation. */
  #read(): Blooms | undefined {
    const generation = this.#source.generation();
    const read = (file: string): BloomFilter | undefined => {
      try {
        return BloomFilter.deserialize(readFileSync(file), generation);
      } catch {
        return undefined; // missing or unreadable: the same as stale
      }
    };
    const known = read(this.#files[0]);
    const bad = read(this.#files[1]);
    return known === undefined || bad === undefined ? undefined : { known, bad, generation };
  }

  #save(blooms: Blooms): void {
    // Written aside and renamed: a reader never sees half a filter.
    for (const [file, bloom] of [
      [this.#files[0], blooms.known],
      [this.#files[1], blooms.bad],
    ] as const) {
      writeFileSync(`${file}.tmp`, bloom.serialize(blooms.generation), { mode: 0o644 });
      renameSync(`${file}.tmp`, file);
    }
  }

  #filesStamp(): string {
    try {
      return this.#files
        .map((f) => statSync(f))
        .map((st) => `${st.mtimeMs}:${st.size}`)
        .join('/');
    } catch {
      return 'missing';
    }
  }
}
