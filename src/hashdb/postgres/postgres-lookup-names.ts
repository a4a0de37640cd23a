import type { HashEvidence, PackageRef } from '../../core/known-hash-policy.js';
import type { Queryable } from '../../storage/postgres/postgres-database.js';

/** A source as evidence names it. */
export type SourceName = HashEvidence['source'];

/**
 * Packages are remembered up to this many; past it the map starts again (a manager of a big archive mirror asks
 * about many versions, and an id costs one more round trip to read back, never a wrong answer).
 */
const PACKAGES_KEPT = 200_000;

/** The names one lookup call needs, by id: kept by the call, so the shared cache dropping entries cannot lose them. */
export class ResolvedNames {
  readonly #sources = new Map<number, SourceName>();
  readonly #packages = new Map<number, PackageRef>();

  /** Adds a source's name. */
  addSource(id: number, source: SourceName): void {
    this.#sources.set(id, source);
  }

  /** Adds a package's name. */
  addPackage(id: number, pkg: PackageRef): void {
    this.#packages.set(id, pkg);
  }

  /**
   * The source of an id resolved for this call; undefined for an id without a row (cannot happen: sources are
   * written before their rows and never deleted; a row without one is left out, as an inner join would).
   */
  source(id: number): SourceName | undefined {
    return this.#sources.get(id);
  }

  /** The package of an id resolved for this call; undefined for 0 (no package) or an id without a row. */
  package(id: number): PackageRef | undefined {
    return id === 0 ? undefined : this.#packages.get(id);
  }
}

/**
 * The names behind source and package ids, remembered across lookups so a chunk's query returns bare ids (the
 * names as text on every row took a third of a chunk's time, measured). Safe to keep for the life of the
 * process: `kh_sources` and `kh_packages` rows are never deleted, ids are never reused (identity columns), and
 * kind, name, host, version and arch are never updated.
 */
export class LookupNames {
  readonly #sources = new Map<number, SourceName>();
  readonly #packages = new Map<number, PackageRef>();
  readonly #packagesKept: number;

  /** `packagesKept`: how many package names are remembered before the memory starts again (tests pass a few). */
  constructor(packagesKept = PACKAGES_KEPT) {
    this.#packagesKept = packagesKept;
  }

  /**
   * Resolves these ids into `into` (a new ResolvedNames by default): from memory, and the rest with at most one
   * round trip for each table (none when all are remembered).
   */
  async load(db: Queryable, sourceIds: Iterable<number>, packageIds: Iterable<number>, into = new ResolvedNames()): Promise<ResolvedNames> {
    const newSources: number[] = [];
    for (const id of new Set(sourceIds)) {
      const known = this.#sources.get(id);
      if (known === undefined) newSources.push(id);
      else into.addSource(id, known);
    }
    const newPackages: number[] = [];
    for (const id of new Set(packageIds)) {
      if (id === 0) continue;
      const known = this.#packages.get(id);
      if (known === undefined) newPackages.push(id);
      else into.addPackage(id, known);
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
    for (const r of sources?.rows ?? []) {
      const source: SourceName = { kind: r.kind, name: r.name, ...(r.host === '' ? {} : { host: r.host }) };
      this.#sources.set(r.id, source);
      into.addSource(r.id, source);
    }
    // Past the bound the memory starts again; what this call needs is in `into` either way.
    if (this.#packages.size + newPackages.length > this.#packagesKept) this.#packages.clear();
    for (const r of packages?.rows ?? []) {
      const pkg: PackageRef = { name: r.name, version: r.version, arch: r.arch };
      this.#packages.set(r.id, pkg);
      into.addPackage(r.id, pkg);
    }
    return into;
  }
}
