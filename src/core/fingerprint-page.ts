/**
 * A page of baseline fingerprints packed into one buffer, as a store reads them for a scan: per entry, the length of
 * its path key, the key, the length of its fingerprint (UTF-8 bytes), the fingerprint. Each length is written as the
 * UTF-8 encoding of the code point with that value (SQLite's `char()`: one byte below 128), which is how a store
 * packs a page in one query (see `PACKED_FINGERPRINTS_SQL`). Read as one buffer, a page costs no object per row; as
 * rows, each costs an array, a Buffer and a string, the largest part of an unchanged re-check's main thread.
 */
export interface FingerprintPage {
  readonly kind: 'page';
  readonly packed: Buffer;
  /** How many entries `packed` holds. */
  readonly count: number;
}

/**
 * The SQL expression that packs one row (`key` and `fingerprint` are column expressions) into a page's bytes; a
 * page is `CAST(group_concat(<this>, '' ORDER BY key) AS BLOB)` over the rows (SQLite 3.44+ for the ORDER BY of an
 * aggregate, which fixes the order; 3.43+ for `octet_length`), or the same without the ORDER BY, checked with
 * {@link inKeyOrder}. `||` and `group_concat` copy bytes as they are, NULs and bytes that are not UTF-8 included.
 */
export function packedFingerprintSql(key: string, fingerprint: string): string {
  return `char(length(${key})) || ${key} || char(octet_length(${fingerprint})) || ${fingerprint}`;
}

/** Packs entries the way the SQL does (for stores that read rows one by one, and for tests). */
export function packFingerprints(entries: readonly { readonly key: Buffer; readonly fingerprint: string }[]): FingerprintPage {
  const parts: Buffer[] = [];
  for (const { key, fingerprint } of entries) {
    const fp = Buffer.from(fingerprint, 'utf8');
    parts.push(Buffer.from(String.fromCodePoint(key.length), 'utf8'), key, Buffer.from(String.fromCodePoint(fp.length), 'utf8'), fp);
  }
  return { kind: 'page', packed: Buffer.concat(parts), count: entries.length };
}

/**
 * Reads the length written at `at` (a code point in UTF-8, as SQLite's `char()` writes it) into `out[0]` and returns
 * where the bytes after it start; -1 when the bytes there are not such a length (a page that does not parse).
 */
export function readPackedLength(packed: Buffer, at: number, out: number[]): number {
  const b0 = packed[at];
  if (b0 === undefined) return -1;
  if (b0 < 0x80) {
    out[0] = b0;
    return at + 1;
  }
  const extra = b0 >= 0xf0 ? 3 : b0 >= 0xe0 ? 2 : b0 >= 0xc0 ? 1 : -1;
  if (extra < 0 || at + extra >= packed.length) return -1;
  let value = b0 & (0x3f >> extra);
  for (let i = 1; i <= extra; i++) {
    const b = packed[at + i] as number;
    if ((b & 0xc0) !== 0x80) return -1;
    value = (value << 6) | (b & 0x3f);
  }
  out[0] = value;
  return at + extra + 1;
}

/**
 * True when the page parses and its keys are in strictly increasing order. What a store checks of a page SQLite
 * packed without an ORDER BY in the aggregate (cheaper by a sort: ~40% of the query on 200,000 rows), whose order
 * SQLite does not promise; a page that fails is read again with the ORDER BY.
 */
export function inKeyOrder(page: FingerprintPage): boolean {
  const { packed } = page;
  const length = [0];
  let at = 0;
  let previousStart = -1;
  let previousEnd = -1;
  for (let i = 0; i < page.count; i++) {
    at = readPackedLength(packed, at, length);
    if (at < 0) return false;
    const keyStart = at;
    const keyEnd = (at += length[0] as number);
    if (previousStart >= 0 && packed.compare(packed, previousStart, previousEnd, keyStart, keyEnd) <= 0) return false;
    previousStart = keyStart;
    previousEnd = keyEnd;
    at = readPackedLength(packed, at, length);
    if (at < 0) return false;
    at += length[0] as number;
    if (at > packed.length) return false;
  }
  return at === packed.length;
}
