/**
 * Where a window that starts at `since` (ISO 8601) meets the summary tables' whole hours and days: the records of
 * [since, hourEnd) are counted from the alert and history tables themselves (at most an hour of them), whole hours
 * from the hour summaries, whole days from the day summaries, so each answer is exact yet reads only summary rows.
 */
export function windowEdges(since: string): { readonly since: string; readonly hourEnd: string; readonly dayEnd: string } {
  const ms = Date.parse(since);
  const hour = 3_600_000;
  const day = 24 * hour;
  const hourEnd = Math.ceil(ms / hour) * hour;
  const dayEnd = Math.ceil(ms / day) * day;
  return { since: new Date(ms).toISOString(), hourEnd: new Date(hourEnd).toISOString(), dayEnd: new Date(dayEnd).toISOString() };
}

/** How far back (by the manager's clock) a window's first whole hour may be and still be in the hour summaries of history records per path, which keep two days. */
export const PATH_HOURS_KEPT_MS = 47 * 3_600_000;
