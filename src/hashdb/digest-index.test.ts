import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import type { FileHashes } from '../core/file-state.js';
import { DigestIndexCorrupt, DigestIndexFile, writeDigestIndex, type IndexedRow } from './digest-index-file.js';
import type { KnownHashQuery } from './known-hash-store.js';
import { SqliteKnownHashStore } from './sqlite-known-hash-store.js';

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const md5 = (s: string): Buffer => createHash('md5').update(s).digest();
const pkg = { name: 'coreutils', version: '9.1-1', arch: 'amd64' };
const hexOf = (digest: Buffer): FileHashes => ({ [digest.length === 16 ? 'md5' : digest.length === 20 ? 'sha1' : 'sha256']: digest.toString('hex') });
const query = (digest: Buffer, path = '/usr/bin/x'): KnownHashQuery => ({ path: Buffer.from(path), hashes: hexOf(digest) });

/** A digest that shares its first 31 bytes (its bucket, whatever the bucket bits) with `d`. */
const neighbour = (d: Buffer): Buffer => {
  const n = Buffer.from(d);
  n[n.length - 1] = (n[n.length - 1] as number) ^ 0xff;
  return n;
};

/** The answers of the database alone (no filters, no index), the reference every indexed answer must equal. */
async function reference(file: string, queries: readonly KnownHashQuery[]): Promise<unknown> {
  const plain = SqliteKnownHashStore.open(file, { bloom: false, digestIndex: false });
  try {
    return await plain.lookupMany(queries);
  } finally {
    await plain.close();
  }
}

/**
 * A database with what the index must tell apart: hash-only rows of two sources (some digests in both, SHA-256,
 * SHA-1 and MD5, one MD5 equal to a SHA-256's first 16 bytes), rows with a path and a package, a digest hash-only
 * in 70 sources (past the 64-place limit), and a host's dpkg source with installed-package state whose
 * package-less rows explain nothing.
 */
async function fill(file: string): Promise<Buffer[]> {
  const store = SqliteKnownHashStore.open(file);
  const nsrl = await store.beginImport({ kind: 'nsrl', name: 'NSRL' }, { bulk: true });
  const hashOnly = Array.from({ length: 3000 }, (_, i) => sha(`nsrl ${i}`));
  const sha1s = Array.from({ length: 50 }, (_, i) => createHash('sha1').update(`sha1 ${i}`).digest());
  const prefix = hashOnly[0]?.subarray(0, 16) as Buffer;
  await nsrl.add([...hashOnly, ...sha1s, prefix].map((digest) => ({ digest })));
  await nsrl.finish();
  const other = await store.beginImport({ kind: 'manual', name: 'local set' });
  await other.add(hashOnly.slice(0, 100).map((digest) => ({ digest })));
  await other.finish();
  const placed = await store.beginImport({ kind: 'deb-verified', name: 'Debian bookworm' });
  await placed.add([
    { digest: sha('ls'), path: Buffer.from('/bin/ls'), package: pkg },
    { digest: hashOnly[5] as Buffer, path: Buffer.from('/usr/bin/five'), package: pkg },
  ]);
  await placed.finish();
  for (let s = 0; s < 70; s++) {
    const many = await store.beginImport({ kind: 'manual', name: `set ${s}` });
    await many.add([{ digest: sha('') }]);
    await many.finish();
  }
  const host = { kind: 'dpkg-local' as const, name: 'dpkg', host: 'srv1' };
  await store.applyPackageState(host, {
    updated: [
      {
        installed: { key: 'coreutils', package: pkg, stamp: '1' },
        rows: [{ digest: sha('cat'), path: Buffer.from('/usr/bin/cat'), package: pkg }],
        owns: [Buffer.from('/usr/bin/cat')],
        counts: { md5sums: 1, conffiles: 0, symlinks: 0, malformed: 0 },
      },
    ],
    removed: [],
    at: new Date(),
    databaseStamp: 'stamp',
  });
  const hostRows = await store.beginImport(host);
  await hostRows.add([{ digest: sha('host hash only') }, { digest: hashOnly[7] as Buffer }]);
  await hostRows.finish();
  await store.close();
  return [...hashOnly, ...sha1s, prefix, sha('ls'), sha(''), sha('cat'), sha('host hash only')];
}

describe('digest index', () => {
  const dir = tempDir();

  it('answers hits, misses and bucket neighbours exactly as the database does', async () => {
    const file = join(dir, 'a.sqlite');
    const known = await fill(file);
    const queries = [
      ...known.map((d) => query(d)),
      query(sha('ls'), '/usr/bin/ls'),
      ...known.slice(0, 500).map((d) => query(neighbour(d))),
      ...Array.from({ length: 500 }, (_, i) => query(sha(`absent ${i}`))),
      { path: Buffer.from('/x'), hashes: { sha256: (known[0] as Buffer).toString('hex'), md5: (known[0] as Buffer).subarray(0, 16).toString('hex') } },
    ];
    const expected = await reference(file, queries);
    for (const options of [{ digestIndex: true }, { bloom: true }, { bloom: true, digestIndex: false }]) {
      const store = SqliteKnownHashStore.open(file, options);
      assert.deepEqual(await store.lookupMany(queries), expected, JSON.stringify(options));
      await store.close();
    }
    assert.ok(existsSync(`${file}.digests`), 'the index was saved beside the database');
    const found = (expected as { elsewhere: unknown[] }[]).slice(0, known.length).filter((e) => e.elsewhere.length > 0).length;
    assert.ok(found > 3000, `the reference itself finds the hash-only rows (${found})`);
  });

  it('answers hash-only hits from the index itself, not from SQLite', async () => {
    // White-box: rows deleted behind the store's back (no generation bump) are still answered by a current index.
    const file = join(dir, 'b.sqlite');
    const known = await fill(file);
    await SqliteKnownHashStore.open(file, { digestIndex: true }).close();
    const before = await reference(file, [query(known[1] as Buffer)]);
    const db = new Database(file);
    db.prepare('DELETE FROM known WHERE digest = ?').run(known[1]);
    db.close();
    const store = SqliteKnownHashStore.open(file, { digestIndex: true });
    assert.deepEqual(await store.lookupMany([query(known[1] as Buffer)]), before);
    await store.close();
  });

  it('takes in a second import: row imports in the log, bulk imports by a rebuild; a long-running reader sees both', async () => {
    const file = join(dir, 'c.sqlite');
    await fill(file);
    const reader = SqliteKnownHashStore.open(file, { bloom: true });
    const added = Array.from({ length: 200 }, (_, i) => sha(`second ${i}`));
    const writer = SqliteKnownHashStore.open(file);
    const rows = await writer.beginImport({ kind: 'manual', name: 'second' });
    await rows.add(added.slice(0, 100).map((digest) => ({ digest })));
    await rows.finish();
    assert.ok(statSync(`${file}.digests.log`).size > 100 * 44, 'the importer appended its rows to the log');
    const baseStamp = statSync(`${file}.digests`).mtimeMs;
    const bulk = await writer.beginImport({ kind: 'nsrl', name: 'NSRL 2' }, { bulk: true });
    await bulk.add(added.slice(100).map((digest) => ({ digest })));
    await bulk.finish();
    assert.ok(
      statSync(`${file}.digests`).mtimeMs > baseStamp && statSync(`${file}.digests.log`).size === 32,
      'the bulk import rebuilt the index (the log restarted)',
    );
    const third = await writer.beginImport({ kind: 'manual', name: 'third' });
    await third.add([{ digest: sha('third') }]);
    await third.finish();
    await writer.close();
    const queries = [...added, sha('third'), sha('not imported')].map((d) => query(d));
    const expected = await reference(file, queries);
    assert.equal((expected as { elsewhere: unknown[] }[]).filter((e) => e.elsewhere.length > 0).length, 201);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // past the recheck and retry delays
    assert.deepEqual(await reader.lookupMany(queries), expected, 'the long-running reader');
    await reader.close();
    const fresh = SqliteKnownHashStore.open(file, { digestIndex: true });
    assert.deepEqual(await fresh.lookupMany(queries), expected, 'a new reader, from the saved index and log');
    // And its own imports, in memory at once.
    const own = await fresh.beginImport({ kind: 'manual', name: 'own' });
    await own.add([{ digest: sha('own') }]);
    await own.finish();
    assert.equal((await fresh.lookup(Buffer.from('/x'), hexOf(sha('own')))).elsewhere.length, 1);
    await fresh.close();
  });

  it('a damaged record is never believed: the lookup asks the database and the index is dropped', async () => {
    const file = join(dir, 'd.sqlite');
    const known = await fill(file);
    const store = SqliteKnownHashStore.open(file, { digestIndex: true });
    const target = known[42] as Buffer;
    const expected = await reference(file, [query(target), query(neighbour(target))]);
    const bytes = readFileSync(`${file}.digests`);
    const at = bytes.indexOf(target);
    assert.ok(at > 0);
    // The record's digest damaged into its neighbour's: without the checksum the index would say "unknown".
    bytes[at + target.length - 1] = (bytes[at + target.length - 1] as number) ^ 0xff;
    writeFileSync(`${file}.digests`, bytes);
    assert.deepEqual(await store.lookupMany([query(target), query(neighbour(target))]), expected);
    assert.ok(!existsSync(`${file}.digests`), 'the damaged file was removed');
    assert.deepEqual(await store.lookupMany([query(target)]), (expected as unknown[]).slice(0, 1));
    await store.close();
  });

  it('a torn or garbled log is never believed: a reader rebuilds, and answers as the database does', async () => {
    const file = join(dir, 'log.sqlite');
    await fill(file);
    await SqliteKnownHashStore.open(file, { digestIndex: true }).close();
    const writer = SqliteKnownHashStore.open(file);
    const session = await writer.beginImport({ kind: 'manual', name: 'logged' });
    await session.add([{ digest: sha('logged 1') }, { digest: sha('logged 2') }]);
    await session.finish();
    await writer.close();
    const queries = [sha('logged 1'), sha('logged 2'), sha('never')].map((d) => query(d));
    const expected = await reference(file, queries);
    const log = `${file}.digests.log`;
    const whole = readFileSync(log);
    truncateSync(log, whole.length - 2);
    const baseStamp = statSync(`${file}.digests`).mtimeMs;
    const torn = SqliteKnownHashStore.open(file, { digestIndex: true });
    assert.ok(statSync(`${file}.digests`).mtimeMs > baseStamp, 'the torn log left the index stale: rebuilt');
    assert.deepEqual(await torn.lookupMany(queries), expected);
    await torn.close();
    // Another import logged, then a byte of its row flipped: the log is removed, never read, and the index rebuilt.
    const again = SqliteKnownHashStore.open(file);
    const next = await again.beginImport({ kind: 'manual', name: 'logged again' });
    await next.add([{ digest: sha('logged 3') }]);
    await next.finish();
    await again.close();
    queries.push(query(sha('logged 3')));
    const expectedAgain = await reference(file, queries);
    const garbled = readFileSync(log);
    const at = garbled.indexOf(sha('logged 3'));
    assert.ok(at > 0);
    garbled[at] = (garbled[at] as number) ^ 1;
    writeFileSync(log, garbled);
    const rebuiltAt = statSync(`${file}.digests`).mtimeMs;
    const reader = SqliteKnownHashStore.open(file, { digestIndex: true });
    assert.ok(statSync(`${file}.digests`).mtimeMs > rebuiltAt && statSync(log).size === 32, 'rebuilt, and the log started afresh');
    assert.deepEqual(await reader.lookupMany(queries), expectedAgain);
    await reader.close();
  });

  it('a truncated or foreign file is rebuilt when a reader opens, never read', async () => {
    const file = join(dir, 'e.sqlite');
    const known = await fill(file);
    await SqliteKnownHashStore.open(file, { digestIndex: true }).close();
    const queries = known.slice(0, 50).map((d) => query(d));
    const expected = await reference(file, queries);
    const size = statSync(`${file}.digests`).size;
    truncateSync(`${file}.digests`, size - 44);
    const store = SqliteKnownHashStore.open(file, { digestIndex: true });
    assert.equal(statSync(`${file}.digests`).size, size, 'rebuilt in full');
    assert.deepEqual(await store.lookupMany(queries), expected);
    await store.close();
    writeFileSync(`${file}.digests`, randomBytes(5000));
    const again = SqliteKnownHashStore.open(file, { digestIndex: true });
    assert.deepEqual(await again.lookupMany(queries), expected);
    await again.close();
  });
});

describe('DigestIndexFile', () => {
  const dir = tempDir();
  const rowsOf = (digests: Buffer[]): IndexedRow[] =>
    [...digests].sort((a, b) => Buffer.compare(a, b)).map((digest, i) => ({ digest, placed: i % 3 === 0, sourceId: i % 5 }));

  it('finds every written row and nothing else, with crowded and empty buckets', () => {
    const file = join(dir, 'f.digests');
    // A quarter of the digests share their first two bytes: a few crowded buckets, many empty ones.
    const digests = Array.from({ length: 4000 }, (_, i) => (i % 4 === 0 ? Buffer.concat([Buffer.from([7, 7]), sha(`${i}`).subarray(2)]) : md5(`${i}`)));
    const rows = rowsOf(digests);
    assert.equal(writeDigestIndex(file, 3, rows.length, rows), rows.length);
    const index = DigestIndexFile.open(file, 3) as DigestIndexFile;
    for (const row of rows) assert.deepEqual(index.find(row.digest), [row]);
    for (const d of digests.slice(0, 200)) assert.deepEqual(index.find(neighbour(d)), []);
    assert.deepEqual(index.find(sha('absent')), []);
    index.close();
    assert.equal(DigestIndexFile.open(file, 4), undefined, 'another generation: stale, not an error');
  });

  it('refuses rows out of digest order, a damaged directory and a truncated file', () => {
    const file = join(dir, 'g.digests');
    const rows = rowsOf(Array.from({ length: 3000 }, (_, i) => sha(`${i}`)));
    assert.throws(() => writeDigestIndex(file, 1, rows.length, [...rows].reverse()), RangeError);
    writeDigestIndex(file, 1, rows.length, rows);
    const bytes = readFileSync(file);
    const damaged = Buffer.from(bytes);
    damaged[64 + 40] = (damaged[64 + 40] as number) ^ 1; // a directory entry
    writeFileSync(file, damaged);
    assert.throws(() => DigestIndexFile.open(file, 1), DigestIndexCorrupt);
    writeFileSync(file, bytes.subarray(0, bytes.length - 1));
    assert.throws(() => DigestIndexFile.open(file, 1), DigestIndexCorrupt);
  });
});
