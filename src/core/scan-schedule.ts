const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
const WEEK_MS = 7 * 86_400_000;

/** When scheduled scans run: every `frequencyMs`, or at `scanTime` and/or on `scanDay` (OSSEC's options). */
export interface ScanSchedule {
  readonly frequencyMs: number;
  readonly scanTime?: string;
  readonly scanDay?: string;
}

/**
 * OSSEC's `scan_day` (its `OS_IsValidDay`): day names (`monday` or `mon`), `weekdays`, `weekends`, separated by
 * commas or spaces, and a leading `!` that negates the whole list (`!sat,sun`: Monday to Friday). Returns the
 * days (0 = Sunday), or why the text is not one.
 */
export function parseScanDays(text: string): ReadonlySet<number> | string {
  const trimmed = text.trim().toLowerCase();
  const negated = trimmed.startsWith('!');
  const items = (negated ? trimmed.slice(1) : trimmed).split(/[\s,]+/).filter((item) => item !== '');
  if (items.length === 0) return `"${text}" names no day`;
  const chosen = new Set<number>();
  for (const item of items) {
    if (item === 'weekdays') [1, 2, 3, 4, 5].forEach((d) => chosen.add(d));
    else if (item === 'weekends') [0, 6].forEach((d) => chosen.add(d));
    else {
      const index = DAY_NAMES.findIndex((day) => day === item || (item.length === 3 && day.startsWith(item)));
      if (index < 0) return `"${item}" is not a day (expected monday..sunday, mon..sun, weekdays or weekends; ! in front negates the list)`;
      chosen.add(index);
    }
  }
  const days = negated ? new Set([0, 1, 2, 3, 4, 5, 6].filter((d) => !chosen.has(d))) : chosen;
  return days.size === 0 ? `"${text}" selects no day` : days;
}

/**
 * OSSEC's `scan_time`: `22:00`, `10pm`, `10:30 pm`, `9:30am`, and `21pm` as OSSEC's documentation writes it (an
 * hour past noon with `pm` is read as that hour, not refused). Returns hours and minutes, or undefined.
 */
export function parseScanTime(text: string): { readonly hours: number; readonly minutes: number } | undefined {
  const m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/i.exec(text.trim());
  if (m === null) return undefined;
  let hours = Number(m[1]);
  const minutes = Number(m[2] ?? 0);
  const suffix = m[3]?.toLowerCase();
  if (minutes > 59) return undefined;
  if (suffix === undefined) return hours <= 23 ? { hours, minutes } : undefined;
  if (suffix === 'pm' && hours > 12 && hours <= 23) return { hours, minutes };
  if (hours < 1 || hours > 12) return undefined;
  if (suffix === 'pm' && hours < 12) hours += 12;
  if (suffix === 'am' && hours === 12) hours = 0;
  return { hours, minutes };
}

/**
 * The time of the next scheduled scan, in ms since the epoch, as OSSEC's syscheckd schedules it. Without
 * `scan_time` and `scan_day`: `frequency` after the last scan ended (now, when there was none). With them: the
 * next local `scan_time` (midnight when only `scan_day` is given) on a `scan_day` (any day when none is given),
 * and, as OSSEC forces frequency to a week in this mode, no later than a week after the last scan — so an agent
 * that was down at its slot does not wait a second week. Values are validated by the configuration; an invalid
 * one here falls back to the frequency.
 */
export function nextScanAt(lastScanEndMs: number | undefined, now: Date, schedule: ScanSchedule): number {
  const byFrequency = lastScanEndMs === undefined ? now.getTime() : lastScanEndMs + schedule.frequencyMs;
  if (schedule.scanTime === undefined && schedule.scanDay === undefined) return byFrequency;
  const clock = schedule.scanTime === undefined ? { hours: 0, minutes: 0 } : parseScanTime(schedule.scanTime);
  const days = schedule.scanDay === undefined ? undefined : parseScanDays(schedule.scanDay);
  if (clock === undefined || typeof days === 'string') return byFrequency;
  const candidate = new Date(now);
  let slot = now.getTime() + WEEK_MS;
  for (let i = 0; i < 8; i++) {
    candidate.setHours(clock.hours, clock.minutes, 0, 0);
    if ((days === undefined || days.has(candidate.getDay())) && candidate.getTime() > now.getTime()) {
      slot = candidate.getTime();
      break;
    }
    candidate.setDate(candidate.getDate() + 1);
  }
  if (lastScanEndMs === undefined) return slot;
  // A calendar week, in local time: the week the clocks go back has 169 hours.
  const floor = new Date(lastScanEndMs);
  floor.setDate(floor.getDate() + 7);
  return Math.min(slot, Math.max(floor.getTime(), now.getTime()));
}
