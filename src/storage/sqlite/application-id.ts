import type Database from 'better-sqlite3';
import { CustosError } from '../../core/custos-error.js';

/** SQLite `application_id` of a Custos baseline database (custos.db): "CSTB". */
export const BASELINE_APPLICATION_ID = 0x43535442;
/** SQLite `application_id` of a Custos known-hash database (hashdb.sqlite): "CSTH". */
export const KNOWN_HASHES_APPLICATION_ID = 0x43535448;

const KINDS: Readonly<Record<number, { readonly name: string; readonly tables: readonly string[] }>> = {
  [BASELINE_APPLICATION_ID]: { name: 'a Custos baseline database', tables: ['baseline', 'events', 'chain_heads'] },
  [KNOWN_HASHES_APPLICATION_ID]: { name: 'a Custos known-hash database', tables: ['known', 'bad', 'sources'] },
};

/**
 * Checks that the database is of the kind wanted and, unless `readOnly`, marks it so: a baseline database opened
 * as a known-hash one (a `--db` and a `--hashdb` swapped), or the reverse, is an error naming both kinds rather
 * than a second schema quietly added to the file. A file from before application ids (0) is judged by its tables;
 * another application's database is refused too.
 */
export function claimApplicationId(db: Database.Database, path: string, wanted: number, readOnly = false): void {
  const current = Number(db.pragma('application_id', { simple: true }));
  const wantedKind = KINDS[wanted]?.name ?? `application ${wanted}`;
  if (current === wanted) return;
  if (current !== 0) {
    throw new CustosError('USAGE', `${path} is ${KINDS[current]?.name ?? `not a Custos database (SQLite application_id ${current})`}, not ${wantedKind}`);
  }
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
  for (const [id, kind] of Object.entries(KINDS)) {
    if (Number(id) !== wanted && kind.tables.every((t) => tables.has(t))) throw new CustosError('USAGE', `${path} is ${kind.name}, not ${wantedKind}`);
  }
  if (!readOnly) db.pragma(`application_id = ${wanted}`);
}
