import type { HashEvidence, PackageRef } from '../../core/known-hash-policy.js';
import type { Queryable } from '../../storage/postgres/postgres-database.js';

/** A source as evidence names it. */
export type SourceName = HashEvidence['source'];

/**
 * Packages are remembered up to this many; past it the map starts again (a manager of a big archive mirror asks
 * about many versions, and an id costs one more round trip to read back, never a wrong answer).
 */
const PACKAGES_KEPT = 200_000;

/**
 * The names behind source and package ids, remembered across lookups so a chunk's query returns bare ids (the
 * names as text on every row took a third of a chunk's time, measured). Safe to keep for the life of the
 * process: `kh_sources` and `kh_packages` rows are never deleted, ids are never reused (identity columns), and
 * kind, name, host, version and arch are never updated.
 */
export class LookupNames {
  readonly #sources = new Map<number, SourceName>();
  readonly #packages = new Map<number, PackageRef>();

  /** Reads the names of the ids not remembered yet: at most one round trip for each table, none when all are known. */
  async load(db: Queryable, sourceIds: Iterable<number>, packageIds: Iterable<number>): Promise<void> {
    const newSources = [...new Set(sourceIds)].filter((id) => !this.#sources.has(id));
    const wanted = [...new Set(packageIds)].filter((id) => id !== 0);
    let newPackages = wanted.filter((id) => !this.#packages.has(id));
    // Past the bound, start again with this chunk's own packages (so none it needs is dropped after reading).
    if (this.#packages.size + newPackages.length > PACKAGES_KEPT) {
      this.#packages.clear();
      newPackages = wanted;
    }
    const [sources, packages] = await Promise.all([
      newSources.length === 0
        ? undefined
        : db.query<{ id: number; kind: SourceName['kind']; name: string; host: string }>(
            'SELECT id::float8 AS id, kind, name, host FROM kh_sources WHERE id = ANY($1::bigint[])',
            [newSources],
          ),
      newPackages.length === 0
        ? undefined
        : db.query<{ id: number; name: string; version: string; arch: string }>(
            'SELECT id::float8 AS id, name, version, arch FROM kh_packages WHERE id = ANY($1::bigint[])',
            [newPackages],
          ),
    ]);
    for (const r of sources?.rows ?? []) this.#sources.set(r.id, { kind: r.kind, name: r.name, ...(r.host === '' ? {} : { host: r.host }) });
    for (const r of packages?.rows ?? []) this.#packages.set(r.id, { name: r.name, version: r.version, arch: r.arch });
  }

  /**
   * The source of an id loaded before; undefined for an id without a row (cannot happen: sources are written
   * before their rows and never deleted; a row without one is left out, as the inner join did before).
   */
  source(id: number): SourceName | undefined {
    return this.#sources.get(id);
  }

  /** The package of an id loaded before; undefined for 0 (no package) or an id without a row. */
  package(id: number): PackageRef | undefined {
    return id === 0 ? undefined : this.#packages.get(id);
  }
}
