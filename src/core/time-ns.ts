/**
 * Formats nanoseconds since the epoch as RFC 3339 UTC with all nine fraction digits, so two different mtimes never
 * print alike.
 */
export function isoFromNs(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  let whole = secs;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    whole -= 1n;
  }
  const base = new Date(Number(whole) * 1000).toISOString().slice(0, 19);
  return `${base}.${frac.toString().padStart(9, '0')}Z`;
}
