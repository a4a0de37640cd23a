const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** When scheduled scans run: every `frequencyMs`, or daily at `scanTime` (on `scanDay` only, if given). */
export interface ScanSchedule {
  readonly frequencyMs: number;
  readonly scanTime?: string;
  readonly scanDay?: string;
}

/**
 * The time of the next scheduled scan, in ms since the epoch. With `scan_time` (OSSEC's `10pm`, `22:00`) the scan
 * runs once a day at that local time, on `scan_day` only when one is given; otherwise `frequency` after the last
 * scan ended (now, when there was none).
 */
export function nextScanAt(lastScanEndMs: number | undefined, now: Date, schedule: ScanSchedule): number {
  if (schedule.scanTime === undefined) return lastScanEndMs === undefined ? now.getTime() : lastScanEndMs + schedule.frequencyMs;
  const { hours, minutes } = parseClock(schedule.scanTime);
  const day = schedule.scanDay === undefined ? undefined : DAYS.indexOf(schedule.scanDay.toLowerCase() as (typeof DAYS)[number]);
  const candidate = new Date(now);
  candidate.setHours(hours, minutes, 0, 0);
  for (let i = 0; i < 8; i++) {
    const okDay = day === undefined || day < 0 || candidate.getDay() === day;
    if (okDay && candidate.getTime() > now.getTime()) return candidate.getTime();
    candidate.setDate(candidate.getDate() + 1);
    candidate.setHours(hours, minutes, 0, 0);
  }
  return now.getTime() + 86_400_000;
}

function parseClock(text: string): { hours: number; minutes: number } {
  const m = /^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$/i.exec(text.trim());
  let hours = Number(m?.[1] ?? 0);
  const minutes = Number(m?.[2] ?? 0);
  const suffix = m?.[3]?.toLowerCase();
  if (suffix === 'pm' && hours < 12) hours += 12;
  if (suffix === 'am' && hours === 12) hours = 0;
  return { hours: Math.min(hours, 23), minutes: Math.min(minutes, 59) };
}
