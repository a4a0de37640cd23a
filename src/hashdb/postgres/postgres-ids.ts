import type { PackageRef } from '../../core/known-hash-policy.js';
import type { Queryable } from '../../storage/postgres/postgres-database.js';

/** The key a package is remembered by in an id map. */
export function packageKey(p: PackageRef): string {
  return `${p.name}\0${p.version}\0${p.arch}`;
}

/**
 * The ids of these paths (by their latin1 text, which keeps every byte), created when missing: one statement to
 * add the new ones, one to read them all, however many there are. Rows of `kh_paths` are never deleted, so an id
 * once read stays good.
 */
export async function pathIds(db: Queryable, paths: readonly Buffer[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (paths.length === 0) return out;
  await db.query('INSERT INTO kh_paths (path) SELECT DISTINCT unnest($1::bytea[]) ON CONFLICT (path) DO NOTHING', [paths]);
  const rows = (await db.query<{ id: number; path: Buffer }>('SELECT id::float8 AS id, path FROM kh_paths WHERE path = ANY($1::bytea[])', [paths])).rows;
  for (const r of rows) out.set(r.path.toString('latin1'), r.id);
  return out;
}

/** The ids of these packages (by `packageKey`), created when missing. */
export async function packageIds(db: Queryable, packages: readonly PackageRef[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (packages.length === 0) return out;
  const names = packages.map((p) => p.name);
  const versions = packages.map((p) => p.version);
  const arches = packages.map((p) => p.arch);
  await db.query(
    `INSERT INTO kh_packages (name, version, arch) SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[])
      ON CONFLICT (name, version, arch) DO NOTHING`,
    [names, versions, arches],
  );
  const rows = (
    await db.query<{ id: number; name: string; version: string; arch: string }>(
      `SELECT p.id::float8 AS id, p.name, p.version, p.arch FROM kh_packages p
         JOIN (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[])) q (name, version, arch)
           ON p.name = q.name AND p.version = q.version AND p.arch = q.arch`,
      [names, versions, arches],
    )
  ).rows;
  for (const r of rows) out.set(packageKey(r), r.id);
  return out;
}

/** Path and package ids that are remembered across calls (one import session, one package-state change). */
export class IdCache {
  readonly #paths = new Map<string, number>();
  readonly #packages = new Map<string, number>();

  /** Makes sure every path and package given has an id in this cache (asking the database only for new ones). */
  async resolve(db: Queryable, paths: readonly Buffer[], packages: readonly PackageRef[]): Promise<void> {
    const newPaths = paths.filter((p) => !this.#paths.has(p.toString('latin1')));
    const newPackages = packages.filter((p) => !this.#packages.has(packageKey(p)));
    for (const [k, id] of await pathIds(db, newPaths)) this.#paths.set(k, id);
    for (const [k, id] of await packageIds(db, newPackages)) this.#packages.set(k, id);
  }

  /** The id of a path resolved before; 0 for none (hash-only rows). */
  path(path: Buffer | undefined): number {
    return path === undefined ? 0 : (this.#paths.get(path.toString('latin1')) as number);
  }

  /** The id of a package resolved before; 0 for none. */
  package(p: PackageRef | undefined): number {
    return p === undefined ? 0 : (this.#packages.get(packageKey(p)) as number);
  }
}
