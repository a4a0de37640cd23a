import type Database from 'better-sqlite3';
import type { PackageRef } from '../core/known-hash-policy.js';
import { usrAlias } from '../core/usrmerge.js';
import type { DerivedEntry, ExpectedAbsence, InstalledPackage } from './host-packages.js';

/** Why a deleted path is explained, as the store finds it. */
export interface RemovalRow {
  readonly package?: PackageRef;
  readonly reason: string;
  readonly sourceId: number;
}

/** Path and package ids, shared with the known-hash tables. */
export interface IdLookup {
  pathId(path: Buffer): number;
  packageId(pkg: PackageRef | undefined): number;
}

/** Statements over the host-package tables of one connection. */
export class SqliteHostPackageTables {
  readonly #db: Database.Database;
  readonly #s: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#s = prepare(db);
  }

  installed(sourceId: number): Map<string, InstalledPackage> {
    const out = new Map<string, InstalledPackage>();
    for (const [key, stamp, name, version, arch] of this.#s.installed.all(sourceId) as [string, string, string, string, string][]) {
      out.set(key, { key, stamp, package: { name, version, arch } });
    }
    return out;
  }

  /**
   * Records installed and removed packages: the paths an upgraded or removed package no longer owns, and that no
   * other installed package owns, are kept as removed with that package as the reason. Returns how many.
   */
  applyPackages(
    sourceId: number,
    ids: IdLookup,
    updated: readonly { readonly installed: InstalledPackage; readonly owns: readonly Buffer[] }[],
    removedKeys: readonly string[],
    at: string,
  ): number {
    const s = this.#s;
    let retired = 0;
    const apply = this.#db.transaction(() => {
      // Paths the old versions owned: candidates for removal once the new state is in.
      const left = new Map<number, number>();
      const reasons = new Map<number, string>();
      const leaving = (key: string, why: string): void => {
        const old = s.packageOf.get(sourceId, key) as [number] | undefined;
        if (old === undefined) return;
        for (const pathId of s.ownedBy.all(sourceId, old[0]) as number[]) left.set(pathId, old[0]);
        s.dropOwned.run(sourceId, old[0]);
        s.dropPackage.run(sourceId, key);
        reasons.set(old[0], why);
      };
      for (const key of removedKeys) leaving(key, 'removed');
      for (const { installed, owns } of updated) {
        leaving(installed.key, `upgraded to ${installed.package.version}`);
        const packageId = ids.packageId(installed.package);
        s.putPackage.run(sourceId, installed.key, packageId, installed.stamp);
        for (const path of owns) {
          const pathId = ids.pathId(path);
          s.putOwned.run(pathId, sourceId, packageId);
          s.clearRemoved.run(pathId, sourceId);
        }
      }
      for (const [pathId, packageId] of left) {
        if (s.isOwned.get(pathId, sourceId) !== undefined) continue;
        const why = reasons.get(packageId) ?? 'removed';
        const reason = why === 'removed' ? 'removed with its package' : `no longer shipped (package ${why})`;
        s.putRemoved.run(pathId, sourceId, packageId, 'package', reason, at);
        retired++;
      }
    });
    apply();
    return retired;
  }

  owners(sourceId: number, pathIds: readonly number[]): Map<number, PackageRef> {
    const out = new Map<number, PackageRef>();
    for (const pathId of pathIds) {
      const row = this.#s.ownerOf.get(pathId, sourceId) as [string, string, string] | undefined;
      if (row !== undefined) out.set(pathId, { name: row[0], version: row[1], arch: row[2] });
    }
    return out;
  }

  /**
   * Replaces one source's derived rows. Returns the keys of known rows to delete (the store deletes them) and how
   * many links were retired with a removal reason.
   */
  replaceDerived(
    derivedId: number,
    ids: IdLookup,
    entries: readonly DerivedEntry[],
    absent: readonly ExpectedAbsence[],
    goneCauses: ReadonlyMap<string, string>,
    at: string,
  ): { stale: { digest: Buffer; pathId: number; packageId: number }[]; retired: number } {
    const s = this.#s;
    const stale: { digest: Buffer; pathId: number; packageId: number }[] = [];
    let retired = 0;
    this.#db.transaction(() => {
      const next = new Set<string>();
      const present = new Set<number>();
      for (const { row, because } of entries) {
        const pathId = ids.pathId(row.path ?? Buffer.alloc(0));
        const packageId = ids.packageId(row.package);
        next.add(`${row.digest.toString('hex')}/${pathId}/${packageId}`);
        present.add(pathId);
        s.putDerived.run(derivedId, row.digest, pathId, packageId, because);
        s.clearRemoved.run(pathId, derivedId);
      }
      for (const [digest, pathId, packageId, because] of s.derivedOf.all(derivedId) as [Buffer, number, number, string][]) {
        if (next.has(`${digest.toString('hex')}/${pathId}/${packageId}`)) continue;
        stale.push({ digest, pathId, packageId });
        s.dropDerived.run(derivedId, digest, pathId, packageId);
        if (present.has(pathId)) continue;
        const reason = goneCauses.get(because);
        if (reason !== undefined) {
          s.putRemoved.run(pathId, derivedId, packageId, 'retired', reason, at);
          retired++;
        }
      }
      s.dropExpected.run(derivedId);
      for (const a of absent) s.putRemoved.run(ids.pathId(a.path), derivedId, ids.packageId(a.package), 'expected', a.reason, at);
    })();
    return { stale, retired };
  }

  installedVersions(sourceId: number): Map<string, { version: string; arch: string }[]> | undefined {
    const rows = this.#s.installed.all(sourceId) as [string, string, string, string, string][];
    if (rows.length === 0) return undefined;
    const out = new Map<string, { version: string; arch: string }[]>();
    for (const [, , name, version, arch] of rows) out.set(name, [...(out.get(name) ?? []), { version, arch }]);
    return out;
  }

  debVerdict(sha256: string): { verdict: 'verified' | 'refused'; package: string; reason?: string } | undefined {
    const row = this.#s.deb.get(sha256) as [string, string, string | null] | undefined;
    if (row === undefined) return undefined;
    return { verdict: row[0] === 'verified' ? 'verified' : 'refused', package: row[1], ...(row[2] === null ? {} : { reason: row[2] }) };
  }

  recordDeb(sha256: string, verdict: { verdict: string; package: string; reason?: string }, at: string): void {
    this.#s.putDeb.run(sha256, verdict.verdict, verdict.package, verdict.reason ?? null, at);
  }

  causes(derivedId: number): string[] {
    return this.#s.causes.all(derivedId) as string[];
  }

  /** Removal reasons for a deleted path (or its usrmerge alias) that no installed package of the source owns. */
  removals(path: Buffer, pathIdOf: (p: Buffer) => number | undefined): RemovalRow[] {
    const alias = usrAlias(path);
    const out: RemovalRow[] = [];
    for (const p of alias === undefined ? [path] : [path, alias]) {
      const pathId = pathIdOf(p);
      if (pathId === undefined) continue;
      for (const [sourceId, reason, name, version, arch] of this.#s.removals.all(pathId) as [number, string, string | null, string | null, string | null][]) {
        out.push({ sourceId, reason, ...(name === null ? {} : { package: { name, version: version ?? '', arch: arch ?? '' } }) });
      }
    }
    return out;
  }
}

function prepare(db: Database.Database) {
  return {
    installed: db
      .prepare('SELECT h.key, h.stamp, p.name, p.version, p.arch FROM host_packages h JOIN packages p ON p.id = h.package_id WHERE h.source_id = ?')
      .raw(true),
    packageOf: db.prepare('SELECT package_id FROM host_packages WHERE source_id = ? AND key = ?').raw(true),
    putPackage: db.prepare('INSERT OR REPLACE INTO host_packages (source_id, key, package_id, stamp) VALUES (?, ?, ?, ?)'),
    dropPackage: db.prepare('DELETE FROM host_packages WHERE source_id = ? AND key = ?'),
    ownedBy: db.prepare('SELECT path_id FROM owned WHERE source_id = ? AND package_id = ?').pluck(),
    dropOwned: db.prepare('DELETE FROM owned WHERE source_id = ? AND package_id = ?'),
    putOwned: db.prepare('INSERT OR IGNORE INTO owned (path_id, source_id, package_id) VALUES (?, ?, ?)'),
    isOwned: db.prepare('SELECT 1 FROM owned WHERE path_id = ? AND source_id = ? LIMIT 1').raw(true),
    ownerOf: db
      .prepare('SELECT p.name, p.version, p.arch FROM owned o JOIN packages p ON p.id = o.package_id WHERE o.path_id = ? AND o.source_id = ? LIMIT 1')
      .raw(true),
    putRemoved: db.prepare('INSERT OR REPLACE INTO removed (path_id, source_id, package_id, kind, reason, removed_at) VALUES (?, ?, ?, ?, ?, ?)'),
    clearRemoved: db.prepare('DELETE FROM removed WHERE path_id = ? AND source_id = ?'),
    dropExpected: db.prepare("DELETE FROM removed WHERE source_id = ? AND kind = 'expected'"),
    putDerived: db.prepare('INSERT OR REPLACE INTO derived (source_id, digest, path_id, package_id, because) VALUES (?, ?, ?, ?, ?)'),
    derivedOf: db.prepare('SELECT digest, path_id, package_id, because FROM derived WHERE source_id = ?').raw(true),
    causes: db.prepare('SELECT DISTINCT because FROM derived WHERE source_id = ?').pluck(),
    deb: db.prepare('SELECT verdict, package, reason FROM debs WHERE sha256 = ?').raw(true),
    putDeb: db.prepare('INSERT OR REPLACE INTO debs (sha256, verdict, package, reason, at) VALUES (?, ?, ?, ?, ?)'),
    dropDerived: db.prepare('DELETE FROM derived WHERE source_id = ? AND digest = ? AND path_id = ? AND package_id = ?'),
    // A removal explains a deletion only while no installed package of the same host owns the path again.
    removals: db
      .prepare(
        `SELECT r.source_id, r.reason, p.name, p.version, p.arch FROM removed r LEFT JOIN packages p ON p.id = r.package_id
          WHERE r.path_id = ? AND NOT EXISTS (
            SELECT 1 FROM owned o JOIN sources s ON s.id = o.source_id JOIN sources rs ON rs.id = r.source_id
             WHERE o.path_id = r.path_id AND s.host = rs.host)`,
      )
      .raw(true),
  };
}
