// Apart from database-integrity.ts, which loads the SQLite driver: the CLI's error handler (src/cli/main.ts) asks
// this of every error, and `custos --version` or `init` should not load better-sqlite3 to do it.

/** True for SQLite's errors that mean the file itself is damaged or is not a database. */
export function isCorruptionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}
