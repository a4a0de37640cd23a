import Database from 'better-sqlite3';
import { CustosError } from '../../core/custos-error.js';
import type { KnownHashRow, KnownHashStore } from '../known-hash-store.js';
import { importRows, type ImportCounts, type ImportProgress } from './import-rows.js';
import { inBatches } from './read-lines.js';
import { assertRegularInput } from './regular-input.js';

/** What an OSSEC md5 allowlist import read. */
export interface Md5dbImportSummary extends ImportCounts {
  readonly malformed: number;
}

/**
 * Reads an existing OSSEC md5 allowlist (`<md5_allowlist>`, the blog's `<md5db>`): a SQLite file with
 * `files(md5sum, file, time)`. OSSEC never looked at `file`, matching the MD5 on any path, so the rows are
 * imported hash-only (`ossec-md5db`): under the default path policy they say "known elsewhere", and with
 * `match: hash` they silence as OSSEC did.
 */
export async function importMd5db(
  store: KnownHashStore,
  options: { readonly file: string; readonly onProgress?: ImportProgress },
): Promise<Md5dbImportSummary> {
  // SQLite would block forever opening a FIFO: only a regular file is read.
  assertRegularInput(options.file);
  let db: Database.Database;
  try {
    db = new Database(options.file, { readonly: true, fileMustExist: true });
    db.prepare('SELECT md5sum, file FROM files LIMIT 1').get();
  } catch (error) {
    throw new CustosError(
      'USAGE',
      `${options.file} is not an OSSEC md5 allowlist (a SQLite file with a files(md5sum, file, time) table): ${(error as Error).message}`,
    );
  }
  let malformed = 0;
  function* rows(): Generator<KnownHashRow> {
    for (const [md5] of db.prepare('SELECT md5sum, file FROM files').raw(true).iterate() as IterableIterator<[unknown, unknown]>) {
      const hex = typeof md5 === 'string' ? md5.trim().toLowerCase() : '';
      if (!/^[0-9a-f]{32}$/.test(hex)) {
        malformed++;
        continue;
      }
      yield { digest: Buffer.from(hex, 'hex') };
    }
  }
  try {
    const counts = await importRows(store, { kind: 'ossec-md5db', name: options.file }, inBatches(rows()), options.onProgress, { bulk: true });
    return { ...counts, malformed };
  } finally {
    db.close();
  }
}
