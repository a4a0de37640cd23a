/**
 * Formats nanoseconds since the epoch as RFC 3339 UTC with all nine fraction digits, so two different mtimes never
 * print alike. Works on the decimal digits (no BigInt division: this runs for every alert and history record).
 */
export function isoFromNs(ns: bigint): string {
  if (ns < 0n) {
    const secs = ns / 1_000_000_000n - (ns % 1_000_000_000n === 0n ? 0n : 1n);
    const frac = ns - secs * 1_000_000_000n;
    return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
  }
  const digits = ns.toString().padStart(10, '0');
  const secs = Number(digits.slice(0, -9));
  // Four-digit years by arithmetic: a Date and its toISOString were most of this function's time, and it runs up
  // to four times per alert (mtime and ctime, before and after, in full_log and syscheck).
  if (secs < FIVE_DIGIT_YEARS) return `${isoSeconds(secs)}.${digits.slice(-9)}Z`;
  return `${new Date(secs * 1000).toISOString().slice(0, 19)}.${digits.slice(-9)}Z`;
}

/** 10000-01-01T00:00:00Z in seconds: from there on `toISOString` writes a sign and six year digits. */
const FIVE_DIGIT_YEARS = 253_402_300_800;

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/**
 * `new Date(secs * 1000).toISOString().slice(0, 19)` for 0 <= secs < {@link FIVE_DIGIT_YEARS}: the civil date of the
 * day (Howard Hinnant's days-to-civil algorithm, proleptic Gregorian as `Date`), then the time of day.
 */
function isoSeconds(secs: number): string {
  const days = Math.floor(secs / 86_400);
  const inDay = secs - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(inDay / 3600);
  const minutes = Math.floor((inDay - hours * 3600) / 60);
  const seconds = inDay - hours * 3600 - minutes * 60;
  return `${String(year).padStart(4, '0')}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}`;
}
