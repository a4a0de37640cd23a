import type { PackageUpdate } from './host-packages.js';
import type { HashSourceRef } from './hash-source.js';
import type { ImportSession } from './known-hash-store.js';

/**
 * The rows of a package state change's updated packages, imported in one session before the state that says they
 * are in is written: a crash in between leaves the old stamps, so the next import reads those packages again (rows
 * are idempotent). Shared by both engines' `applyPackageState`.
 */
export async function importPackageRows(
  store: { beginImport(source: HashSourceRef): Promise<ImportSession> },
  source: HashSourceRef,
  updated: readonly PackageUpdate[],
): Promise<{ readonly rows: number; readonly inserted: number }> {
  const session = await store.beginImport(source);
  let rows = 0;
  for (const u of updated) {
    await session.add(u.rows);
    rows += u.rows.length;
  }
  const { inserted } = await session.finish();
  return { rows, inserted };
}
