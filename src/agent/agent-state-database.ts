import type { SqliteDatabaseKind } from '../platform/open-sqlite.js';

/** SQLite `application_id` of a Custos agent state database (agent.db): "CSTA". */
export const AGENT_STATE_APPLICATION_ID = 0x43535441;

/**
 * The agent's state database (`DATA/agent.db`): how it is opened and its schema as versioned migrations (see
 * `openSqlite`). Owner-only: its outbox holds the host's file states until the manager has them.
 */
export const AGENT_STATE_DATABASE: SqliteDatabaseKind = {
  name: 'the agent state database',
  fileMode: 0o600,
  // secure_delete: the outbox carries report_changes content until the manager has it; a delivered batch's pages
  // are zeroed, so the agent keeps no copy of earlier versions in its free pages.
  pragmas: ['journal_mode = WAL', 'synchronous = NORMAL', 'secure_delete = ON'],
  claim: (db, path) => {
    const current = Number(db.pragma('application_id', { simple: true }));
    // 0: new, or created before application ids (adopted by migration 1).
    if (current === 0) db.pragma(`application_id = ${AGENT_STATE_APPLICATION_ID}`);
    else if (current !== AGENT_STATE_APPLICATION_ID) throw new Error(`${path} is not a Custos agent state database (SQLite application_id ${current})`);
  },
  // Never edit a migration that has shipped: append a new one. Version 1 is the schema from before versioned
  // migrations, IF NOT EXISTS, so an older agent's database is adopted as it is.
  migrations: [
    `
    CREATE TABLE IF NOT EXISTS cache (key BLOB PRIMARY KEY, fingerprint TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  ],
};
