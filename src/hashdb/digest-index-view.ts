import { decodeRecord, DigestIndexCorrupt, encodeRecord, RECORD_BYTES, type DigestIndexFile, type IndexedRow } from './digest-index-file.js';

/** The digest index for lookups: the file, plus the rows imported since it was written (from the log, and this process's imports). */
export class DigestIndex {
  #generation: number;
  readonly #base: DigestIndexFile;
  /**
   * The added rows by digest, each as one number (`sourceId * 2 + placed`): up to DELTA_LIMIT rows are held, and as
   * objects with a buffer each they took about 0.66 KB a row.
   */
  readonly #delta = new Map<string, number[]>();
  #deltaRows = 0;

  constructor(base: DigestIndexFile) {
    this.#base = base;
    this.#generation = base.generation;
  }

  /** The database generation the index describes. */
  get generation(): number {
    return this.#generation;
  }

  /** Rows held beside the file. */
  get deltaRows(): number {
    return this.#deltaRows;
  }

  /** Takes in the rows that bring the index to `generation` (one number each, no read of the file). */
  extend(rows: readonly IndexedRow[], generation: number): void {
    for (const row of rows) {
      const key = row.digest.toString('latin1');
      const code = row.sourceId * 2 + (row.placed ? 1 : 0);
      const list = this.#delta.get(key);
      if (list === undefined) this.#delta.set(key, [code]);
      else if (!list.includes(code) || row.placed) list.push(code);
      else continue;
      this.#deltaRows++;
    }
    this.#generation = generation;
  }

  /**
   * Every known row with exactly this digest: none means the known table has none. Throws `DigestIndexCorrupt`.
   * A logged row the file already holds is not answered twice (an import that began before a rebuild's snapshot and
   * ended after it logs rows the file has): hash-only rows are told apart by source alone, and rows with a place
   * are all asked of the database anyway.
   */
  find(digest: Buffer): readonly IndexedRow[] {
    const found = this.#base.find(digest);
    if (this.#delta.size === 0) return found;
    const added = this.#delta.get(digest.toString('latin1'));
    if (added === undefined) return found;
    const rows = added
      .map((code) => ({ digest, placed: code % 2 === 1, sourceId: Math.floor(code / 2) }))
      .filter((row) => row.placed || !found.some((f) => !f.placed && f.sourceId === row.sourceId));
    return rows.length === 0 ? found : [...found, ...rows];
  }

  close(): void {
    this.#base.close();
  }
}

/** A log block's payload: the rows as index records (each with its own checksum, as in the file). */
export function encodeRows(rows: readonly IndexedRow[]): Buffer {
  const out = Buffer.alloc(rows.length * RECORD_BYTES);
  rows.forEach((row, i) => encodeRecord(out, i * RECORD_BYTES, row));
  return out;
}

/** The rows of a log block's payload; throws `DigestIndexCorrupt` when a record fails its checksum. */
export function decodeRows(payload: Buffer): IndexedRow[] {
  if (payload.length % RECORD_BYTES !== 0) throw new DigestIndexCorrupt('a digest index log block does not add up');
  return Array.from({ length: payload.length / RECORD_BYTES }, (_, i) => decodeRecord(payload, i * RECORD_BYTES));
}
