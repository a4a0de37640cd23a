import type Database from 'better-sqlite3';

/**
 * One query per digest returns every place it is known; a digest known at more places than this (the empty
 * file's) falls back to a targeted query for the path itself.
 */
export const ALL_PLACES_LIMIT = 64;

/** The known-hash store's prepared statements, over one connection. */
export type KnownHashStatements = ReturnType<typeof prepareKnownHashStatements>;

/** Prepares the statements the known-hash store runs (rows come back raw, as arrays). */
export function prepareKnownHashStatements(db: Database.Database) {
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
    putDeclared: db.prepare(
      'INSERT OR REPLACE INTO declared_modes (path_id, package_id, source_id, mode, uid, gid, owner, grp, observed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertBad: db.prepare('INSERT OR IGNORE INTO bad (digest, source_id, label) VALUES (?, ?, ?)'),
    countSource: db.prepare('UPDATE sources SET rows = rows + ? WHERE id = ?'),
    // A literal LIMIT: bound as a parameter, SQLite plans this join about six times slower (measured).
    allPlaces: db.prepare(`${evidence} WHERE k.digest = ? AND ${installedNow} LIMIT ${ALL_PLACES_LIMIT + 1}`).raw(true),
    atPath: db.prepare(`${evidence} WHERE k.digest = ? AND k.path_id IN (?, ?) AND ${installedNow}`).raw(true),
    generation: db.prepare("SELECT value FROM meta WHERE key = 'generation'").raw(true),
    dataVersion: db.prepare('PRAGMA data_version').pluck(),
    bumpGeneration: db.prepare("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'"),
    // An import in progress (see `ImportWindow`): one meta row per session, `import-in-progress:<token>`, naming its process.
    putImport: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    dropImport: db.prepare('DELETE FROM meta WHERE key = ? AND value = ?'),
    imports: db.prepare("SELECT key, value FROM meta WHERE key >= 'import-in-progress:' AND key < 'import-in-progress;'").raw(true),
    bad: db.prepare('SELECT s.kind, s.name, s.host, b.label FROM bad b JOIN sources s ON s.id = b.source_id WHERE b.digest = ?').raw(true),
    countKnown: db.prepare('SELECT count(*) FROM known').pluck(),
    countBad: db.prepare('SELECT count(*) FROM bad').pluck(),
    knownDigests: db.prepare('SELECT digest FROM known').pluck(),
    badDigests: db.prepare('SELECT digest FROM bad').pluck(),
  };
}
