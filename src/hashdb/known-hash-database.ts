import type { SqliteDatabaseKind } from '../platform/open-sqlite.js';
import { claimApplicationId, KNOWN_HASHES_APPLICATION_ID } from '../storage/sqlite/application-id.js';
import { HOST_PACKAGES_SCHEMA } from './host-packages-schema.js';

/**
 * Version 1: the schema as it was before versioned migrations, every statement `IF NOT EXISTS` / `OR IGNORE`, so a
 * database created by an older Custos (user_version 0, these tables already there) is adopted as it is.
 */
const SCHEMA_V1 = `
  CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    host TEXT NOT NULL DEFAULT '',          -- '' = global; else the only host these rows apply to
    evidence TEXT,                           -- JSON: how the source was verified
    imported_at TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0,
    UNIQUE (kind, name, host)
  );
  CREATE TABLE IF NOT EXISTS packages (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL, version TEXT NOT NULL, arch TEXT NOT NULL,
    UNIQUE (name, version, arch)
  );
  -- Canonical absolute paths as exact bytes; id 0 is "no path" (hash-only sources).
  CREATE TABLE IF NOT EXISTS paths (id INTEGER PRIMARY KEY, path BLOB NOT NULL UNIQUE);
  -- One row per digest (16 bytes MD5, 20 SHA-1, 32 SHA-256), keyed digest-first: lookups by hash, and by hash
  -- and path, are both one index probe.
  CREATE TABLE IF NOT EXISTS known (
    digest BLOB NOT NULL,
    path_id INTEGER NOT NULL,
    package_id INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    PRIMARY KEY (digest, path_id, package_id, source_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS bad (
    digest BLOB NOT NULL,
    source_id INTEGER NOT NULL,
    label TEXT,
    PRIMARY KEY (digest, source_id)
  ) WITHOUT ROWID;
  -- generation: bumped by every import, so a saved Bloom filter knows whether it is stale.
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  INSERT OR IGNORE INTO meta (key, value) VALUES ('generation', '0');
  -- OSSEC's md5 allowlist table, as a view: tools that query files(md5sum, file, time) keep working.
  CREATE VIEW IF NOT EXISTS files (md5sum, file, time) AS
    SELECT lower(hex(k.digest)), CAST(p.path AS TEXT), s.imported_at
      FROM known k JOIN sources s ON s.id = k.source_id LEFT JOIN paths p ON p.id = k.path_id
     WHERE length(k.digest) = 16;
`;

/**
 * Version 2: the mode and owner each source declares for a path in a package (a .deb's tar header, an rpm header,
 * or for a host's dpkg database what the file had when its MD5 matched at import). One row per path, package and
 * source, not per digest: the lookup joins it on the known row's key, one primary-key probe per match.
 */
const DECLARED_MODES_V2 = `
  CREATE TABLE declared_modes (
    path_id INTEGER NOT NULL,
    package_id INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    mode INTEGER NOT NULL,                   -- permission bits with setuid/setgid/sticky (& 07777)
    uid INTEGER, gid INTEGER,
    owner TEXT, grp TEXT,
    observed INTEGER NOT NULL DEFAULT 0,     -- 1: seen on the host at import, not read from the package
    PRIMARY KEY (path_id, package_id, source_id)
  ) WITHOUT ROWID;
`;

/**
 * The known-hash database (`hashdb.sqlite`): how it is opened and its schema as versioned migrations (see
 * `openSqlite`). Readable by all (0644): it holds published package hashes, nothing secret.
 */
export const KNOWN_HASH_DATABASE: SqliteDatabaseKind = {
  name: 'the known-hash database',
  fileMode: 0o644,
  pragmas: ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000', 'cache_size = -262144'],
  claim: (db, path) => claimApplicationId(db, path, KNOWN_HASHES_APPLICATION_ID),
  // Never edit a migration that has shipped: append a new one.
  migrations: [SCHEMA_V1 + HOST_PACKAGES_SCHEMA, DECLARED_MODES_V2],
};
