import type { AddedDigests, Blooms } from './bloom-files.js';

/** Where an import session puts each digest it writes. */
export interface DigestSink {
  add(digest: Buffer): void;
}

/**
 * More digests than this in one row import are not kept one by one for the log: the import then takes the whole
 * filters and saves them as a new base (as a bulk import does), rather than hold millions of buffers.
 */
const COLLECT_LIMIT = 1_000_000;

/**
 * What one import does to the Bloom filters: it adds each digest to the whole filters when it has them (a reader
 * that keeps them in memory, a bulk import), and for a row import also collects the digests, so the saved filters
 * are brought on by appending them to the log instead of writing the filters again.
 */
export class BloomImport {
  readonly known: DigestSink;
  readonly bad: DigestSink;
  #filters: Blooms | undefined;
  #collected: { known: Buffer[]; bad: Buffer[] } | undefined;
  #count = 0;
  readonly #loadFilters: () => Blooms | undefined;

  /**
   * `filters`: the whole filters the digests go into (or none); `collect`: keep the digests for the log;
   * `loadFilters`: the whole filters at the database's current generation, for an import that outgrows COLLECT_LIMIT.
   */
  constructor(filters: Blooms | undefined, collect: boolean, loadFilters: () => Blooms | undefined) {
    this.#filters = filters;
    this.#collected = collect ? { known: [], bad: [] } : undefined;
    this.#loadFilters = loadFilters;
    this.known = { add: (d) => this.#add('known', d) };
    this.bad = { add: (d) => this.#add('bad', d) };
  }

  /** The whole filters the import's digests went into, if any. */
  get filters(): Blooms | undefined {
    return this.#filters;
  }

  /** The digests the import added, when it kept them (a row import under COLLECT_LIMIT). */
  get added(): AddedDigests | undefined {
    return this.#collected;
  }

  #add(list: 'known' | 'bad', digest: Buffer): void {
    this.#filters?.[list].add(digest);
    if (this.#collected === undefined) return;
    this.#collected[list].push(digest);
    if (++this.#count <= COLLECT_LIMIT) return;
    // Too many to log one by one: continue as a bulk import does, into whole filters saved at the end.
    const collected = this.#collected;
    this.#collected = undefined;
    if (this.#filters === undefined) {
      this.#filters = this.#loadFilters();
      for (const d of collected.known) this.#filters?.known.add(d);
      for (const d of collected.bad) this.#filters?.bad.add(d);
    }
  }
}
