import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { remoteContentDiffs, type ContentDiffs } from '../analysis/content-diffs.js';
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

/**
 * The manager's content diffs: agents' report_changes content, kept in `DATA/custos-content.db` (or
 * `syscheck.diff.database`), opened on first use so a fleet without report_changes never gets the file.
 */
export function managerContentDiffs(config: CustosConfig, dataDir: string): { readonly diffs: ContentDiffs; close(): void } {
  const diff = config.syscheck.diff ?? DEFAULT_DIFF_CONFIG;
  const path = diff.databasePath ?? join(dataDir, 'custos-content.db');
  let store: ContentStore | undefined;
  const open = (): ContentStore => (store ??= SqliteContentStore.open(path, diff.diskQuotaBytes));
  const lazy: ContentStore = {
    get: (agentId, path) => open().get(agentId, path),
    put: (agentId, path, sha256, text) => open().put(agentId, path, sha256, text),
    markMissing: (agentId, path, reason) => open().markMissing(agentId, path, reason),
    remove: (agentId, file) => {
      // A deletion does not create the database: with no file there is nothing to forget.
      if (store !== undefined || existsSync(path)) open().remove(agentId, file);
    },
    usage: () => open().usage(),
    close: () => store?.close(),
  };
  const redact = diff.redact.map((source) => new RegExp(source));
  return {
    diffs: remoteContentDiffs({ store: lazy, redact, sizeLimitBytes: diff.fileSizeLimitBytes, builtinNodiff: diff.builtinNodiff }),
    close: () => lazy.close(),
  };
}
