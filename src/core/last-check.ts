/** The agent_meta key under which a standalone `check`/`accept` records how its last run went. */
export const LAST_CHECK_META_KEY = 'last_check';

/** How the last standalone `check` or `accept` went, as `custos status` shows it. */
export interface LastCheck {
  /** When it finished (ISO 8601). */
  readonly at: string;
  readonly mode: 'check' | 'accept';
  /** The paths given on the command line (none: the configured directories). */
  readonly paths: readonly string[];
  readonly entries: number;
  readonly added: number;
  readonly modified: number;
  readonly deleted: number;
  readonly alerts: number;
  /** Monitored directories in which nothing could be scanned (rule 572). */
  readonly notScanned: number;
  /** Files that could not be read completely. */
  readonly issues: number;
  readonly durationMs: number;
}

/** Parses a recorded LastCheck; undefined for a missing or unreadable record (status then says "never"). */
export function parseLastCheck(text: string | undefined): LastCheck | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<LastCheck>;
    return typeof value.at === 'string' && (value.mode === 'check' || value.mode === 'accept') ? (value as LastCheck) : undefined;
  } catch {
    return undefined;
  }
}
