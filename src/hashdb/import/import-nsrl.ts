import Database from 'better-sqlite3';
import { basename } from 'node:path';
import { CustosError } from '../../core/custos-error.js';
import type { KnownHashRow, KnownHashStore } from '../known-hash-store.js';
import { importRows, type ImportCounts, type ImportProgress } from './import-rows.js';
import { digestFromHex, inBatches } from './read-lines.js';
import { assertRegularInput } from './regular-input.js';

/**
 * Imports NIST's NSRL RDS v3 (a SQLite database; its `FILE` table or view holds upper-case hex digests) as
 * hash-only `nsrl` rows: "known software somewhere", never "right for this path". `digests` picks which
 * columns to take (SHA-256 by default: hundreds of millions of rows collapse to tens of millions of distinct
 * SHA-256 values, and INSERT OR IGNORE keeps one of each).
 */
export async function importNsrl(
  store: KnownHashStore,
  options: { readonly file: string; readonly digests: readonly ('sha256' | 'sha1' | 'md5')[]; readonly onProgress?: ImportProgress },
): Promise<ImportCounts> {
  // SQLite would block forever opening a FIFO: only a regular file is read.
  assertRegularInput(options.file);
  let db: Database.Database;
  try {
    db = new Database(options.file, { readonly: true, fileMustExist: true });
    db.prepare(`SELECT ${options.digests.join(', ')} FROM FILE LIMIT 1`).get();
  } catch (error) {
    throw new CustosError(
      'USAGE',
      `${options.file} is not an NSRL RDS v3 database (no FILE table with ${options.digests.join(', ')}): ${(error as Error).message}`,
    );
  }
  let version = '';
  try {
    const found = db.prepare('SELECT version FROM VERSION LIMIT 1').pluck().get();
    version = typeof found === 'string' ? found : '';
  } catch {
    // Older minimal sets have no VERSION table.
  }
  function* rows(): Generator<KnownHashRow> {
    for (const row of db
      .prepare(`SELECT ${options.digests.join(', ')} FROM FILE`)
      .raw(true)
      .iterate() as IterableIterator<unknown[]>) {
      for (const hex of row) {
        const digest = typeof hex === 'string' ? digestFromHex(hex) : undefined;
        if (digest !== undefined) yield { digest };
      }
    }
  }
  try {
    return await importRows(store, { kind: 'nsrl', name: `NSRL ${version || basename(options.file)}` }, inBatches(rows(), 50_000), options.onProgress, {
      bulk: true,
    });
  } finally {
    db.close();
  }
}
