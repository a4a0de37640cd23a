import type Database from 'better-sqlite3';
import { importPackageRows } from './import-package-rows.js';
import { CustosError } from '../core/custos-error.js';
import type { FileHashes } from '../core/file-state.js';
import {
  NO_EVIDENCE,
  type EvidenceSet,
  type HashEvidence,
  type HashSourceKind,
  type InstalledVersions,
  type PackageRef,
  type RemovalEvidence,
} from '../core/known-hash-policy.js';
import { openSqlite, SchemaTooNewError } from '../platform/open-sqlite.js';
import { BloomCache, type BloomSource } from './bloom-cache.js';
import { DigestIndexCache, type DigestIndexSource } from './digest-index.js';
import type { IndexedRow } from './digest-index-file.js';
import { HashOnlySources } from './hash-only-sources.js';
import { ImportWindow } from './import-window.js';
import { CacheBuilder } from './known-hash-cache-builder.js';
import {
  derivedSource,
  type DebVerdict,
  type DerivedEntry,
  type ExpectedAbsence,
  type InstalledPackage,
  type PackageStateChange,
  type PackageStateSummary,
} from './host-packages.js';
import { KNOWN_HASH_DATABASE } from './known-hash-database.js';
import { SqliteHostPackageTables, type IdLookup } from './sqlite-host-packages.js';
import { bulkImportSession, rowImportSession } from './sqlite-known-hash-import.js';
import { SqliteKnownHashLookup, type IndexedLookups } from './sqlite-known-hash-lookup.js';
import { prepareKnownHashStatements, type KnownHashStatements } from './sqlite-known-hash-statements.js';
import type { HashSourceRef, HashStoreStats, ImportSession, KnownHashQuery, KnownHashStore } from './known-hash-store.js';

const EMPTY_PATH = Buffer.alloc(0);

/** Options for opening the known-hash database. */
export interface KnownHashStoreOptions {
  /**
   * Keep Bloom filters of the known and known-bad digests in memory (saved beside the database as `.bloom` files
   * and rebuilt when stale), so lookups of unknown content skip the database. Worth it for long-running processes
   * that look up many hashes (the manager); a one-off check does not need it.
   */
  readonly bloom?: boolean;
  /**
   * Keep the digest index (`<db>.digests`, see `DigestIndexCache`): hits on hash-only rows and the Bloom filters'
   * false "maybe" are answered with one positioned read instead of SQL. Default: as `bloom`.
   */
  readonly digestIndex?: boolean;
  /**
   * When the saved filters or index are missing or stale: `now` builds them at open (default; minutes at 100M rows),
   * `background` in a thread of their own while lookups ask SQLite (the manager: it listens at once), `never` uses
   * saved ones only (a one-shot `check`: see `open-known-hashes.ts`).
   */
  readonly build?: 'now' | 'background' | 'never';
  /**
   * Take up the saved filters and index only once this many lookups were asked (before, SQLite answers): loading them
   * costs about their size in reads (0.6 s at 100M rows), which a one-shot check with few lookups never earns back.
   */
  readonly keepAfter?: number;
}

/** The known-hash database in its own SQLite file: its SQL; the Bloom filter cache in front is `BloomCache`. */
export class SqliteKnownHashStore implements KnownHashStore {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #stmts: KnownHashStatements;
  readonly #hosts: SqliteHostPackageTables;
  readonly #lookup: SqliteKnownHashLookup;
  readonly #blooms: BloomCache;
  readonly #index: DigestIndexCache;
  readonly #sources: HashOnlySources;
  readonly #window: ImportWindow;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
    this.#stmts = prepareKnownHashStatements(db);
    this.#hosts = new SqliteHostPackageTables(db);
    this.#lookup = new SqliteKnownHashLookup(this.#stmts);
    this.#blooms = BloomCache.open(path, this.#bloomSource());
    this.#sources = new HashOnlySources(db);
    this.#index = DigestIndexCache.open(path, this.#indexSource(db), { onForeignCommit: () => this.#sources.clear() });
    this.#window = new ImportWindow(db, this.#stmts, () => this.#generationMoved());
  }

  /** Opens (creating if needed) the database at `path`. */
  static open(path: string, options: KnownHashStoreOptions = {}): SqliteKnownHashStore {
    const store = SqliteKnownHashStore.#open(path);
    const wanted = { bloom: options.bloom === true, digestIndex: (options.digestIndex ?? options.bloom) === true };
    if (!wanted.bloom && !wanted.digestIndex) return store;
    const keep = (): void => store.#keep(wanted, options.build ?? 'now');
    if (options.keepAfter === undefined || options.keepAfter <= 0) keep();
    else store.#keepAfter = { lookups: options.keepAfter, keep };
    return store;
  }

  /** Lookups left before the saved filters and index are taken up (`keepAfter`). */
  #keepAfter: { lookups: number; readonly keep: () => void } | undefined;
  #builder: CacheBuilder | undefined;

  #keep(wanted: { readonly bloom: boolean; readonly digestIndex: boolean }, build: 'now' | 'background' | 'never'): void {
    if (build === 'background') {
      // One thread builds what is not current at open; later each cache asks again for its own (lost for
      // REBUILD_AFTER_MS, or the index's log past DELTA_LIMIT). A request while a build runs waits for the next.
      let opening = true;
      const later = (what: { bloom: boolean; digestIndex: boolean }) => () => (opening ? undefined : this.#buildInBackground(what));
      if (wanted.bloom) this.#blooms.keep({ build: later({ bloom: true, digestIndex: false }) });
      if (wanted.digestIndex) this.#index.keep({ build: later({ bloom: false, digestIndex: true }) });
      opening = false;
      this.#buildInBackground({ bloom: wanted.bloom && !this.#blooms.ready, digestIndex: wanted.digestIndex && !this.#index.ready });
      return;
    }
    const how = build === 'now' ? 'now' : () => {};
    if (wanted.bloom) this.#blooms.keep({ build: how });
    if (wanted.digestIndex) this.#index.keep({ build: how });
  }

  #buildInBackground(what: { readonly bloom: boolean; readonly digestIndex: boolean }): void {
    if (this.#builder?.running === true || (!what.bloom && !what.digestIndex)) return;
    this.#builder = new CacheBuilder(this.path, what, () => {
      // Take up what it saved at the next lookup, not after the retry delay.
      this.#blooms.savedChanged();
      this.#index.savedChanged();
    });
  }

  /** Resolves once no background build runs (tests, the bench): what it saved is taken up by the next lookup. */
  async backgroundBuild(): Promise<void> {
    await this.#builder?.wait();
  }

  /** Counts lookups toward `keepAfter`. */
  #counted(lookups: number): void {
    const after = this.#keepAfter;
    if (after === undefined) return;
    after.lookups -= lookups;
    if (after.lookups > 0) return;
    this.#keepAfter = undefined;
    after.keep();
  }

  static #open(path: string): SqliteKnownHashStore {
    try {
      return new SqliteKnownHashStore(path, openSqlite(path, KNOWN_HASH_DATABASE));
    } catch (error) {
      if (error instanceof CustosError) throw error;
      if (error instanceof SchemaTooNewError) throw new CustosError('STORE_FAILED', error.message, { cause: error });
      throw new CustosError('STORE_FAILED', `failed to open the known-hash database ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  async beginImport(source: HashSourceRef, options: { readonly bulk?: boolean } = {}): Promise<ImportSession> {
    const bulk = options.bulk === true;
    const target = {
      db: this.#db,
      stmts: this.#stmts,
      sourceId: this.#upsertSource(source),
      blooms: this.#blooms.forImport({ bulk }),
      index: this.#index.forImport(),
    };
    const session = bulk ? bulkImportSession : rowImportSession;
    const marker = this.#window.session();
    return session({
      ...target,
      marker,
      ended: (inserted, logged) => {
        if (inserted === 0) return void marker.end();
        const generationBefore = marker.end(() => this.#bumpGeneration()) as number;
        if (logged) {
          this.#blooms.imported(target.blooms, generationBefore);
          this.#index.imported(target.index, generationBefore, bulk);
        } else this.#generationMoved();
      },
    });
  }

  /** This connection moved the generation on without logging (see `ImportWindow`): the caches look again. */
  #generationMoved(): void {
    this.#blooms.databaseChanged();
    this.#index.databaseChanged();
  }

  #upsertSource(source: HashSourceRef): number {
    const row = this.#stmts.upsertSource.get(
      source.kind,
      source.name,
      source.host ?? '',
      source.evidence === undefined ? null : JSON.stringify(source.evidence),
      new Date().toISOString(),
    ) as [number];
    return Number(row[0]);
  }

  async lastImport(source: HashSourceRef): Promise<Date | undefined> {
    const at = this.#stmts.sourceImportedAt.get(source.kind, source.name, source.host ?? '') as [string] | undefined;
    return at === undefined ? undefined : new Date(at[0]);
  }

  async lookup(path: Buffer, hashes: FileHashes): Promise<EvidenceSet> {
    this.#counted(1);
    // One clock read for the three checks: it costs about as much as a filtered miss's probes.
    const now = performance.now();
    if (this.#window.open(now)) return this.#lookup.lookup(path, hashes, false, undefined);
    return this.#lookup.lookup(path, hashes, false, this.#blooms.forLookups(now), true, this.#indexed(now));
  }

  async lookupBad(hashes: FileHashes): Promise<readonly HashEvidence[]> {
    this.#counted(1);
    const now = performance.now();
    return this.#lookup.lookup(EMPTY_PATH, hashes, true, this.#window.open(now) ? undefined : this.#blooms.forLookups(now)).bad;
  }

  async lookupMany(queries: readonly KnownHashQuery[]): Promise<readonly EvidenceSet[]> {
    this.#counted(queries.length);
    // One look at the filters' freshness for the whole batch, and no promise per file. While an import is in
    // progress they lack its committed batches: SQLite answers (see `ImportWindow`).
    const now = performance.now();
    const open = this.#window.open(now);
    const blooms = open ? undefined : this.#blooms.forLookups(now);
    const indexed = open ? undefined : this.#indexed(now);
    return queries.map((q) =>
      q.deleted === true ? this.#removals(q.path) : this.#lookup.lookup(q.path, q.hashes, q.badOnly === true, blooms, q.usrMerged !== false, indexed),
    );
  }

  #indexed(now?: number): IndexedLookups | undefined {
    const index = this.#index.forLookups(now);
    return index === undefined ? undefined : { index, sources: this.#sources, damaged: () => this.#index.damaged(index) };
  }

  #removals(path: Buffer): EvidenceSet {
    const rows = this.#hosts.removals(path, (p) => (this.#stmts.pathId.get(p) as [number] | undefined)?.[0]);
    if (rows.length === 0) return NO_EVIDENCE;
    const removed: RemovalEvidence[] = rows.map((r) => {
      const [kind, name, host] = this.#stmts.sourceById.get(r.sourceId) as [HashSourceKind, string, string];
      return { ...(r.package === undefined ? {} : { package: r.package }), source: { kind, name, ...(host === '' ? {} : { host }) }, reason: r.reason };
    });
    return { ...NO_EVIDENCE, removed };
  }

  async installedPackages(source: HashSourceRef): Promise<ReadonlyMap<string, InstalledPackage>> {
    const id = this.#sourceId(source);
    return id === undefined ? new Map() : this.#hosts.installed(id);
  }

  async applyPackageState(source: HashSourceRef, change: PackageStateChange): Promise<PackageStateSummary> {
    const { rows, inserted } = await importPackageRows(this, source, change.updated);
    const sourceId = this.#upsertSource(source);
    const retiredPaths = this.#hosts.applyPackages(sourceId, this.#ids(), change.updated, change.removed, change.at.toISOString());
    this.#stmts.putMeta.run(`package_database:${sourceId}`, change.databaseStamp);
    this.#sources.clear(); // installed-package state changed: which sources' package-less rows count
    return { rows, inserted, installed: change.updated.length, removed: change.removed.length, retiredPaths };
  }

  async ownersOf(source: HashSourceRef, paths: readonly Buffer[]): Promise<ReadonlyMap<string, PackageRef>> {
    const id = this.#sourceId(source);
    const out = new Map<string, PackageRef>();
    if (id === undefined) return out;
    const ids = new Map<number, Buffer>();
    for (const p of paths) {
      const pathId = (this.#stmts.pathId.get(p) as [number] | undefined)?.[0];
      if (pathId !== undefined) ids.set(pathId, p);
    }
    for (const [pathId, pkg] of this.#hosts.owners(id, [...ids.keys()])) out.set((ids.get(pathId) as Buffer).toString('latin1'), pkg);
    return out;
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
    const derivedId = this.#upsertSource(derived);
    const { stale, retired } = this.#hosts.replaceDerived(derivedId, this.#ids(), entries, absent, goneCauses, new Date().toISOString());
    // Side effects that no longer hold stop being known-good (an old ld.so.cache put back is not explained).
    this.#db.transaction(() => {
      for (const k of stale) this.#stmts.dropKnown.run(k.digest, k.pathId, k.packageId, derivedId);
    })();
    this.#sources.clear();
    // The index's delta adds rows, it cannot remove them: a dropped row it could answer alone (no path, no
    // package) makes it wrong, so it goes (rows with a path are always asked of the database anyway).
    if (stale.some((k) => k.pathId === 0 && k.packageId === 0)) this.#index.invalidate();
    return { rows: entries.length, retired };
  }

  async installedVersions(source: HashSourceRef): Promise<InstalledVersions | undefined> {
    const id = this.#sourceId(source);
    return id === undefined ? undefined : this.#hosts.installedVersions(id);
  }

  async debVerdict(sha256: string): Promise<DebVerdict | undefined> {
    return this.#hosts.debVerdict(sha256);
  }

  async recordDeb(sha256: string, verdict: DebVerdict): Promise<void> {
    this.#hosts.recordDeb(sha256, verdict, new Date().toISOString());
  }

  async derivedCauses(source: HashSourceRef): Promise<readonly string[]> {
    const id = this.#sourceId(derivedSource(source));
    return id === undefined ? [] : this.#hosts.causes(id);
  }

  async databaseStamp(source: HashSourceRef): Promise<string | undefined> {
    const id = this.#sourceId(source);
    if (id === undefined) return undefined;
    return (this.#stmts.getMeta.get(`package_database:${id}`) as [string] | undefined)?.[0];
  }

  async sourceValue(source: HashSourceRef, key: string): Promise<string | undefined> {
    const id = this.#sourceId(source);
    return id === undefined ? undefined : (this.#stmts.getMeta.get(`${key}:${id}`) as [string] | undefined)?.[0];
  }

  async setSourceValue(source: HashSourceRef, key: string, value: string): Promise<void> {
    this.#stmts.putMeta.run(`${key}:${this.#upsertSourceKeepingTime(source)}`, value);
  }

  #upsertSourceKeepingTime(source: HashSourceRef): number {
    return this.#sourceId(source) ?? this.#upsertSource(source);
  }

  #sourceId(source: HashSourceRef): number | undefined {
    return (this.#stmts.sourceId.get(source.kind, source.name, source.host ?? '') as [number] | undefined)?.[0];
  }

  /** Path and package ids, created on first use. */
  #ids(): IdLookup {
    const s = this.#stmts;
    return {
      pathId: (path) => {
        s.insertPath.run(path);
        return Number((s.pathId.get(path) as [number])[0]);
      },
      packageId: (p) => {
        if (p === undefined) return 0;
        s.insertPackage.run(p.name, p.version, p.arch);
        return Number((s.packageId.get(p.name, p.version, p.arch) as [number])[0]);
      },
    };
  }

  #generation(): number {
    return Number((this.#stmts.generation.get() as [string])[0]);
  }

  /** Moves the database on a generation after an import added rows (inside the import's last transaction); returns the generation before. */
  #bumpGeneration(): number {
    const generation = this.#generation();
    this.#stmts.bumpGeneration.run();
    return generation;
  }

  /** What the Bloom filter cache reads of this database. */
  #bloomSource(): BloomSource {
    const s = this.#stmts;
    return {
      generation: () => this.#generation(),
      changeCounter: () => Number(s.dataVersion.get()),
      snapshot: (read) => this.#db.transaction(read)(),
      count: (list) => Number((list === 'known' ? s.countKnown : s.countBad).get()),
      digests: (list) => (list === 'known' ? s.knownDigests : s.badDigests).iterate() as IterableIterator<Buffer>,
    };
  }

  async stats(): Promise<HashStoreStats> {
    const count = (sql: string): number => Number(this.#db.prepare(sql).pluck().get());
    const sources = (
      this.#db.prepare('SELECT kind, name, host, imported_at, rows FROM sources ORDER BY id').raw(true).all() as [string, string, string, string, number][]
    ).map(([kind, name, host, importedAt, rows]) => ({ kind, name, ...(host === '' ? {} : { host }), importedAt, rows }));
    return {
      sources,
      knownRows: count('SELECT count(*) FROM known'),
      badRows: count('SELECT count(*) FROM bad'),
      paths: count('SELECT count(*) FROM paths'),
      packages: count('SELECT count(*) FROM packages'),
      debs: { verified: count("SELECT count(*) FROM debs WHERE verdict = 'verified'"), refused: count("SELECT count(*) FROM debs WHERE verdict = 'refused'") },
    };
  }

  /** What the digest index reads of this database: the known table in key order. */
  #indexSource(db: Database.Database): DigestIndexSource {
    const s = this.#stmts;
    const rows = db.prepare('SELECT digest, path_id, package_id, source_id FROM known ORDER BY digest, path_id, package_id, source_id').raw(true);
    return {
      generation: () => this.#generation(),
      changeCounter: () => Number(s.dataVersion.get()),
      snapshot: (read) => this.#db.transaction(read)(),
      count: () => Number(s.countKnown.get()),
      rows: function* (): Generator<IndexedRow> {
        for (const [digest, pathId, packageId, sourceId] of rows.iterate() as IterableIterator<[Buffer, number, number, number]>) {
          yield { digest, placed: pathId !== 0 || packageId !== 0, sourceId: Number(sourceId) };
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.#builder?.stop();
    this.#index.close();
    this.#db.close();
  }
}
