import type { HashSourceRef, KnownHashRow, KnownHashStore } from '../known-hash-store.js';

/** How far an import has got, for a progress bar. */
export type ImportProgress = (rowsSoFar: number) => void;

/** Rows read and rows new to the database. */
export interface ImportCounts {
  readonly rows: number;
  readonly inserted: number;
}

/** Feeds batches of rows from one source into the store, reporting progress; idempotent (duplicates ignored). */
export async function importRows(
  store: KnownHashStore,
  source: HashSourceRef,
  batches: AsyncIterable<readonly KnownHashRow[]> | Iterable<readonly KnownHashRow[]>,
  onProgress?: ImportProgress,
  options: { readonly bulk?: boolean } = {},
): Promise<ImportCounts> {
  const session = await store.beginImport(source, options);
  let rows = 0;
  for await (const batch of batches) {
    await session.add(batch);
    rows += batch.length;
    onProgress?.(rows);
  }
  return session.finish();
}
