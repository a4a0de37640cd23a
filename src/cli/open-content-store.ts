import { DEFAULT_DIFF_CONFIG, type CustosConfig } from '../core/config/custos-config.js';
import type { ContentStore } from '../storage/content-store.js';
import { SqliteContentStore } from '../storage/sqlite/sqlite-content-store.js';

/**
 * Where the content copies of report_changes files live: `syscheck.diff.database`, or beside the baseline
 * (`custos.db` -> `custos-content.db`), in a database of their own so their size and permissions stay apart.
 */
export function contentDatabasePath(config: CustosConfig): string {
  const named = config.syscheck.diff?.databasePath;
  if (named !== undefined) return named;
  const base = config.storage.engine === 'sqlite' ? config.storage.path : `${config.alerts.jsonPath}.db`;
  return `${base.replace(/\.(db|sqlite3?)$/, '')}-content.db`;
}

/** Opens the content database, or nothing when no directory reports changes (then no content is ever read). */
export function openContentStore(config: CustosConfig): ContentStore | undefined {
  if (!config.syscheck.directories.some((d) => d.reportChanges)) return undefined;
  return SqliteContentStore.open(contentDatabasePath(config), (config.syscheck.diff ?? DEFAULT_DIFF_CONFIG).diskQuotaBytes);
}
