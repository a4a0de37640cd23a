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
  const secs = digits.slice(0, -9);
  return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${digits.slice(-9)}Z`;
}
