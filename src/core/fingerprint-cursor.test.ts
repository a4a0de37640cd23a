import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inKeyOrder, packFingerprints, type FingerprintPage } from './fingerprint-page.js';
import { FingerprintCursor, type CachedFingerprint, type FingerprintChunk } from './fingerprint-cursor.js';

/** Keys of every length class a packed length has (1, 2 and 3 bytes), with NULs and bytes that are not UTF-8. */
const entries: CachedFingerprint[] = [
  { key: Buffer.alloc(0), fingerprint: 'directory|4096|1|1|2|3|root|root|' },
  { key: Buffer.from([0, 0x61]), fingerprint: 'file|1|1|1|2|3|root|root|msS' },
  { key: Buffer.from([0, 0x61, 0, 0xff, 0xfe, 0x0a]), fingerprint: 'file|1|1|1|2|3|jürgen|grüppe|msSa' },
  { key: Buffer.concat([Buffer.from([0, 0x62]), Buffer.alloc(200, 0x78)]), fingerprint: '' },
  { key: Buffer.concat([Buffer.from([0, 0x63]), Buffer.alloc(4000, 0x79)]), fingerprint: 'x'.repeat(130) },
].sort((a, b) => Buffer.compare(a.key, b.key));

async function* chunks(list: readonly FingerprintChunk[]): AsyncGenerator<FingerprintChunk> {
  yield* list;
}

/** Everything a cursor shows, entry by entry, compared against each key of `probes`. */
async function readAll(cursor: FingerprintCursor, probes: readonly Buffer[]): Promise<unknown[]> {
  const out: unknown[] = [];
  while (cursor.has() || (await cursor.fill())) {
    const entry = cursor.entry();
    out.push({
      key: [...entry.key],
      fingerprint: entry.fingerprint,
      is: cursor.fingerprintIs(entry.fingerprint),
      isNot: cursor.fingerprintIs(`${entry.fingerprint}x`),
      order: probes.map((p) => Math.sign(cursor.compareKey(p))),
    });
    cursor.advance();
  }
  return out;
}

describe('FingerprintCursor', () => {
  const probes = [...entries.map((e) => e.key), Buffer.from([0, 0x61, 0]), Buffer.from([0xff])];

  it('reads packed pages exactly as the entries they were packed from, over page boundaries', async () => {
    const pages: FingerprintPage[] = [packFingerprints(entries.slice(0, 2)), packFingerprints(entries.slice(2, 3)), packFingerprints(entries.slice(3))];
    const fromPages = await readAll(new FingerprintCursor(chunks(pages)), probes);
    const fromList = await readAll(new FingerprintCursor(chunks([entries.slice(0, 3), [], entries.slice(3)])), probes);
    assert.equal(fromPages.length, entries.length);
    assert.deepEqual(fromPages, fromList);
    assert.deepEqual(
      fromPages.map((e) => (e as { fingerprint: string }).fingerprint),
      entries.map((e) => e.fingerprint),
    );
  });

  it('refuses a page that does not parse instead of misreading it', async () => {
    const page = packFingerprints(entries);
    const cut: FingerprintPage = { kind: 'page', packed: page.packed.subarray(0, page.packed.length - 3), count: page.count };
    await assert.rejects(readAll(new FingerprintCursor(chunks([cut])), []), /does not parse/);
    const extra: FingerprintPage = { kind: 'page', packed: Buffer.concat([page.packed, Buffer.from([1, 0x61])]), count: page.count };
    await assert.rejects(readAll(new FingerprintCursor(chunks([extra])), []), /does not parse/);
  });

  it('tells a page in strictly increasing key order from one that is not, or does not parse', () => {
    assert.equal(inKeyOrder(packFingerprints(entries)), true);
    assert.equal(inKeyOrder(packFingerprints([])), true);
    assert.equal(inKeyOrder(packFingerprints([...entries].reverse())), false);
    assert.equal(inKeyOrder(packFingerprints([entries[1] as CachedFingerprint, entries[1] as CachedFingerprint])), false, 'a key twice');
    const swapped = [entries[0], entries[2], entries[1], entries[3]] as CachedFingerprint[];
    assert.equal(inKeyOrder(packFingerprints(swapped)), false);
    const page = packFingerprints(entries);
    assert.equal(inKeyOrder({ ...page, packed: page.packed.subarray(0, page.packed.length - 1) }), false);
    assert.equal(inKeyOrder({ ...page, count: page.count - 1 }), false, 'bytes left over');
  });
});
