import type { PackageRef } from '../../core/known-hash-policy.js';
import type { PostgresDatabase } from '../../storage/postgres/postgres-database.js';
import type { DebVerdict, DerivedEntry, ExpectedAbsence, InstalledPackage, PackageUpdate } from '../host-packages.js';
import { IdCache } from './postgres-ids.js';

/** A known row a derivation no longer writes: the store deletes it. */
export interface StaleDerivedRow {
  readonly digest: Buffer;
  readonly pathId: number;
  readonly packageId: number;
}

const PUT_REMOVED = `INSERT INTO kh_removed (path_id, source_id, package_id, kind, reason, removed_at) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (path_id, source_id, package_id) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, removed_at = excluded.removed_at`;

/**
 * The host-package tables on PostgreSQL (see HostPackageStore), answering as SqliteHostPackageTables does. Each
 * change is one transaction of set-wise statements: a host's whole dpkg database is a few round trips.
 */
export class PostgresHostPackageTables {
  readonly #db: PostgresDatabase;

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  async installed(sourceId: number): Promise<Map<string, InstalledPackage>> {
    const out = new Map<string, InstalledPackage>();
    for (const r of await this.#installedRows(sourceId))
      out.set(r.key, { key: r.key, stamp: r.stamp, package: { name: r.name, version: r.version, arch: r.arch } });
    return out;
  }

  async installedVersions(sourceId: number): Promise<Map<string, { version: string; arch: string }[]> | undefined> {
    const rows = await this.#installedRows(sourceId);
    if (rows.length === 0) return undefined;
    const out = new Map<string, { version: string; arch: string }[]>();
    for (const r of rows) out.set(r.name, [...(out.get(r.name) ?? []), { version: r.version, arch: r.arch }]);
    return out;
  }

  async #installedRows(sourceId: number): Promise<{ key: string; stamp: string; name: string; version: string; arch: string }[]> {
    return (
      await this.#db.query<{ key: string; stamp: string; name: string; version: string; arch: string }>(
        'SELECT h.key, h.stamp, p.name, p.version, p.arch FROM kh_host_packages h JOIN kh_packages p ON p.id = h.package_id WHERE h.source_id = $1 ORDER BY h.key',
        [sourceId],
      )
    ).rows;
  }

  /**
   * Records installed and removed packages: the paths an upgraded or removed package no longer owns, and that no
   * other installed package owns, are kept as removed with that package as the reason. Returns how many.
   */
  async applyPackages(sourceId: number, updated: readonly PackageUpdate[], removedKeys: readonly string[], at: string): Promise<number> {
    return this.#db.transaction(async (tx) => {
      const leaving: [string, string][] = [
        ...removedKeys.map((k): [string, string] => [k, 'removed']),
        ...updated.map((u): [string, string] => [u.installed.key, `upgraded to ${u.installed.package.version}`]),
      ];
      const keys = leaving.map(([k]) => k);
      const old = new Map(
        (
          await tx.query<{ key: string; package_id: number }>(
            'SELECT key, package_id::float8 AS package_id FROM kh_host_packages WHERE source_id = $1 AND key = ANY($2::text[])',
            [sourceId, keys],
          )
        ).rows.map((r) => [r.key, r.package_id]),
      );
      const oldIds = [...new Set(old.values())];
      const ownedBefore = new Map<number, number[]>();
      for (const r of (
        await tx.query<{ path_id: number; package_id: number }>(
          'SELECT path_id::float8 AS path_id, package_id::float8 AS package_id FROM kh_owned WHERE source_id = $1 AND package_id = ANY($2::bigint[])',
          [sourceId, oldIds],
        )
      ).rows)
        ownedBefore.set(r.package_id, [...(ownedBefore.get(r.package_id) ?? []), r.path_id]);
      // Paths the old versions owned: candidates for removal once the new state is in (in the order SQLite visits them).
      const left = new Map<number, number>();
      const reasons = new Map<number, string>();
      for (const [key, why] of leaving) {
        const id = old.get(key);
        if (id === undefined) continue;
        for (const pathId of ownedBefore.get(id) ?? []) left.set(pathId, id);
        reasons.set(id, why);
      }
      await tx.query('DELETE FROM kh_owned WHERE source_id = $1 AND package_id = ANY($2::bigint[])', [sourceId, oldIds]);
      await tx.query('DELETE FROM kh_host_packages WHERE source_id = $1 AND key = ANY($2::text[])', [sourceId, keys]);

      const ids = new IdCache();
      await ids.resolve(
        tx,
        updated.flatMap((u) => u.owns),
        updated.map((u) => u.installed.package),
      );
      const byKey = new Map(updated.map((u) => [u.installed.key, u.installed]));
      const installed = [...byKey.values()];
      await tx.query(
        `INSERT INTO kh_host_packages (source_id, key, package_id, stamp) SELECT $1, k, p, s FROM unnest($2::text[], $3::bigint[], $4::text[]) AS t (k, p, s)
          ON CONFLICT (source_id, key) DO UPDATE SET package_id = excluded.package_id, stamp = excluded.stamp`,
        [sourceId, installed.map((i) => i.key), installed.map((i) => ids.package(i.package)), installed.map((i) => i.stamp)],
      );
      const ownedPaths = updated.flatMap((u) => u.owns.map((p) => ids.path(p)));
      const ownedPackages = updated.flatMap((u) => u.owns.map(() => ids.package(u.installed.package)));
      await tx.query(
        'INSERT INTO kh_owned (path_id, source_id, package_id) SELECT p, $1, k FROM unnest($2::bigint[], $3::bigint[]) AS t (p, k) ON CONFLICT DO NOTHING',
        [sourceId, ownedPaths, ownedPackages],
      );
      await tx.query('DELETE FROM kh_removed WHERE source_id = $1 AND path_id = ANY($2::bigint[])', [sourceId, ownedPaths]);
      const stillOwned = new Set(
        (
          await tx.query<{ path_id: number }>('SELECT DISTINCT path_id::float8 AS path_id FROM kh_owned WHERE source_id = $1 AND path_id = ANY($2::bigint[])', [
            sourceId,
            [...left.keys()],
          ])
        ).rows.map((r) => r.path_id),
      );
      let retired = 0;
      for (const [pathId, packageId] of left) {
        if (stillOwned.has(pathId)) continue;
        const why = reasons.get(packageId) ?? 'removed';
        const reason = why === 'removed' ? 'removed with its package' : `no longer shipped (package ${why})`;
        await tx.query(PUT_REMOVED, [pathId, sourceId, packageId, 'package', reason, at]);
        retired++;
      }
      return retired;
    });
  }

  /** Which of these paths an installed package of the source owns (the lowest package id, as SQLite's key order). */
  async owners(sourceId: number, paths: readonly Buffer[]): Promise<Map<string, PackageRef>> {
    const out = new Map<string, PackageRef>();
    if (paths.length === 0) return out;
    const rows = (
      await this.#db.query<{ path: Buffer; name: string; version: string; arch: string }>(
        `SELECT DISTINCT ON (pa.path) pa.path, p.name, p.version, p.arch FROM kh_paths pa
           JOIN kh_owned o ON o.path_id = pa.id AND o.source_id = $1 JOIN kh_packages p ON p.id = o.package_id
          WHERE pa.path = ANY($2::bytea[]) ORDER BY pa.path, o.package_id`,
        [sourceId, paths],
      )
    ).rows;
    for (const r of rows) out.set(r.path.toString('latin1'), { name: r.name, version: r.version, arch: r.arch });
    return out;
  }

  /**
   * Replaces one source's derived rows. Returns the known rows to delete (the store deletes them) and how many
   * links were retired with a removal reason.
   */
  async replaceDerived(
    derivedId: number,
    entries: readonly DerivedEntry[],
    absent: readonly ExpectedAbsence[],
    goneCauses: ReadonlyMap<string, string>,
    at: string,
  ): Promise<{ stale: StaleDerivedRow[]; retired: number }> {
    return this.#db.transaction(async (tx) => {
      const ids = new IdCache();
      await ids.resolve(
        tx,
        [...entries.map((e) => e.row.path ?? Buffer.alloc(0)), ...absent.map((a) => a.path)],
        [
          ...entries.flatMap((e) => (e.row.package === undefined ? [] : [e.row.package])),
          ...absent.flatMap((a) => (a.package === undefined ? [] : [a.package])),
        ],
      );
      const next = new Map<string, [Buffer, number, number, string]>();
      const present = new Set<number>();
      for (const { row, because } of entries) {
        const pathId = ids.path(row.path ?? Buffer.alloc(0));
        const packageId = ids.package(row.package);
        next.set(`${row.digest.toString('hex')}/${pathId}/${packageId}`, [row.digest, pathId, packageId, because]);
        present.add(pathId);
      }
      const list = [...next.values()];
      await tx.query(
        `INSERT INTO kh_derived (source_id, digest, path_id, package_id, because) SELECT $1, d, p, k, b FROM unnest($2::bytea[], $3::bigint[], $4::bigint[], $5::text[]) AS t (d, p, k, b)
          ON CONFLICT (source_id, digest, path_id, package_id) DO UPDATE SET because = excluded.because`,
        [derivedId, list.map((x) => x[0]), list.map((x) => x[1]), list.map((x) => x[2]), list.map((x) => x[3])],
      );
      await tx.query('DELETE FROM kh_removed WHERE source_id = $1 AND path_id = ANY($2::bigint[])', [derivedId, [...present]]);
      const stale: StaleDerivedRow[] = [];
      let retired = 0;
      const before = await tx.query<{ digest: Buffer; path_id: number; package_id: number; because: string }>(
        'SELECT digest, path_id::float8 AS path_id, package_id::float8 AS package_id, because FROM kh_derived WHERE source_id = $1 ORDER BY digest, path_id, package_id',
        [derivedId],
      );
      for (const r of before.rows) {
        if (next.has(`${r.digest.toString('hex')}/${r.path_id}/${r.package_id}`)) continue;
        stale.push({ digest: r.digest, pathId: r.path_id, packageId: r.package_id });
        await tx.query('DELETE FROM kh_derived WHERE source_id = $1 AND digest = $2 AND path_id = $3 AND package_id = $4', [
          derivedId,
          r.digest,
          r.path_id,
          r.package_id,
        ]);
        if (present.has(r.path_id)) continue;
        const reason = goneCauses.get(r.because);
        if (reason !== undefined) {
          await tx.query(PUT_REMOVED, [r.path_id, derivedId, r.package_id, 'retired', reason, at]);
          retired++;
        }
      }
      await tx.query("DELETE FROM kh_removed WHERE source_id = $1 AND kind = 'expected'", [derivedId]);
      for (const a of absent) await tx.query(PUT_REMOVED, [ids.path(a.path), derivedId, ids.package(a.package), 'expected', a.reason, at]);
      return { stale, retired };
    });
  }

  async causes(derivedId: number): Promise<string[]> {
    return (await this.#db.query<{ because: string }>('SELECT DISTINCT because FROM kh_derived WHERE source_id = $1 ORDER BY because', [derivedId])).rows.map(
      (r) => r.because,
    );
  }

  async debVerdict(sha256: string): Promise<DebVerdict | undefined> {
    const row = (
      await this.#db.query<{ verdict: string; package: string; reason: string | null }>('SELECT verdict, package, reason FROM kh_debs WHERE sha256 = $1', [
        sha256,
      ])
    ).rows[0];
    if (row === undefined) return undefined;
    return { verdict: row.verdict === 'verified' ? 'verified' : 'refused', package: row.package, ...(row.reason === null ? {} : { reason: row.reason }) };
  }

  async recordDeb(sha256: string, verdict: DebVerdict, at: string): Promise<void> {
    await this.#db.query(
      `INSERT INTO kh_debs (sha256, verdict, package, reason, at) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (sha256) DO UPDATE SET verdict = excluded.verdict, package = excluded.package, reason = excluded.reason, at = excluded.at`,
      [sha256, verdict.verdict, verdict.package, verdict.reason ?? null, at],
    );
  }
}
