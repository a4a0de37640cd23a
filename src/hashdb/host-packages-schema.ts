/**
 * The tables of hosts' installed-package state, in the known-hash database (see HostPackageStore). Ownership and
 * removals are keyed path first: a deletion is judged by one probe of `removed` and `owned`.
 */
export const HOST_PACKAGES_SCHEMA = `
  -- The packages a host had installed at its last import, with the stamp that tells a changed one.
  CREATE TABLE IF NOT EXISTS host_packages (
    source_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    package_id INTEGER NOT NULL,
    stamp TEXT NOT NULL,
    PRIMARY KEY (source_id, key)
  );
  CREATE INDEX IF NOT EXISTS host_packages_by_package ON host_packages (source_id, package_id);
  -- Which installed package owns which path (directories left out).
  CREATE TABLE IF NOT EXISTS owned (
    path_id INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    package_id INTEGER NOT NULL,
    PRIMARY KEY (path_id, source_id, package_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS owned_by_package ON owned (source_id, package_id);
  -- Paths whose deletion a package explains: they left with a removed or upgraded package (kind 'package'), a
  -- maintainer script's link went with its cause ('retired'), or the alternatives system says they must not
  -- exist ('expected', replaced at every derivation).
  CREATE TABLE IF NOT EXISTS removed (
    path_id INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    package_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    removed_at TEXT NOT NULL,
    PRIMARY KEY (path_id, source_id, package_id)
  ) WITHOUT ROWID;
  -- .debs hosts offered and the manager verified against the signed indexes (or refused): one upload serves all.
  CREATE TABLE IF NOT EXISTS debs (
    sha256 TEXT PRIMARY KEY,
    verdict TEXT NOT NULL,
    package TEXT NOT NULL,
    reason TEXT,
    at TEXT NOT NULL
  );
  -- The known rows the last derivation of maintainer-script side effects wrote, to retire them exactly.
  CREATE TABLE IF NOT EXISTS derived (
    source_id INTEGER NOT NULL,
    digest BLOB NOT NULL,
    path_id INTEGER NOT NULL,
    package_id INTEGER NOT NULL,
    because TEXT NOT NULL,
    PRIMARY KEY (source_id, digest, path_id, package_id)
  ) WITHOUT ROWID;
`;
