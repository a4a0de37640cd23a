/**
 * Compares two Debian package versions (`[epoch:]upstream[-revision]`) as dpkg does: -1, 0 or 1. Epochs compare
 * as numbers; upstream and revision alternate non-digit runs, compared character by character with `~` before
 * everything (even the end), the end before letters and letters before other characters, and digit runs,
 * compared as numbers.
 */
export function compareDebianVersions(a: string, b: string): -1 | 0 | 1 {
  const x = split(a);
  const y = split(b);
  const d = x.epoch !== y.epoch ? x.epoch - y.epoch : compareParts(x.upstream, y.upstream) || compareParts(x.revision, y.revision);
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

function split(version: string): { epoch: number; upstream: string; revision: string } {
  const colon = version.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(version.slice(0, colon)) ? Number(version.slice(0, colon)) : 0;
  const rest = colon > 0 ? version.slice(colon + 1) : version;
  const dash = rest.lastIndexOf('-');
  return dash < 0 ? { epoch, upstream: rest, revision: '' } : { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) };
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** dpkg's weight of one character of a non-digit run; NaN (past the end) weighs 0. */
function weight(c: number): number {
  if (Number.isNaN(c) || isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 0x7e) return -1; // '~'
  return c + 256;
}

function compareParts(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const d = weight(a.charCodeAt(i)) - weight(b.charCodeAt(j));
      if (d !== 0) return d;
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 0x30) i++;
    while (b.charCodeAt(j) === 0x30) j++;
    let first = 0;
    while (isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (first === 0) first = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a.charCodeAt(i))) return 1;
    if (isDigit(b.charCodeAt(j))) return -1;
    if (first !== 0) return first;
  }
  return 0;
}
