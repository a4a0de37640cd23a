import type Database from 'better-sqlite3';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { CustosError } from '../core/custos-error.js';
import type { DeclaredMode } from '../core/declared-mode.js';
import type { FileHashes, HashAlgorithm } from '../core/file-state.js';
import { NO_EVIDENCE, type EvidenceSet, type HashEvidence, type HashSourceKind, type InstalledVersions, type PackageRef, type RemovalEvidence } from '../core/known-hash-policy.js';
import { usrAlias } from '../core/usrmerge.js';
import { openSqlite, SchemaTooNewError } from '../platform/open-sqlite.js';
import { BloomFilter } from './bloom-filter.js';
import { derivedSource, type DebVerdict, type DerivedEntry, type ExpectedAbsence, type InstalledPackage, type PackageStateChange, type PackageStateSummary } from './host-packages.js';
import { KNOWN_HASH_DATABASE } from './known-hash-database.js';
import { SqliteHostPackageTables, type IdLookup } from './sqlite-host-packages.js';
import type { HashSourceRef, HashStoreStats, ImportSession, KnownHashQuery, KnownHashRow, KnownHashStore } from './known-hash-store.js';

const ALGORITHM_OF_LENGTH: Readonly<Record<number, HashAlgorithm>> = { 16: 'md5', 20: 'sha1', 32: 'sha256' };
const BATCH = 20_000;
const ELSEWHERE_LIMIT = 8;
// One query per digest returns every place it is known; a digest known at more places than this (the empty
// file's) falls back to a targeted query for the path itself.
const ALL_PLACES_LIMIT = 64;
/** How often a store that lost its Bloom filters looks for fresh ones saved by an importer. */
const BLOOM_RETRY_MS = 1000;
/**
 * How stale a Bloom filter may be: asking SQLite whether another connection committed costs ~5 µs, more than a
 * whole filtered miss, so it is asked at most this often. An import is seen by lookups within this time.
 */
const BLOOM_RECHECK_MS = 50;

/** The Bloom filters of the known and known-bad digests, and the database generation they describe. */
interface Blooms {
  readonly known: BloomFilter;
  readonly bad: BloomFilter;
  generation: number;
}

/** Options for opening the known-hash database. */
export interface KnownHashStoreOptions {
  /**
   * Keep Bloom filters of the known and known-bad digests in memory (saved beside the database as `.bloom` files
   * and rebuilt when stale), so lookups of unknown content skip the database. Worth it for long-running processes
   * that look up many hashes (the manager); a one-off check does not need it.
   */
  readonly bloom?: boolean;
}

/** The known-hash database in its own SQLite file. */
export class SqliteKnownHashStore implements KnownHashStore {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #stmts: ReturnType<typeof prepare>;
  readonly #hosts: SqliteHostPackageTables;
  /** Where a digest is decoded before the filters say whether it deserves a Buffer of its own. */
  readonly #scratch = Buffer.alloc(64);
  #wantBlooms = false;
  #blooms: Blooms | undefined;
  /** SQLite's data_version when the generation was last read: it changes when another connection commits. */
  #dataVersion = -1;
  #bloomRetryAt = 0;
  #bloomCheckedAt = 0;
  /** Modification stamp of the filter files that were last found stale, so they are not read again for nothing. */
  #staleBloomStamp = '';

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.#db = db;
    this.#stmts = prepare(db);
    this.#hosts = new SqliteHostPackageTables(db);
  }

  /** Opens (creating if needed) the database at `path`. */
  static open(path: string, options: KnownHashStoreOptions = {}): SqliteKnownHashStore {
    const store = SqliteKnownHashStore.#open(path);
    if (options.bloom === true) {
      store.#wantBlooms = true;
      store.#blooms = store.#loadBlooms();
    }
    return store;
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
    if (options.bulk === true) return this.#beginBulkImport(source);
    const s = this.#stmts;
    const sourceId = this.#upsertSource(source);
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
    const blooms = this.#bloomsToMaintain();
    const write = this.#db.transaction((batch: readonly KnownHashRow[]) => {
      for (const row of batch) {
        const info = row.bad === true ? s.insertBad.run(row.digest, sourceId, row.label ?? null) : s.insertKnown.run(row.digest, pathId(row.path), packageId(row.package), sourceId);
        inserted += info.changes;
        const d = row.declared;
        if (d !== undefined && row.bad !== true && row.path !== undefined) {
          s.putDeclared.run(pathId(row.path), packageId(row.package), sourceId, d.mode & 0o7777, d.uid ?? null, d.gid ?? null, d.owner ?? null, d.group ?? null, d.observed === true ? 1 : 0);
        }
        if (blooms !== undefined) (row.bad === true ? blooms.bad : blooms.known).add(row.digest);
      }
    });
    return {
      add: async (batch) => {
        // Digest order makes consecutive inserts land on neighbouring B-tree pages.
        const sorted = [...batch].sort((a, b) => Buffer.compare(a.digest, b.digest));
        for (let i = 0; i < sorted.length; i += BATCH) write(sorted.slice(i, i + BATCH));
        rows += batch.length;
      },
      finish: async () => {
        s.countSource.run(inserted, sourceId);
        if (inserted > 0) {
          this.#bumpGeneration(blooms);
        }
        return { rows, inserted };
      },
    };
  }

  async #beginBulkImport(source: HashSourceRef): Promise<ImportSession> {
    const sourceId = this.#upsertSource(source);
    this.#db.exec('DROP TABLE IF EXISTS temp.stage_known; DROP TABLE IF EXISTS temp.stage_bad; CREATE TEMP TABLE stage_known (digest BLOB NOT NULL); CREATE TEMP TABLE stage_bad (digest BLOB NOT NULL, label TEXT)');
    const stageKnown = this.#db.prepare('INSERT INTO temp.stage_known (digest) VALUES (?)');
    const stageBad = this.#db.prepare('INSERT INTO temp.stage_bad (digest, label) VALUES (?, ?)');
    const blooms = this.#bloomsToMaintain();
    let rows = 0;
    const write = this.#db.transaction((batch: readonly KnownHashRow[]) => {
      for (const row of batch) {
        if (row.path !== undefined || row.package !== undefined) throw new CustosError('USAGE', 'a bulk import takes hash-only rows');
        if (row.bad === true) stageBad.run(row.digest, row.label ?? null);
        else stageKnown.run(row.digest);
        if (blooms !== undefined) (row.bad === true ? blooms.bad : blooms.known).add(row.digest);
      }
    });
    return {
      add: async (batch) => {
        write(batch);
        rows += batch.length;
      },
      finish: async () => {
        const merge = this.#db.transaction(() => {
          const known = this.#db.prepare('INSERT OR IGNORE INTO known (digest, path_id, package_id, source_id) SELECT digest, 0, 0, ? FROM temp.stage_known ORDER BY digest').run(sourceId).changes;
          const bad = this.#db.prepare('INSERT OR IGNORE INTO bad (digest, source_id, label) SELECT digest, ?, label FROM temp.stage_bad ORDER BY digest').run(sourceId).changes;
          return known + bad;
        });
        const inserted = merge();
        this.#db.exec('DROP TABLE temp.stage_known; DROP TABLE temp.stage_bad');
        this.#stmts.countSource.run(inserted, sourceId);
        if (inserted > 0) {
          this.#bumpGeneration(blooms);
        }
        return { rows, inserted };
      },
    };
  }

  #upsertSource(source: HashSourceRef): number {
    const row = this.#stmts.upsertSource.get(source.kind, source.name, source.host ?? '', source.evidence === undefined ? null : JSON.stringify(source.evidence), new Date().toISOString()) as [number];
    return Number(row[0]);
  }

  async lastImport(source: HashSourceRef): Promise<Date | undefined> {
    const at = this.#stmts.sourceImportedAt.get(source.kind, source.name, source.host ?? '') as [string] | undefined;
    return at === undefined ? undefined : new Date(at[0]);
  }

  async lookup(path: Buffer, hashes: FileHashes): Promise<EvidenceSet> {
    return this.#lookupOne(path, hashes, false, this.#currentBlooms());
  }

  async lookupBad(hashes: FileHashes): Promise<readonly HashEvidence[]> {
    return this.#lookupOne(EMPTY_PATH, hashes, true, this.#currentBlooms()).bad;
  }

  async lookupMany(queries: readonly KnownHashQuery[]): Promise<readonly EvidenceSet[]> {
    // One look at the filters' freshness for the whole batch, and no promise per file.
    const blooms = this.#currentBlooms();
    return queries.map((q) => (q.deleted === true ? this.#removals(q.path) : this.#lookupOne(q.path, q.hashes, q.badOnly === true, blooms, q.usrMerged !== false)));
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
    // Rows first, then the state that says they are in: a crash in between leaves the old stamps, so the next
    // import reads those packages again (rows are idempotent).
    const session = await this.beginImport(source);
    let rows = 0;
    for (const u of change.updated) {
      await session.add(u.rows);
      rows += u.rows.length;
    }
    const { inserted } = await session.finish();
    const sourceId = this.#upsertSource(source);
    const retiredPaths = this.#hosts.applyPackages(sourceId, this.#ids(), change.updated, change.removed, change.at.toISOString());
    this.#stmts.putMeta.run(`package_database:${sourceId}`, change.databaseStamp);
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

  #lookupOne(path: Buffer, hashes: FileHashes, badOnly: boolean, blooms: Blooms | undefined, usrMerged = true): EvidenceSet {
    let atPath: HashEvidence[] | undefined;
    let elsewhere: HashEvidence[] | undefined;
    let bad: HashEvidence[] | undefined;
    for (const algorithm of DIGEST_ORDER) {
      const hex = hashes[algorithm];
      if (hex === undefined) continue;
      // Decoded into scratch space first: with the filters, most digests are answered "absent" without a
      // Buffer of their own.
      const scratch = this.#scratch.subarray(0, this.#scratch.write(hex, 'hex'));
      const maybeKnown = !badOnly && (blooms === undefined || blooms.known.has(scratch));
      const maybeBad = blooms === undefined || blooms.bad.has(scratch);
      if (!maybeKnown && !maybeBad) continue;
      const digest = Buffer.from(scratch);
      if (maybeKnown) {
        const found = this.#known(path, digest, usrMerged);
        if (found.atPath.length > 0) (atPath ??= []).push(...found.atPath);
        if (found.elsewhere.length > 0) (elsewhere ??= []).push(...found.elsewhere);
      }
      if (maybeBad) for (const row of this.#stmts.bad.all(digest) as [HashSourceKind, string, string, string | null][]) (bad ??= []).push(badEvidence(digest, row));
    }
    if (atPath === undefined && elsewhere === undefined && bad === undefined) return NO_EVIDENCE;
    return { atPath: atPath ?? [], elsewhere: (elsewhere ?? []).slice(0, ELSEWHERE_LIMIT), bad: bad ?? [] };
  }

  /**
   * Where the database places one digest: at this path (or, on a merged-/usr root, its usrmerge alias), and
   * elsewhere. Where /bin is a real directory, /bin/x and /usr/bin/x are two files: one's content says nothing of
   * the other's.
   */
  #known(path: Buffer, digest: Buffer, usrMerged: boolean): { atPath: HashEvidence[]; elsewhere: HashEvidence[] } {
    const atPath: HashEvidence[] = [];
    const elsewhere: HashEvidence[] = [];
    const rows = this.#stmts.allPlaces.all(digest) as EvidenceRow[];
    if (rows.length === 0) return { atPath, elsewhere };
    const alias = usrMerged ? usrAlias(path) : undefined;
    if (rows.length > ALL_PLACES_LIMIT) {
      // Too common to list every place: ask for this path (and its alias) directly.
      const ids = (alias === undefined ? [path] : [path, alias]).flatMap((p) => (this.#stmts.pathId.get(p) as [number] | undefined)?.[0] ?? []);
      for (const row of this.#stmts.atPath.all(digest, ids[0] ?? -1, ids[1] ?? -1) as EvidenceRow[]) atPath.push(toEvidence(digest, row));
    }
    for (const row of rows.slice(0, ALL_PLACES_LIMIT)) {
      const at = row[0];
      const here = at !== null && (at.equals(path) || (alias !== undefined && at.equals(alias)));
      if (here && rows.length <= ALL_PLACES_LIMIT) atPath.push(toEvidence(digest, row));
      else if (!here && elsewhere.length < ELSEWHERE_LIMIT) elsewhere.push(toEvidence(digest, row));
    }
    return { atPath, elsewhere };
  }

  #generation(): number {
    return Number((this.#stmts.generation.get() as [string])[0]);
  }

  /** The saved filters if they match the database, else filters built from it (and saved). */
  #loadBlooms(): Blooms {
    const saved = this.#readBlooms();
    if (saved !== undefined) return saved;
    // One read transaction: the digests and the generation they are tagged with come from the same snapshot,
    // however long the build takes and whatever another process imports meanwhile.
    const blooms = this.#db.transaction(() => ({
      generation: this.#generation(),
      known: this.#buildBloom('SELECT count(*) FROM known', 'SELECT digest FROM known'),
      bad: this.#buildBloom('SELECT count(*) FROM bad', 'SELECT digest FROM bad'),
    }))();
    this.#saveBlooms(blooms);
    return blooms;
  }

  /** The filters saved beside the database, if they were built from its current generation. */
  #readBlooms(): Blooms | undefined {
    const generation = this.#generation();
    const read = (file: string): BloomFilter | undefined => {
      try {
        return BloomFilter.deserialize(readFileSync(file), generation);
      } catch {
        return undefined;
      }
    };
    const known = read(`${this.path}.bloom`);
    const bad = read(`${this.path}.bad.bloom`);
    return known === undefined || bad === undefined ? undefined : { known, bad, generation };
  }

  /**
   * The filters to keep current during an import: the ones in memory, else the saved ones when they match the
   * database (so a long-running reader can pick them up), else none (whoever opens with `bloom` builds them).
   */
  #bloomsToMaintain(): Blooms | undefined {
    return this.#blooms ?? this.#readBlooms();
  }

  /**
   * The filters, if they still describe the database. Another process (`custos hashdb import`, the apt hook) may
   * add rows while this one runs, and a filter that has not seen them would turn a newly imported known-bad hash
   * into "unknown". So every BLOOM_RECHECK_MS SQLite's data_version says whether anyone else committed; on a new
   * generation the filters are dropped (lookups then ask the database: correct, slower) and the ones the importer
   * saved are loaded as soon as they match. Never rebuilt here: at 100 million rows that takes minutes.
   */
  #currentBlooms(): Blooms | undefined {
    if (!this.#wantBlooms) return undefined;
    const now = performance.now();
    if (now - this.#bloomCheckedAt >= BLOOM_RECHECK_MS) {
      this.#bloomCheckedAt = now;
      const version = Number(this.#stmts.dataVersion.get());
      if (version !== this.#dataVersion) {
        this.#dataVersion = version;
        if (this.#generation() !== this.#blooms?.generation) this.#blooms = undefined;
      }
    }
    if (this.#blooms === undefined && now >= this.#bloomRetryAt) {
      this.#bloomRetryAt = now + BLOOM_RETRY_MS;
      const stamp = this.#bloomFileStamp();
      if (stamp !== this.#staleBloomStamp) {
        this.#blooms = this.#readBlooms();
        if (this.#blooms === undefined) this.#staleBloomStamp = stamp;
      }
    }
    return this.#blooms;
  }

  #bloomFileStamp(): string {
    try {
      return [`${this.path}.bloom`, `${this.path}.bad.bloom`].map((f) => statSync(f)).map((st) => `${st.mtimeMs}:${st.size}`).join('/');
    } catch {
      return 'missing';
    }
  }

  #buildBloom(countSql: string, digestsSql: string): BloomFilter {
    // Room to grow: later imports add to the filter in place until it is rebuilt.
    const bloom = BloomFilter.forCapacity(Number(this.#db.prepare(countSql).pluck().get()) * 1.5 + 100_000);
    for (const digest of this.#db.prepare(digestsSql).pluck().iterate() as IterableIterator<Buffer>) bloom.add(digest);
    return bloom;
  }

  /**
   * Marks an import's rows as a new generation. The filters that took in those rows are saved as that generation
   * only if they described the one before it: when another process imported in between, they lack its rows and
   * are left stale (readers then ask the database until filters are rebuilt).
   */
  #bumpGeneration(blooms: Blooms | undefined): void {
    const before = this.#db
      .transaction(() => {
        const generation = this.#generation();
        this.#stmts.bumpGeneration.run();
        return generation;
      })
      .immediate();
    if (blooms === undefined || blooms.generation !== before) return;
    blooms.generation = before + 1;
    this.#saveBlooms(blooms);
  }

  #saveBlooms(blooms: Blooms): void {
    // Written aside and renamed: a reader never sees half a filter.
    for (const [file, bloom] of [[`${this.path}.bloom`, blooms.known], [`${this.path}.bad.bloom`, blooms.bad]] as const) {
      writeFileSync(`${file}.tmp`, bloom.serialize(blooms.generation), { mode: 0o644 });
      renameSync(`${file}.tmp`, file);
    }
  }


  async stats(): Promise<HashStoreStats> {
    const count = (sql: string): number => Number(this.#db.prepare(sql).pluck().get());
    const sources = (this.#db.prepare('SELECT kind, name, host, imported_at, rows FROM sources ORDER BY id').raw(true).all() as [string, string, string, string, number][]).map(
      ([kind, name, host, importedAt, rows]) => ({ kind, name, ...(host === '' ? {} : { host }), importedAt, rows }),
    );
    return {
      sources,
      knownRows: count('SELECT count(*) FROM known'),
      badRows: count('SELECT count(*) FROM bad'),
      paths: count('SELECT count(*) FROM paths'),
      packages: count('SELECT count(*) FROM packages'),
      debs: { verified: count("SELECT count(*) FROM debs WHERE verdict = 'verified'"), refused: count("SELECT count(*) FROM debs WHERE verdict = 'refused'") },
    };
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

type EvidenceRow = [
  Buffer | null, string | null, string | null, string | null, HashSourceKind, string, string,
  number | null, number | null, number | null, string | null, string | null, number | null,
];

function toEvidence(digest: Buffer, [path, pkg, version, arch, kind, name, host, mode, uid, gid, owner, group, observed]: EvidenceRow): HashEvidence {
  return {
    algorithm: ALGORITHM_OF_LENGTH[digest.length] as HashAlgorithm,
    ...(path === null ? {} : { path }),
    ...(pkg === null ? {} : { package: { name: pkg, version: version ?? '', arch: arch ?? '' } }),
    source: { kind, name, ...(host === '' ? {} : { host }) },
    bad: false,
    ...(mode === null ? {} : { declared: declaredOf(mode, uid, gid, owner, group, observed === 1) }),
  };
}

function declaredOf(mode: number, uid: number | null, gid: number | null, owner: string | null, group: string | null, observed: boolean): DeclaredMode {
  return {
    mode,
    ...(uid === null ? {} : { uid }),
    ...(gid === null ? {} : { gid }),
    ...(owner === null ? {} : { owner }),
    ...(group === null ? {} : { group }),
    ...(observed ? { observed } : {}),
  };
}

/** Strongest first: evidence lists put the SHA-256 answer before the weaker ones. */
const DIGEST_ORDER = ['sha256', 'sha1', 'md5'] as const;
const EMPTY_PATH = Buffer.alloc(0);

function badEvidence(digest: Buffer, [kind, name, host, label]: [HashSourceKind, string, string, string | null]): HashEvidence {
  return {
    algorithm: ALGORITHM_OF_LENGTH[digest.length] as HashAlgorithm,
    source: { kind, name, ...(host === '' ? {} : { host }) },
    bad: true,
    ...(label === null ? {} : { label }),
  };
}

function prepare(db: Database.Database) {
  // A source with installed-package state (a host's own dpkg database) knows content only of the versions
  // installed now: the rows of a removed or upgraded package stop explaining anything (a downgrade by copying an
  // old binary back alerts). Sources without such state (package archives, hash sets) are not filtered.
  const installedNow = `(NOT EXISTS (SELECT 1 FROM host_packages h WHERE h.source_id = k.source_id)
      OR EXISTS (SELECT 1 FROM host_packages h WHERE h.source_id = k.source_id AND h.package_id = k.package_id))`;
  // With the mode and owner the source declares for the path in that package, when it does (one primary-key probe).
  const evidence = `SELECT p.path, pk.name, pk.version, pk.arch, s.kind, s.name, s.host, d.mode, d.uid, d.gid, d.owner, d.grp, d.observed
      FROM known k JOIN sources s ON s.id = k.source_id LEFT JOIN paths p ON p.id = k.path_id LEFT JOIN packages pk ON pk.id = k.package_id
      LEFT JOIN declared_modes d ON d.path_id = k.path_id AND d.package_id = k.package_id AND d.source_id = k.source_id`;
  return {
    upsertSource: db
      .prepare(
        `INSERT INTO sources (kind, name, host, evidence, imported_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (kind, name, host) DO UPDATE SET evidence = excluded.evidence, imported_at = excluded.imported_at RETURNING id`,
      )
      .raw(true),
    sourceImportedAt: db.prepare('SELECT imported_at FROM sources WHERE kind = ? AND name = ? AND host = ?').raw(true),
    sourceId: db.prepare('SELECT id FROM sources WHERE kind = ? AND name = ? AND host = ?').raw(true),
    sourceById: db.prepare('SELECT kind, name, host FROM sources WHERE id = ?').raw(true),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').raw(true),
    putMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    dropKnown: db.prepare('DELETE FROM known WHERE digest = ? AND path_id = ? AND package_id = ? AND source_id = ?'),
    insertPath: db.prepare('INSERT OR IGNORE INTO paths (path) VALUES (?)'),
    pathId: db.prepare('SELECT id FROM paths WHERE path = ?').raw(true),
    insertPackage: db.prepare('INSERT OR IGNORE INTO packages (name, version, arch) VALUES (?, ?, ?)'),
    packageId: db.prepare('SELECT id FROM packages WHERE name = ? AND version = ? AND arch = ?').raw(true),
    insertKnown: db.prepare('INSERT OR IGNORE INTO known (digest, path_id, package_id, source_id) VALUES (?, ?, ?, ?)'),
    putDeclared: db.prepare('INSERT OR REPLACE INTO declared_modes (path_id, package_id, source_id, mode, uid, gid, owner, grp, observed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    insertBad: db.prepare('INSERT OR IGNORE INTO bad (digest, source_id, label) VALUES (?, ?, ?)'),
    countSource: db.prepare('UPDATE sources SET rows = rows + ? WHERE id = ?'),
    // A literal LIMIT: bound as a parameter, SQLite plans this join about six times slower (measured).
    allPlaces: db.prepare(`${evidence} WHERE k.digest = ? AND ${installedNow} LIMIT ${ALL_PLACES_LIMIT + 1}`).raw(true),
    atPath: db.prepare(`${evidence} WHERE k.digest = ? AND k.path_id IN (?, ?) AND ${installedNow}`).raw(true),
    generation: db.prepare("SELECT value FROM meta WHERE key = 'generation'").raw(true),
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
    bumpGeneration: db.prepare("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"),
    bad: db.prepare('SELECT s.kind, s.name, s.host, b.label FROM bad b JOIN sources s ON s.id = b.source_id WHERE b.digest = ?').raw(true),
  };
}
