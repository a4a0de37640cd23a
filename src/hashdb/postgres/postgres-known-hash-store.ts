import type { FileHashes } from '../../core/file-state.js';
import { importPackageRows } from '../import-package-rows.js';
import type { EvidenceSet, HashEvidence, InstalledVersions, PackageRef } from '../../core/known-hash-policy.js';
import { PostgresDatabase } from '../../storage/postgres/postgres-database.js';
import {
  derivedSource,
  type DebVerdict,
  type DerivedEntry,
  type ExpectedAbsence,
  type InstalledPackage,
  type PackageStateChange,
  type PackageStateSummary,
} from '../host-packages.js';
import type { HashSourceRef, HashStoreStats, ImportSession, KnownHashQuery, KnownHashStore } from '../known-hash-store.js';
import { KNOWN_HASH_SCHEMA } from './known-hash-migrations.js';
import { PostgresBloomCache } from './postgres-bloom-cache.js';
import { PostgresHostPackageTables } from './postgres-host-packages.js';
import { postgresImportSession } from './postgres-known-hash-import.js';
import { lookupMany } from './postgres-known-hash-lookup.js';
import { LookupNames } from './postgres-lookup-names.js';

const EMPTY_PATH = Buffer.alloc(0);

/** Options for opening the known-hash database on PostgreSQL. */
export interface PostgresKnownHashStoreOptions {
  /**
   * Keep Bloom filters of the known and known-bad digests in memory, built in the background, so lookups of unknown
   * content skip the database (the manager). A one-off command does not need them.
   */
  readonly bloom?: boolean;
  /** Fail rather than create the tables (commands that only read: `hashdb lookup`, `stats`). */
  readonly mustExist?: boolean;
}

/**
 * The known-hash database in PostgreSQL (`kh_*` tables, their own schema version), so every manager of a fleet sees
 * what one imported. It answers as SqliteKnownHashStore does (the contract suite runs on both); a chunk of changes
 * is one round trip, and each lookup call first reads the database generation, so another process's import is
 * seen by the next call.
 */
export class PostgresKnownHashStore implements KnownHashStore {
  readonly database: PostgresDatabase;
  readonly #hosts: PostgresHostPackageTables;
  readonly #blooms: PostgresBloomCache;
  readonly #names = new LookupNames();

  private constructor(database: PostgresDatabase) {
    this.database = database;
    this.#hosts = new PostgresHostPackageTables(database);
    this.#blooms = new PostgresBloomCache(database);
  }

  /** Connects to `url` (`postgres://…[?schema=NAME]`) and creates or upgrades the known-hash tables. */
  static async open(url: string, options: PostgresKnownHashStoreOptions = {}): Promise<PostgresKnownHashStore> {
    const database = await PostgresDatabase.open(url, { max: 4, kind: KNOWN_HASH_SCHEMA, mustExist: options.mustExist === true });
    const store = new PostgresKnownHashStore(database);
    if (options.bloom === true) void store.#blooms.keep();
    return store;
  }

  /** Keeps Bloom filters (if not asked for at open) and resolves once the first are built; lookups need not wait. */
  async bloomReady(): Promise<void> {
    await this.#blooms.keep();
  }

  async beginImport(source: HashSourceRef, options: { readonly bulk?: boolean } = {}): Promise<ImportSession> {
    void options; // one import path on PostgreSQL (see postgresImportSession)
    const sourceId = await this.#upsertSource(source);
    const blooms = this.#blooms.forImport();
    return postgresImportSession({
      db: this.database,
      sourceId,
      blooms,
      moved: (generation) => this.#blooms.imported(blooms, generation),
    });
  }

  async #upsertSource(source: HashSourceRef): Promise<number> {
    const row = (
      await this.database.query<{ id: number }>(
        `INSERT INTO kh_sources (kind, name, host, evidence, imported_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind, name, host) DO UPDATE SET evidence = excluded.evidence, imported_at = excluded.imported_at RETURNING id::float8 AS id`,
        [source.kind, source.name, source.host ?? '', source.evidence === undefined ? null : JSON.stringify(source.evidence), new Date().toISOString()],
      )
    ).rows[0] as { id: number };
    return row.id;
  }

  async #sourceId(source: HashSourceRef): Promise<number | undefined> {
    return (
      await this.database.query<{ id: number }>('SELECT id::float8 AS id FROM kh_sources WHERE kind = $1 AND name = $2 AND host = $3', [
        source.kind,
        source.name,
        source.host ?? '',
      ])
    ).rows[0]?.id;
  }

  async lastImport(source: HashSourceRef): Promise<Date | undefined> {
    const row = (
      await this.database.query<{ imported_at: string }>('SELECT imported_at FROM kh_sources WHERE kind = $1 AND name = $2 AND host = $3', [
        source.kind,
        source.name,
        source.host ?? '',
      ])
    ).rows[0];
    return row === undefined ? undefined : new Date(row.imported_at);
  }

  async lookup(path: Buffer, hashes: FileHashes): Promise<EvidenceSet> {
    return (await this.lookupMany([{ path, hashes }]))[0] as EvidenceSet;
  }

  async lookupBad(hashes: FileHashes): Promise<readonly HashEvidence[]> {
    return ((await this.lookupMany([{ path: EMPTY_PATH, hashes, badOnly: true }]))[0] as EvidenceSet).bad;
  }

  async lookupMany(queries: readonly KnownHashQuery[]): Promise<readonly EvidenceSet[]> {
    const blooms = this.#blooms.forLookups();
    return lookupMany(this.database, this.#names, queries, blooms instanceof Promise ? await blooms : blooms);
  }

  async installedPackages(source: HashSourceRef): Promise<ReadonlyMap<string, InstalledPackage>> {
    const id = await this.#sourceId(source);
    return id === undefined ? new Map() : this.#hosts.installed(id);
  }

  async applyPackageState(source: HashSourceRef, change: PackageStateChange): Promise<PackageStateSummary> {
    const { rows, inserted } = await importPackageRows(this, source, change.updated);
    const sourceId = await this.#upsertSource(source);
    const retiredPaths = await this.#hosts.applyPackages(sourceId, change.updated, change.removed, change.at.toISOString());
    await this.#putMeta(`package_database:${sourceId}`, change.databaseStamp);
    return { rows, inserted, installed: change.updated.length, removed: change.removed.length, retiredPaths };
  }

  async ownersOf(source: HashSourceRef, paths: readonly Buffer[]): Promise<ReadonlyMap<string, PackageRef>> {
    const id = await this.#sourceId(source);
    return id === undefined ? new Map() : this.#hosts.owners(id, paths);
  }

  async replaceDerived(
    source: HashSourceRef,
    entries: readonly DerivedEntry[],
    absent: readonly ExpectedAbsence[],
    goneCauses: ReadonlyMap<string, string>,
  ): Promise<{ readonly rows: number; readonly retired: number }> {
    const derived = derivedSource(source);
    const session = await this.beginImport(derived);
    await session.add(entries.map((e) => e.row));
    await session.finish();
    const derivedId = await this.#upsertSource(derived);
    const { stale, retired } = await this.#hosts.replaceDerived(derivedId, entries, absent, goneCauses, new Date().toISOString());
    // Side effects that no longer hold stop being known-good (an old ld.so.cache put back is not explained).
    if (stale.length > 0)
      await this.database.query(
        `DELETE FROM kh_known k USING unnest($1::bytea[], $2::bigint[], $3::bigint[]) AS s (d, p, g)
          WHERE k.digest = s.d AND k.path_id = s.p AND k.package_id = s.g AND k.source_id = $4`,
        [stale.map((s) => s.digest), stale.map((s) => s.pathId), stale.map((s) => s.packageId), derivedId],
      );
    return { rows: entries.length, retired };
  }

  async installedVersions(source: HashSourceRef): Promise<InstalledVersions | undefined> {
    const id = await this.#sourceId(source);
    return id === undefined ? undefined : this.#hosts.installedVersions(id);
  }

  async debVerdict(sha256: string): Promise<DebVerdict | undefined> {
    return this.#hosts.debVerdict(sha256);
  }

  async recordDeb(sha256: string, verdict: DebVerdict): Promise<void> {
    await this.#hosts.recordDeb(sha256, verdict, new Date().toISOString());
  }

  async derivedCauses(source: HashSourceRef): Promise<readonly string[]> {
    const id = await this.#sourceId(derivedSource(source));
    return id === undefined ? [] : this.#hosts.causes(id);
  }

  async databaseStamp(source: HashSourceRef): Promise<string | undefined> {
    const id = await this.#sourceId(source);
    return id === undefined ? undefined : this.#getMeta(`package_database:${id}`);
  }

  async sourceValue(source: HashSourceRef, key: string): Promise<string | undefined> {
    const id = await this.#sourceId(source);
    return id === undefined ? undefined : this.#getMeta(`${key}:${id}`);
  }

  async setSourceValue(source: HashSourceRef, key: string, value: string): Promise<void> {
    const id = (await this.#sourceId(source)) ?? (await this.#upsertSource(source));
    await this.#putMeta(`${key}:${id}`, value);
  }

  async #getMeta(key: string): Promise<string | undefined> {
    return (await this.database.query<{ value: string }>('SELECT value FROM kh_meta WHERE key = $1', [key])).rows[0]?.value;
  }

  async #putMeta(key: string, value: string): Promise<void> {
    await this.database.query('INSERT INTO kh_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  async stats(): Promise<HashStoreStats> {
    const sources = (
      await this.database.query<{ kind: string; name: string; host: string; imported_at: string; rows: string }>(
        'SELECT kind, name, host, imported_at, rows FROM kh_sources ORDER BY id',
      )
    ).rows.map((r) => ({ kind: r.kind, name: r.name, ...(r.host === '' ? {} : { host: r.host }), importedAt: r.imported_at, rows: Number(r.rows) }));
    const c = (
      await this.database.query<Record<string, string>>(
        `SELECT (SELECT count(*) FROM kh_known) AS known, (SELECT count(*) FROM kh_bad) AS bad, (SELECT count(*) FROM kh_paths) AS paths,
                (SELECT count(*) FROM kh_packages) AS packages, (SELECT count(*) FROM kh_debs WHERE verdict = 'verified') AS verified,
                (SELECT count(*) FROM kh_debs WHERE verdict = 'refused') AS refused`,
      )
    ).rows[0] as Record<string, string>;
    return {
      sources,
      knownRows: Number(c.known),
      badRows: Number(c.bad),
      paths: Number(c.paths),
      packages: Number(c.packages),
      debs: { verified: Number(c.verified), refused: Number(c.refused) },
    };
  }

  async close(): Promise<void> {
    await this.#blooms.close();
    await this.database.close();
  }
}
