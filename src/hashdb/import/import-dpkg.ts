import type { KnownHashStore } from '../known-hash-store.js';
import { readDpkgDatabase } from './dpkg-database.js';
import { importRows, type ImportCounts, type ImportProgress } from './import-rows.js';

/** What `custos hashdb import dpkg` read. */
export interface DpkgImportSummary extends ImportCounts {
  readonly packages: number;
  readonly md5sumsEntries: number;
  readonly conffileEntries: number;
  readonly malformed: number;
}

/**
 * Imports a host's own dpkg database as `dpkg-local`: MD5s claimed by that host, applying to that host only (an
 * attacker on it can rewrite them, so they rank below verified packages).
 */
export async function importDpkg(
  store: KnownHashStore,
  options: { readonly root: string; readonly host: string; readonly changedOnly?: boolean; readonly onProgress?: ImportProgress },
): Promise<DpkgImportSummary> {
  const source = { kind: 'dpkg-local' as const, name: `dpkg ${options.root}`, host: options.host };
  // Incremental: only md5sums files dpkg wrote since the last import from this database began.
  const since = options.changedOnly === true ? await store.lastImport(source) : undefined;
  let packages = 0;
  let md5sumsEntries = 0;
  let conffileEntries = 0;
  let malformed = 0;
  const batches = (function* () {
    for (const pkg of readDpkgDatabase(options.root, since)) {
      packages++;
      md5sumsEntries += pkg.md5sumsEntries;
      conffileEntries += pkg.conffileEntries;
      malformed += pkg.malformed;
      yield pkg.rows;
    }
  })();
  const counts = await importRows(store, source, batches, options.onProgress);
  return { ...counts, packages, md5sumsEntries, conffileEntries, malformed };
}
