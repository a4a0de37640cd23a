import { readPackedLength, type FingerprintPage } from './fingerprint-page.js';

/** A cached entry as the scan merges it: its path key and fingerprint (see `storedFingerprint`). */
export interface CachedFingerprint {
  readonly key: Buffer;
  readonly fingerprint: string;
}

/** What a cache yields: entries as objects, or packed pages (see `FingerprintPage`); in key order either way. */
export type FingerprintChunk = readonly CachedFingerprint[] | FingerprintPage;

/**
 * Reads the cached fingerprints one entry at a time for the scan's merge, comparing keys and fingerprints where
 * they lie: an entry of a packed page becomes an object only when the scan needs one (`entry()`, an entry gone
 * from the tree). Synchronous until a chunk runs out (then `fill()`), so the merge awaits once per chunk.
 */
export class FingerprintCursor {
  readonly #source: AsyncIterator<FingerprintChunk>;
  #list: readonly CachedFingerprint[] = [];
  #index = 0;
  #page: Buffer | undefined;
  #left = 0;
  #next = 0;
  #keyStart = 0;
  #keyEnd = 0;
  #fpStart = 0;
  #fpEnd = 0;
  #hasPageHead = false;
  #done = false;
  readonly #length = [0];

  constructor(source: AsyncIterator<FingerprintChunk>) {
    this.#source = source;
  }

  /** True when there is a current entry; false when the chunk is used up (then call {@link fill}) or at the end. */
  has(): boolean {
    return this.#page === undefined ? this.#index < this.#list.length : this.#hasPageHead;
  }

  /** Loads the next chunk if the current one is used up; false at the end of the cache. */
  async fill(): Promise<boolean> {
    while (!this.has() && !this.#done) {
      const r = await this.#source.next();
      if (r.done === true) {
        this.#done = true;
        break;
      }
      const chunk = r.value;
      if ('kind' in chunk) {
        this.#page = chunk.packed;
        this.#left = chunk.count;
        this.#next = 0;
        this.#parseHead();
      } else {
        this.#page = undefined;
        this.#list = chunk;
        this.#index = 0;
      }
    }
    return this.has();
  }

  /** `Buffer.compare(current key, key)`: negative when the current entry comes before `key`. Needs {@link has}. */
  compareKey(key: Buffer): number {
    const page = this.#page;
    if (page === undefined) return Buffer.compare((this.#list[this.#index] as CachedFingerprint).key, key);
    return page.compare(key, 0, key.length, this.#keyStart, this.#keyEnd);
  }

  /** {@link compareKey} with the key `bytes[start, end)`. */
  compareKeyAt(bytes: Buffer, start: number, end: number): number {
    const page = this.#page;
    if (page === undefined) return (this.#list[this.#index] as CachedFingerprint).key.compare(bytes, start, end);
    return page.compare(bytes, start, end, this.#keyStart, this.#keyEnd);
  }

  /** Whether the current entry's fingerprint is `fingerprint`. Needs {@link has}. */
  fingerprintIs(fingerprint: string): boolean {
    const page = this.#page;
    if (page === undefined) return (this.#list[this.#index] as CachedFingerprint).fingerprint === fingerprint;
    return page.toString('utf8', this.#fpStart, this.#fpEnd) === fingerprint;
  }

  /** The current entry as an object. Needs {@link has}. */
  entry(): CachedFingerprint {
    const page = this.#page;
    if (page === undefined) return this.#list[this.#index] as CachedFingerprint;
    return { key: page.subarray(this.#keyStart, this.#keyEnd), fingerprint: page.toString('utf8', this.#fpStart, this.#fpEnd) };
  }

  /** Moves past the current entry. */
  advance(): void {
    if (this.#page === undefined) this.#index++;
    else this.#parseHead();
  }

  /** Finds where the page's next entry lies, or notes that the page is used up (checking it ended where it should). */
  #parseHead(): void {
    const page = this.#page as Buffer;
    if (this.#left === 0) {
      this.#hasPageHead = false;
      if (this.#next !== page.length) throw malformed();
      return;
    }
    this.#left--;
    const length = this.#length;
    let at = readPackedLength(page, this.#next, length);
    if (at < 0) throw malformed();
    this.#keyStart = at;
    this.#keyEnd = at += length[0] as number;
    at = readPackedLength(page, at, length);
    if (at < 0) throw malformed();
    this.#fpStart = at;
    this.#fpEnd = at += length[0] as number;
    if (at > page.length) throw malformed();
    this.#next = at;
    this.#hasPageHead = true;
  }
}

function malformed(): Error {
  return new Error('a page of baseline fingerprints does not parse: not scanning against it');
}
