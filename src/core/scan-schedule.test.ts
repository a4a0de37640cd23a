import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextScanAt, parseScanDays, parseScanTime, type ScanSchedule } from './scan-schedule.js';

// scan_time is local time. Pin a zone with daylight saving time so the results do not depend on the machine and
// the DST cases below mean something. Node re-reads TZ when it is assigned; every Date below is built after this.
process.env.TZ = 'Europe/Berlin';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A local wall-clock time (month is 1-based here, unlike Date). */
const local = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date => new Date(y, mo - 1, d, h, mi, s, ms);
const at = (last: number | undefined, now: Date, schedule: ScanSchedule): Date => new Date(nextScanAt(last, now, schedule));

// 2025-01-15 is a Wednesday.
const WEDNESDAY = local(2025, 1, 15, 12, 0);

describe('nextScanAt: frequency only', () => {
  const schedule = { frequencyMs: 6 * HOUR };

  it('scans now when there was no scan yet', () => {
    assert.equal(nextScanAt(undefined, WEDNESDAY, schedule), WEDNESDAY.getTime());
  });
  it('scans `frequency` after the last scan ended', () => {
    const last = WEDNESDAY.getTime() - HOUR;
    assert.equal(nextScanAt(last, WEDNESDAY, schedule), last + 6 * HOUR);
  });
  it('returns a time in the past when a scan is overdue (the caller runs it at once)', () => {
    const last = WEDNESDAY.getTime() - 2 * DAY;
    const next = nextScanAt(last, WEDNESDAY, schedule);
    assert.equal(next, last + 6 * HOUR);
    assert.ok(next < WEDNESDAY.getTime());
  });
  it('does not depend on the wall clock, only on the last scan', () => {
    const last = local(2025, 1, 15, 23, 30).getTime();
    assert.equal(nextScanAt(last, local(2025, 1, 15, 23, 59), { frequencyMs: HOUR }), last + HOUR);
  });
});

describe('nextScanAt: scan_time only (once a day at that local time)', () => {
  const daily = (scanTime: string): ScanSchedule => ({ frequencyMs: 6 * HOUR, scanTime });

  it('runs later today when the time has not come yet', () => {
    assert.deepEqual(at(undefined, local(2025, 1, 15, 21, 59), daily('22:00')), local(2025, 1, 15, 22, 0));
  });
  it('runs tomorrow when the time has passed today', () => {
    assert.deepEqual(at(undefined, local(2025, 1, 15, 22, 1), daily('22:00')), local(2025, 1, 16, 22, 0));
  });
  it('runs tomorrow when now is exactly the scan time (the scan that just ran counts)', () => {
    assert.deepEqual(at(undefined, local(2025, 1, 15, 22, 0), daily('22:00')), local(2025, 1, 16, 22, 0));
  });
  it('ignores the frequency and a last scan within the week: startup after scan_time waits for tomorrow, as OSSEC does', () => {
    const now = local(2025, 1, 15, 23, 0);
    const expected = local(2025, 1, 16, 22, 0);
    assert.deepEqual(at(undefined, now, daily('22:00')), expected, 'never scanned');
    assert.deepEqual(at(now.getTime() - 3 * DAY, now, daily('22:00')), expected, 'last scan three days ago');
    assert.deepEqual(at(now.getTime() - 1000, now, daily('22:00')), expected, 'last scan just now');
    assert.deepEqual(at(now.getTime() - 1000, now, { frequencyMs: 60_000, scanTime: '22:00' }), expected, 'a short frequency changes nothing');
  });
  it('reads OSSEC-style times: 10pm, 10:30 pm, 22:00, 7:05, 9am, case and spaces', () => {
    const now = local(2025, 1, 15, 0, 30);
    const cases: [string, Date][] = [
      ['10pm', local(2025, 1, 15, 22, 0)],
      ['10PM', local(2025, 1, 15, 22, 0)],
      ['10:30 pm', local(2025, 1, 15, 22, 30)],
      ['22:00', local(2025, 1, 15, 22, 0)],
      ['7:05', local(2025, 1, 15, 7, 5)],
      ['9am', local(2025, 1, 15, 9, 0)],
      [' 9:15am ', local(2025, 1, 15, 9, 15)],
    ];
    for (const [text, expected] of cases) assert.deepEqual(at(undefined, now, daily(text)), expected, text);
  });
  it('reads 12am as midnight and 12pm as noon', () => {
    const now = local(2025, 1, 15, 11, 0);
    assert.deepEqual(at(undefined, now, daily('12am')), local(2025, 1, 16, 0, 0));
    assert.deepEqual(at(undefined, now, daily('12pm')), local(2025, 1, 15, 12, 0));
    assert.deepEqual(at(undefined, now, daily('12:30am')), local(2025, 1, 16, 0, 30));
  });
  it('wraps past midnight: a midnight scan time seen just before midnight is minutes away', () => {
    assert.deepEqual(at(undefined, local(2025, 1, 15, 23, 59, 30), daily('0:00')), local(2025, 1, 16, 0, 0));
    assert.deepEqual(at(undefined, local(2025, 1, 16, 0, 0, 0, 1), daily('0:00')), local(2025, 1, 17, 0, 0));
  });
  it('wraps months and years', () => {
    assert.deepEqual(at(undefined, local(2025, 1, 31, 23, 0), daily('1am')), local(2025, 2, 1, 1, 0));
    assert.deepEqual(at(undefined, local(2024, 12, 31, 23, 0), daily('22:00')), local(2025, 1, 1, 22, 0));
    assert.deepEqual(at(undefined, local(2024, 2, 28, 23, 0), daily('22:00')), local(2024, 2, 29, 22, 0), 'leap day');
  });
  it('schedules 23:59 to the next day when now is within the last minute of the day', () => {
    assert.deepEqual(at(undefined, local(2025, 1, 15, 23, 59, 59, 999), daily('11:59pm')), local(2025, 1, 16, 23, 59));
  });
});

describe('nextScanAt: scan_time across daylight saving time (Europe/Berlin)', () => {
  const daily: ScanSchedule = { frequencyMs: 6 * HOUR, scanTime: '2:30' };

  it('runs once on the spring-forward day although 02:30 does not exist (at 03:30 CEST)', () => {
    const next = at(undefined, local(2025, 3, 29, 23, 0), daily);
    assert.equal(next.toISOString(), '2025-03-30T01:30:00.000Z');
    assert.equal(next.getDate(), 30);
  });
  it('keeps 22:00 at 22:00 local on either side of a transition (not 24 h after the last one)', () => {
    const evening: ScanSchedule = { frequencyMs: 6 * HOUR, scanTime: '22:00' };
    const next = at(undefined, local(2025, 3, 29, 22, 30), evening);
    assert.deepEqual(next, local(2025, 3, 30, 22, 0));
    assert.equal(next.getTime() - local(2025, 3, 29, 22, 0).getTime(), 23 * HOUR, 'that day has 23 hours');
  });
  it('does not run twice on the fall-back day when 02:30 happens twice', () => {
    // 02:30 CEST (00:30Z) comes first; the clock then returns to 02:00 CET (01:00Z) and passes 02:30 again.
    const afterFirst = new Date('2025-10-26T00:45:00.000Z');
    const inRepeatedHour = new Date('2025-10-26T01:10:00.000Z');
    const afterSecond = new Date('2025-10-26T01:45:00.000Z');
    for (const now of [afterFirst, inRepeatedHour, afterSecond]) {
      assert.deepEqual(at(undefined, now, daily), local(2025, 10, 27, 2, 30), now.toISOString());
    }
  });
});

describe('nextScanAt: scan_time with scan_day', () => {
  const weekly = (scanDay: string, scanTime = '22:00'): ScanSchedule => ({ frequencyMs: 6 * HOUR, scanTime, scanDay });

  it('runs today when today is the day and the time is still ahead', () => {
    assert.equal(WEDNESDAY.getDay(), 3);
    assert.deepEqual(at(undefined, WEDNESDAY, weekly('wednesday')), local(2025, 1, 15, 22, 0));
  });
  it('runs a week later when today is the day but the time has passed (or is now)', () => {
    assert.deepEqual(at(undefined, local(2025, 1, 15, 22, 30), weekly('wednesday')), local(2025, 1, 22, 22, 0));
    assert.deepEqual(at(undefined, local(2025, 1, 15, 22, 0), weekly('wednesday')), local(2025, 1, 22, 22, 0));
  });
  it('runs on the next such day otherwise, whatever the time of day now', () => {
    assert.deepEqual(at(undefined, local(2025, 1, 15, 23, 0), weekly('thursday')), local(2025, 1, 16, 22, 0));
    assert.deepEqual(at(undefined, local(2025, 1, 15, 1, 0), weekly('friday')), local(2025, 1, 17, 22, 0));
    assert.deepEqual(at(undefined, WEDNESDAY, weekly('tuesday')), local(2025, 1, 21, 22, 0));
  });
  it('wraps the week: Saturday night to Sunday, Sunday to the next Saturday', () => {
    const saturdayNight = local(2025, 1, 18, 23, 59);
    assert.equal(saturdayNight.getDay(), 6);
    assert.deepEqual(at(undefined, saturdayNight, weekly('sunday', '0:00')), local(2025, 1, 19, 0, 0));
    assert.deepEqual(at(undefined, local(2025, 1, 19, 0, 0), weekly('sunday', '0:00')), local(2025, 1, 26, 0, 0));
    assert.deepEqual(at(undefined, local(2025, 1, 19, 12, 0), weekly('saturday')), local(2025, 1, 25, 22, 0));
  });
  it('wraps the year', () => {
    // 2025-12-31 is a Wednesday; the next Friday is 2026-01-02.
    assert.deepEqual(at(undefined, local(2025, 12, 31, 23, 0), weekly('friday', '6am')), local(2026, 1, 2, 6, 0));
  });
  it('reads the day name case-insensitively', () => {
    assert.deepEqual(at(undefined, WEDNESDAY, weekly('Friday')), local(2025, 1, 17, 22, 0));
    assert.deepEqual(at(undefined, WEDNESDAY, weekly('FRIDAY')), local(2025, 1, 17, 22, 0));
  });
  it('a last scan within the week changes nothing: never scanned and scanned yesterday give the same time', () => {
    const now = local(2025, 1, 15, 23, 0);
    assert.deepEqual(at(undefined, now, weekly('monday')), local(2025, 1, 20, 22, 0));
    assert.deepEqual(at(now.getTime() - DAY, now, weekly('monday')), local(2025, 1, 20, 22, 0));
  });
  it('always lands on the requested weekday, at the scan time, within a week', () => {
    const days = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
    for (let offsetHours = 0; offsetHours < 7 * 24; offsetHours += 5) {
      const now = new Date(local(2025, 1, 13, 0, 0).getTime() + offsetHours * HOUR);
      for (const [index, day] of days.entries()) {
        const next = at(undefined, now, weekly(day, '21:15'));
        assert.equal(next.getDay(), index, `${day} from ${now.toString()}`);
        assert.deepEqual([next.getHours(), next.getMinutes(), next.getSeconds()], [21, 15, 0]);
        assert.ok(next.getTime() > now.getTime() && next.getTime() <= now.getTime() + 7 * DAY);
      }
    }
  });
});

describe('nextScanAt: scan_day without scan_time (midnight on that day)', () => {
  const onDay = (scanDay: string): ScanSchedule => ({ frequencyMs: 6 * HOUR, scanDay });

  it('runs at the coming midnight that starts the day', () => {
    assert.deepEqual(at(undefined, WEDNESDAY, onDay('friday')), local(2025, 1, 17, 0, 0));
    assert.deepEqual(at(undefined, local(2025, 1, 14, 23, 59), onDay('wednesday')), local(2025, 1, 15, 0, 0), 'Tuesday night');
  });
  it('waits a week when the day has already begun (its midnight is past), not frequency', () => {
    assert.deepEqual(at(undefined, WEDNESDAY, onDay('wednesday')), local(2025, 1, 22, 0, 0));
    assert.deepEqual(at(undefined, local(2025, 1, 15, 0, 0), onDay('wednesday')), local(2025, 1, 22, 0, 0), 'exactly at midnight');
  });
  it('runs every selected day at midnight for a list', () => {
    assert.deepEqual(at(undefined, WEDNESDAY, onDay('weekdays')), local(2025, 1, 16, 0, 0));
    assert.deepEqual(at(undefined, local(2025, 1, 17, 12, 0), onDay('weekdays')), local(2025, 1, 20, 0, 0), 'Friday to Monday');
  });
  it('is midnight local time across daylight saving time', () => {
    // 2025-03-30 (a Sunday) has 23 hours in Berlin; its midnight is still 00:00 CET.
    const next = at(undefined, local(2025, 3, 29, 12, 0), onDay('sunday'));
    assert.deepEqual(next, local(2025, 3, 30, 0, 0));
    assert.equal(next.toISOString(), '2025-03-29T23:00:00.000Z');
    const after = at(undefined, local(2025, 3, 30, 0, 0), onDay('monday'));
    assert.equal(after.toISOString(), '2025-03-30T22:00:00.000Z', 'Monday 00:00 CEST, 23 hours later');
  });
});

describe('nextScanAt: scan_day lists, abbreviations and negation', () => {
  const at22 = (scanDay: string): ScanSchedule => ({ frequencyMs: 6 * HOUR, scanTime: '22:00', scanDay });
  const FRIDAY_NIGHT = local(2025, 1, 17, 23, 0);
  const SATURDAY_NIGHT = local(2025, 1, 18, 23, 0);

  it('takes three-letter names', () => {
    assert.deepEqual(at(undefined, WEDNESDAY, at22('fri')), local(2025, 1, 17, 22, 0));
    assert.deepEqual(at(undefined, WEDNESDAY, at22('Sat')), local(2025, 1, 18, 22, 0));
  });
  it('runs on the nearest day of a list', () => {
    assert.deepEqual(at(undefined, WEDNESDAY, at22('mon,thu')), local(2025, 1, 16, 22, 0));
    assert.deepEqual(at(undefined, local(2025, 1, 16, 23, 0), at22('mon,thu')), local(2025, 1, 20, 22, 0));
    assert.deepEqual(at(undefined, WEDNESDAY, at22('monday, wednesday')), local(2025, 1, 15, 22, 0), 'today is in the list');
  });
  it('reads weekdays and weekends', () => {
    assert.deepEqual(at(undefined, FRIDAY_NIGHT, at22('weekdays')), local(2025, 1, 20, 22, 0));
    assert.deepEqual(at(undefined, WEDNESDAY, at22('weekends')), local(2025, 1, 18, 22, 0));
    assert.deepEqual(at(undefined, SATURDAY_NIGHT, at22('weekends')), local(2025, 1, 19, 22, 0));
  });
  it('skips the negated days', () => {
    assert.deepEqual(at(undefined, SATURDAY_NIGHT, at22('!sunday')), local(2025, 1, 20, 22, 0));
    assert.deepEqual(at(undefined, FRIDAY_NIGHT, at22('!weekends')), local(2025, 1, 20, 22, 0));
    assert.deepEqual(at(undefined, WEDNESDAY, at22('!sunday')), local(2025, 1, 15, 22, 0));
  });
});

describe('nextScanAt: at most a week after the last scan with scan_time or scan_day', () => {
  const weekly: ScanSchedule = { frequencyMs: 6 * HOUR, scanTime: '22:00', scanDay: 'wednesday' };
  // The scan at Wednesday 2025-01-08 22:00 took five minutes.
  const lastEnd = local(2025, 1, 8, 22, 5).getTime();

  it('keeps the slot when the agent ran through the week', () => {
    assert.deepEqual(at(lastEnd, new Date(lastEnd), weekly), local(2025, 1, 15, 22, 0), 'right after the scan');
    assert.deepEqual(at(lastEnd, local(2025, 1, 15, 21, 59), weekly), local(2025, 1, 15, 22, 0), 'a minute before the slot');
  });
  it('scans now when the agent was down at its slot and a week has passed (no second week of waiting)', () => {
    const now = local(2025, 1, 15, 23, 0);
    assert.equal(nextScanAt(undefined, now, weekly), local(2025, 1, 22, 22, 0).getTime(), 'never scanned: the slot');
    assert.equal(nextScanAt(lastEnd, now, weekly), now.getTime());
    assert.equal(nextScanAt(lastEnd - 30 * DAY, now, weekly), now.getTime(), 'long overdue: now, never in the past');
  });
  it('scans a week after the last scan when that is still ahead', () => {
    // The agent restarted at 22:01, after its slot but before a full week since the scan ended at 22:05.
    assert.equal(nextScanAt(lastEnd, local(2025, 1, 15, 22, 1), weekly), lastEnd + 7 * DAY);
  });
  it('applies to scan_day alone (midnight slot)', () => {
    const mondays: ScanSchedule = { frequencyMs: 6 * HOUR, scanDay: 'monday' };
    const ended = local(2025, 1, 13, 0, 10).getTime();
    assert.deepEqual(at(ended, new Date(ended), mondays), local(2025, 1, 20, 0, 0));
    const downAtMidnight = local(2025, 1, 20, 9, 0);
    assert.equal(nextScanAt(ended, downAtMidnight, mondays), downAtMidnight.getTime());
  });
  it('applies to a daily scan_time only when the last scan is more than a week old', () => {
    const daily: ScanSchedule = { frequencyMs: 6 * HOUR, scanTime: '22:00' };
    const now = local(2025, 1, 15, 23, 0);
    assert.deepEqual(at(now.getTime() - 6 * DAY, now, daily), local(2025, 1, 16, 22, 0));
    assert.equal(nextScanAt(now.getTime() - 8 * DAY, now, daily), now.getTime());
  });
  it('is always between now and the slot', () => {
    for (const schedule of [weekly, { frequencyMs: HOUR, scanDay: 'sat,sun' }, { frequencyMs: HOUR, scanTime: '3am' }]) {
      for (let offsetHours = 0; offsetHours < 7 * 24; offsetHours += 7) {
        const now = new Date(local(2025, 1, 13, 0, 0).getTime() + offsetHours * HOUR);
        const slot = nextScanAt(undefined, now, schedule);
        for (let ago = 0; ago <= 15 * DAY; ago += 11 * HOUR) {
          const last = now.getTime() - ago;
          const next = nextScanAt(last, now, schedule);
          const label = `${JSON.stringify(schedule)} now ${now.toString()} last ${new Date(last).toString()}`;
          assert.ok(next >= now.getTime() && next <= slot, label);
          assert.equal(next, Math.min(slot, Math.max(last + 7 * DAY, now.getTime())), label);
        }
      }
    }
  });
  it('keeps the slot across the spring change, when the week has 167 hours', () => {
    const ended = local(2025, 3, 26, 22, 5).getTime();
    assert.deepEqual(at(ended, new Date(ended), weekly), local(2025, 4, 2, 22, 0));
  });
  it('keeps the slot across the autumn change, when the week has 169 hours', () => {
    const ended = local(2025, 10, 22, 22, 5).getTime();
    assert.deepEqual(at(ended, new Date(ended), weekly), local(2025, 10, 29, 22, 0));
  });
});

describe('nextScanAt: values the configuration would reject fall back to the frequency', () => {
  const last = WEDNESDAY.getTime() - HOUR;
  const cases: ScanSchedule[] = [
    { frequencyMs: 6 * HOUR, scanDay: 'funday' },
    { frequencyMs: 6 * HOUR, scanDay: 'funday', scanTime: '22:00' },
    { frequencyMs: 6 * HOUR, scanTime: '25:00' },
    { frequencyMs: 6 * HOUR, scanTime: '24pm', scanDay: 'monday' },
    { frequencyMs: 6 * HOUR, scanDay: 'mon,!mon' },
  ];
  for (const schedule of cases) {
    it(JSON.stringify(schedule), () => {
      assert.equal(nextScanAt(undefined, WEDNESDAY, schedule), WEDNESDAY.getTime());
      assert.equal(nextScanAt(last, WEDNESDAY, schedule), last + 6 * HOUR);
    });
  }
});

describe('parseScanDays', () => {
  const days = (text: string): number[] => {
    const result = parseScanDays(text);
    if (typeof result === 'string') assert.fail(`${text}: ${result}`);
    return [...result].sort((a, b) => a - b);
  };
  const NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

  it('reads full and three-letter day names, 0 = Sunday, in any case', () => {
    for (const [index, name] of NAMES.entries()) {
      assert.deepEqual(days(name), [index], name);
      assert.deepEqual(days(name.slice(0, 3)), [index], name.slice(0, 3));
      assert.deepEqual(days(name.toUpperCase()), [index], name.toUpperCase());
      assert.deepEqual(days(` ${name[0]!.toUpperCase()}${name.slice(1, 3)} `), [index], 'capitalised and padded');
    }
  });
  it('returns a set', () => {
    assert.ok(parseScanDays('monday') instanceof Set);
  });
  it('reads weekdays and weekends', () => {
    assert.deepEqual(days('weekdays'), [1, 2, 3, 4, 5]);
    assert.deepEqual(days('weekends'), [0, 6]);
    assert.deepEqual(days('WeekEnds'), [0, 6]);
  });
  it('reads comma-separated lists, with spaces, repeats and groups', () => {
    assert.deepEqual(days('mon,wed,fri'), [1, 3, 5]);
    assert.deepEqual(days('monday, Tuesday ,sun'), [0, 1, 2]);
    assert.deepEqual(days('mon,monday,mon'), [1]);
    assert.deepEqual(days('sat,weekdays'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(days('weekdays,weekends'), [0, 1, 2, 3, 4, 5, 6]);
  });
  it('reads a leading ! as every day but those listed, as OSSEC does', () => {
    assert.deepEqual(days('!sunday'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(days('!sun'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(days('! sunday'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(days('!weekends'), [1, 2, 3, 4, 5]);
    assert.deepEqual(days('!weekdays'), [0, 6]);
    assert.deepEqual(days('!sat,sun'), [1, 2, 3, 4, 5]);
  });
  it('separates days with spaces as well as commas, as OSSEC does', () => {
    assert.deepEqual(days('mon wed'), [1, 3]);
    assert.deepEqual(days('mon, wed  fri,'), [1, 3, 5]);
  });
  it('explains what is not a day, naming it', () => {
    for (const text of ['funday', 'mo', 'tues', 'weds', 'weekday', 'everyday', 'monday;tuesday', '1', 'mon,funday', '!funday', 'mon,!tue']) {
      const result = parseScanDays(text);
      if (typeof result !== 'string') assert.fail(`${text} read as days ${[...result].join(',')}`);
      const culprit = text.includes('funday') ? 'funday' : text === 'mon,!tue' ? '!tue' : text;
      assert.ok(result.includes(`"${culprit}" is not a day`), `${text}: ${result}`);
      assert.match(result, /weekdays or weekends/);
    }
  });
  it('refuses empty text and a bare !', () => {
    for (const text of ['', '  ', '!', ',', '! ,']) assert.equal(typeof parseScanDays(text), 'string', JSON.stringify(text));
  });
  it('refuses a list that selects no day', () => {
    assert.equal(parseScanDays('!weekdays,weekends'), '"!weekdays,weekends" selects no day');
  });
});

describe('parseScanTime', () => {
  it('reads 24-hour times', () => {
    const cases: [string, number, number][] = [
      ['22:00', 22, 0],
      ['0:00', 0, 0],
      ['00:00', 0, 0],
      ['7:05', 7, 5],
      ['07:05', 7, 5],
      ['23:59', 23, 59],
      ['22', 22, 0],
      [' 9:15 ', 9, 15],
    ];
    for (const [text, hours, minutes] of cases) assert.deepEqual(parseScanTime(text), { hours, minutes }, text);
  });
  it('reads am/pm times, in any case, with or without a space', () => {
    const cases: [string, number, number][] = [
      ['10pm', 22, 0],
      ['10PM', 22, 0],
      ['10:30 pm', 22, 30],
      ['9am', 9, 0],
      ['9 AM', 9, 0],
      ['1:00pm', 13, 0],
      ['11:59pm', 23, 59],
      ['12am', 0, 0],
      ['12:30am', 0, 30],
      ['12pm', 12, 0],
      ['12:30pm', 12, 30],
      // OSSEC's documentation writes `21pm`: an hour past noon with pm is that hour.
      ['21pm', 21, 0],
      ['13:00pm', 13, 0],
      ['9:30am', 9, 30],
    ];
    for (const [text, hours, minutes] of cases) assert.deepEqual(parseScanTime(text), { hours, minutes }, text);
  });
  it('refuses hours and minutes out of range', () => {
    for (const text of ['24:00', '25:00', '99', '24pm', '13am', '0am', '0pm', '00:30am', '12:60', '10:60', ':60', ':30']) {
      assert.equal(parseScanTime(text), undefined, text);
    }
  });
  it('refuses what is not a time', () => {
    for (const text of ['', 'noon', 'midnight', '10:5', '10.30', '1030', '22:00:00', '-1', '+1', '10 p.m.', '10pmx', 'pm']) {
      assert.equal(parseScanTime(text), undefined, JSON.stringify(text));
    }
  });
});
