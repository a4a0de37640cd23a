import type Database from 'better-sqlite3';
import type { HashEvidence, HashSourceKind } from '../core/known-hash-policy.js';

/** What a hash-only known row (no path, no package) of one source says, as the evidence query would say it. */
export interface HashOnlySource {
  readonly source: HashEvidence['source'];
  /**
   * False when the source has installed-package state (a host's dpkg database) and so knows content only of
   * installed packages: its rows without a package explain nothing (the evidence query's `installedNow`).
   */
  readonly counts: boolean;
}

/**
 * The sources table in memory, for answering hits on hash-only rows without a join. Sources only ever gain rows
 * and never change kind, name or host; whether one has installed-package state can change, so the cache is
 * cleared whenever this connection writes package state and when another connection commits.
 */
export class HashOnlySources {
  readonly #all: Database.Statement;
  #byId: Map<number, HashOnlySource> | undefined;

  constructor(db: Database.Database) {
    // The same condition as the evidence query's `installedNow`, for a row whose package_id is 0.
    this.#all = db
      .prepare(
        `SELECT s.id, s.kind, s.name, s.host,
                NOT EXISTS (SELECT 1 FROM host_packages h WHERE h.source_id = s.id)
                OR EXISTS (SELECT 1 FROM host_packages h WHERE h.source_id = s.id AND h.package_id = 0)
           FROM sources s`,
      )
      .raw(true);
  }

  /** The source with this id, or undefined if the database has none (the caller then asks the database). */
  get(id: number): HashOnlySource | undefined {
    let found = this.#load().get(id);
    if (found === undefined) {
      // Added since the cache was filled (an import on this connection).
      this.#byId = undefined;
      found = this.#load().get(id);
    }
    return found;
  }

  /** Forgets what it read: package state or sources changed. */
  clear(): void {
    this.#byId = undefined;
  }

  #load(): Map<number, HashOnlySource> {
    if (this.#byId !== undefined) return this.#byId;
    const byId = new Map<number, HashOnlySource>();
    for (const [id, kind, name, host, counts] of this.#all.all() as [number, HashSourceKind, string, string, number][]) {
      byId.set(Number(id), { source: { kind, name, ...(host === '' ? {} : { host }) }, counts: counts === 1 });
    }
    this.#byId = byId;
    return byId;
  }
}
