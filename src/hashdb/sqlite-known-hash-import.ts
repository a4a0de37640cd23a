import type Database from 'better-sqlite3';
import { CustosError } from '../core/custos-error.js';
import type { PackageRef } from '../core/known-hash-policy.js';
import type { DigestSink } from './bloom-import.js';
import type { DigestIndexImport } from './digest-index.js';
import type { ImportMarker } from './import-window.js';
import type { ImportSession, KnownHashRow } from './known-hash-store.js';
import type { KnownHashStatements } from './sqlite-known-hash-statements.js';

const BATCH = 20_000;

/** Where an import session writes: one source of one database, and the filters its rows go into. */
export interface ImportTarget {
  readonly db: Database.Database;
  readonly stmts: KnownHashStatements;
  readonly sourceId: number;
  /** Where each digest goes for the Bloom filters (see `BloomCache.forImport`), if anywhere. */
  readonly blooms: { readonly known: DigestSink; readonly bad: DigestSink } | undefined;
  /** Where the known rows the import adds are collected for the digest index, if one is kept current. */
  readonly index?: DigestIndexImport | undefined;
  /** The session's marker: written with every batch it commits, so readers know their filters lack those rows. */
  readonly marker: ImportMarker;
  /**
   * Called once when the session ends: its marker goes, and if it inserted rows the database moves on a generation
   * (in the same transaction), after which the filters and the index are brought on. `logged` false: the session
   * failed, and what it collected for the filters' and the index's logs may name rows that were rolled back, so
   * nothing is logged and the saved files are left stale.
   */
  readonly ended: (inserted: number, logged: boolean) => void;
}

/**
 * `add` with the session ended when it throws: the batches committed before stay (rows are idempotent), and the
 * marker does not outlive the failure, which would keep every reader asking SQLite while this process lives.
 */
function endingOnFailure(target: ImportTarget, add: (batch: readonly KnownHashRow[]) => void, inserted: () => number): ImportSession['add'] {
  return async (batch) => {
    try {
      add(batch);
    } catch (error) {
      target.ended(inserted(), false);
      throw error;
    }
  };
}

/** An import session that inserts rows (with path and package) as they come, in digest order per batch. */
export function rowImportSession(target: ImportTarget): ImportSession {
  const { db, stmts: s, sourceId, blooms, index } = target;
  const pathIds = new Map<string, number>();
  const packageIds = new Map<string, number>();
  const pathId = (path: Buffer | undefined): number => {
    if (path === undefined) return 0;
    const k = path.toString('latin1');
    let id = pathIds.get(k);
    if (id === undefined) {
      s.insertPath.run(path);
      id = Number((s.pathId.get(path) as [number])[0]);
      pathIds.set(k, id);
    }
    return id;
  };
  const packageId = (p: PackageRef | undefined): number => {
    if (p === undefined) return 0;
    const k = `${p.name}\0${p.version}\0${p.arch}`;
    let id = packageIds.get(k);
    if (id === undefined) {
      s.insertPackage.run(p.name, p.version, p.arch);
      id = Number((s.packageId.get(p.name, p.version, p.arch) as [number])[0]);
      packageIds.set(k, id);
    }
    return id;
  };
  let rows = 0;
  let inserted = 0;
  const write = db.transaction((batch: readonly KnownHashRow[]) => {
    target.marker.mark();
    for (const row of batch) {
      let info: Database.RunResult;
      if (row.bad === true) info = s.insertBad.run(row.digest, sourceId, row.label ?? null);
      else {
        const [p, k] = [pathId(row.path), packageId(row.package)];
        info = s.insertKnown.run(row.digest, p, k, sourceId);
        if (info.changes > 0 && index !== undefined) index.rows.push({ digest: row.digest, placed: p !== 0 || k !== 0, sourceId });
      }
      inserted += info.changes;
      const d = row.declared;
      if (d !== undefined && row.bad !== true && row.path !== undefined) {
        s.putDeclared.run(
          pathId(row.path),
          packageId(row.package),
          sourceId,
          d.mode & 0o7777,
          d.uid ?? null,
          d.gid ?? null,
          d.owner ?? null,
          d.group ?? null,
          d.observed === true ? 1 : 0,
        );
      }
      if (blooms !== undefined) (row.bad === true ? blooms.bad : blooms.known).add(row.digest);
    }
  });
  let committed = 0;
  return {
    add: endingOnFailure(
      target,
      (batch) => {
        // Digest order makes consecutive inserts land on neighbouring B-tree pages.
        const sorted = [...batch].sort((a, b) => Buffer.compare(a.digest, b.digest));
        for (let i = 0; i < sorted.length; i += BATCH) {
          write(sorted.slice(i, i + BATCH));
          committed = inserted;
        }
        rows += batch.length;
      },
      () => committed,
    ),
    finish: async () => {
      s.countSource.run(inserted, sourceId);
      target.ended(inserted, true);
      return { rows, inserted };
    },
  };
}

/**
 * An import session for hash-only rows (NSRL's hundreds of millions): staged in temporary tables, then merged
 * in digest order in one statement per list at `finish`.
 */
export function bulkImportSession(target: ImportTarget): ImportSession {
  const { db, sourceId, blooms } = target;
  db.exec(
    'DROP TABLE IF EXISTS temp.stage_known; DROP TABLE IF EXISTS temp.stage_bad; CREATE TEMP TABLE stage_known (digest BLOB NOT NULL); CREATE TEMP TABLE stage_bad (digest BLOB NOT NULL, label TEXT)',
  );
  const stageKnown = db.prepare('INSERT INTO temp.stage_known (digest) VALUES (?)');
  const stageBad = db.prepare('INSERT INTO temp.stage_bad (digest, label) VALUES (?, ?)');
  let rows = 0;
  const write = db.transaction((batch: readonly KnownHashRow[]) => {
    for (const row of batch) {
      if (row.path !== undefined || row.package !== undefined) throw new CustosError('USAGE', 'a bulk import takes hash-only rows');
      if (row.bad === true) stageBad.run(row.digest, row.label ?? null);
      else stageKnown.run(row.digest);
      if (blooms !== undefined) (row.bad === true ? blooms.bad : blooms.known).add(row.digest);
    }
  });
  return {
    // Staged rows are in this connection's temporary tables: a failure commits nothing to the database.
    add: endingOnFailure(
      target,
      (batch) => {
        write(batch);
        rows += batch.length;
      },
      () => 0,
    ),
    finish: async () => {
      const merge = db.transaction(() => {
        target.marker.mark();
        const known = db
          .prepare('INSERT OR IGNORE INTO known (digest, path_id, package_id, source_id) SELECT digest, 0, 0, ? FROM temp.stage_known ORDER BY digest')
          .run(sourceId).changes;
        const bad = db
          .prepare('INSERT OR IGNORE INTO bad (digest, source_id, label) SELECT digest, ?, label FROM temp.stage_bad ORDER BY digest')
          .run(sourceId).changes;
        return known + bad;
      });
      let inserted: number;
      try {
        inserted = merge();
      } catch (error) {
        target.ended(0, false);
        throw error;
      }
      db.exec('DROP TABLE temp.stage_known; DROP TABLE temp.stage_bad');
      target.stmts.countSource.run(inserted, sourceId);
      target.ended(inserted, true);
      return { rows, inserted };
    },
  };
}
