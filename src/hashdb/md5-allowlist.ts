import Database from 'better-sqlite3';
import { CustosError } from '../core/custos-error.js';

/** What ingest asks of OSSEC's md5 allowlist: is this MD5 in it, and where it comes from (for the reason). */
export interface Md5AllowlistLookup {
  readonly source: string;
  has(md5: string): boolean;
}

/**
 * OSSEC's md5 allowlist (`<global><md5_whitelist>`, later `<md5_allowlist>`): an SQLite file with OSSEC's
 * `files(md5sum, file, time)` table. A change whose new MD5 is in it is recorded, not alerted, whatever its
 * path, as OSSEC's analysisd does. Opened read-only: Custos never writes the file users maintain for OSSEC.
 */
export class Md5Allowlist implements Md5AllowlistLookup {
  readonly source: string;
  readonly #db: Database.Database;
  readonly #lookup: Database.Statement<[string]>;

  private constructor(path: string, db: Database.Database) {
    this.source = path;
    this.#db = db;
    this.#lookup = db.prepare<[string]>('SELECT 1 FROM files WHERE md5sum = ? LIMIT 1').pluck(true);
  }

  /** Opens the file; a missing file or one without OSSEC's `files` table is an error naming it. */
  static open(path: string): Md5Allowlist {
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
      db.prepare('SELECT md5sum, file FROM files LIMIT 0').all();
      return new Md5Allowlist(path, db);
    } catch (error) {
      db?.close();
      throw new CustosError(
        'CONFIG_INVALID',
        `cannot use the md5 allowlist ${path}: ${(error as Error).message} (expected an SQLite file with OSSEC's files(md5sum, file, time) table)`,
      );
    }
  }

  /** True when `md5` (hex, either case) is allowlisted; OSSEC stores lower case, as `md5sum` prints it. */
  has(md5: string): boolean {
    return this.#lookup.get(md5.toLowerCase()) !== undefined;
  }

  /** Closes the file. */
  close(): void {
    this.#db.close();
  }
}
