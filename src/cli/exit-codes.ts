/** Exit statuses every command keeps (ARCHITECTURE §3.1). */
export const EXIT = {
  OK: 0,
  ALERTS: 1,
  USAGE: 2,
  FAILURE: 3,
} as const;

/** What a command's action reports back to `main`. */
export interface CommandResult {
  exitCode: number;
}
