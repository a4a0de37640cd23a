/** Reads a chunked async stream one item at a time; `head()` is synchronous until a chunk runs out. */
export class ChunkCursor<T> {
  readonly #iterator: AsyncIterator<readonly T[]>;
  #chunk: readonly T[] = [];
  #index = 0;
  #done = false;

  constructor(iterator: AsyncIterator<readonly T[]>) {
    this.#iterator = iterator;
  }

  /** The current item, or `undefined` when the chunk is used up (then call {@link fill}) or the stream ended. */
  head(): T | undefined {
    return this.#chunk[this.#index];
  }

  /** Loads the next chunk if the current one is used up; returns the new head, `undefined` at the end. */
  async fill(): Promise<T | undefined> {
    while (this.#index >= this.#chunk.length && !this.#done) {
      const r = await this.#iterator.next();
      if (r.done === true) this.#done = true;
      else {
        this.#chunk = r.value;
        this.#index = 0;
      }
    }
    return this.head();
  }

  /** Moves past the current item. */
  advance(): void {
    this.#index++;
  }
}
