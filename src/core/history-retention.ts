/**
 * History retention, as both engines apply it: history is kept by whole calendar months (UTC), because PostgreSQL
 * keeps it in monthly partitions and drops a month at once; SQLite deletes along the same boundary, so both
 * engines keep exactly the same records and `verify` says the same of them.
 */

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])/;

/**
 * The first instant (ISO 8601, UTC) of the month that holds `now - retentionMs`: history recorded before it is
 * past retention. Keeping the whole month means a record is kept at least `retentionMs`, at most a month more.
 */
export function retentionBoundary(now: Date, retentionMs: number): string {
  const oldest = new Date(now.getTime() - retentionMs);
  return new Date(Date.UTC(oldest.getUTCFullYear(), oldest.getUTCMonth(), 1)).toISOString();
}

/** The month (`YYYY-MM`) a record time falls in, or undefined for a time that does not start with one. */
export function monthOf(timestamp: string): string | undefined {
  const match = MONTH.exec(timestamp);
  return match === null ? undefined : `${match[1] ?? ''}-${match[2] ?? ''}`;
}

/** The month after `month` (`YYYY-MM`). */
export function nextMonth(month: string): string {
  const [year = 0, mon = 1] = month.split('-').map(Number);
  return mon === 12 ? `${String(year + 1).padStart(4, '0')}-01` : `${String(year).padStart(4, '0')}-${String(mon + 1).padStart(2, '0')}`;
}

/** True when every record of `month` lies before `boundary` (see `retentionBoundary`). */
export function monthBefore(month: string, boundary: string): boolean {
  return `${nextMonth(month)}-01` <= boundary.slice(0, 10);
}
