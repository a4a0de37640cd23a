import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { BloomCache, type BloomSource, type DigestList } from './bloom-cache.js';
import { BloomFiles } from './bloom-files.js';
import { BloomFilter } from './bloom-filter.js';

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * A database as the cache sees it, shared by several caches as several processes share one file: its lists, its
 * generation, and a change counter that moves on each commit. `reads` counts full reads of a list (a rebuild).
 */
class Database {
  readonly lists: Record<DigestList, Buffer[]> = { known: [], bad: [] };
  gen = 0;
  commits = 0;
  reads = 0;

  /** What one connection sees: `commit` is what its own import writes. */
  source(): BloomSource {
    return {
      generation: () => this.gen,
      changeCounter: () => this.commits,
      snapshot: (read) => read(),
      count: (list) => this.lists[list].length,
      digests: (list) => {
        this.reads++;
        return [...this.lists[list]];
      },
    };
  }

  /** Another process's import, committed without any cache knowing: rows in, generation moved on. */
  importElsewhere(list: DigestList, digest: Buffer): void {
    this.lists[list].push(digest);
    this.gen++;
    this.commits++;
  }
}

/** The import protocol the known-hash store follows: rows into the database and the import filters, then the generation. */
function importThrough(cache: BloomCache, db: Database, list: DigestList, digest: Buffer): void {
  const blooms = cache.forImport({ bulk: false });
  db.lists[list].push(digest);
  blooms[list].add(digest);
  const before = db.gen;
  db.gen++;
  db.commits++;
  cache.imported(blooms, before);
}

function savedGeneration(file: string, generation: number): boolean {
  return BloomFilter.deserialize(readFileSync(file), generation) !== undefined;
}

describe('BloomCache', () => {
  const dir = tempDir();

  it('builds the filters from the database on keep, saves them beside it, and a second reader loads them without a rebuild', () => {
    const path = join(dir, 'build.sqlite');
    const db = new Database();
    db.lists.known.push(sha('ls'), sha('cat'));
    db.lists.bad.push(sha('evil'));
    const first = BloomCache.open(path, db.source());
    assert.equal(first.forLookups(), undefined, 'no filters for lookups until keep');
    first.keep();
    assert.equal(db.reads, 2, 'both lists read once');
    const blooms = first.forLookups();
    assert.ok(blooms !== undefined);
    assert.deepEqual(
      [blooms.known.has(sha('ls')), blooms.known.has(sha('cat')), blooms.bad.has(sha('evil')), blooms.bad.has(sha('ls'))],
      [true, true, true, false],
    );
    assert.ok(savedGeneration(`${path}.bloom`, 0) && savedGeneration(`${path}.bad.bloom`, 0));
    const second = BloomCache.open(path, db.source());
    second.keep();
    assert.equal(db.reads, 2, 'the saved filters match the generation: loaded, not rebuilt');
    assert.equal(second.forLookups()?.known.has(sha('cat')), true);
  });

  it('rebuilds when a saved filter is corrupt or from another generation', () => {
    const path = join(dir, 'corrupt.sqlite');
    const db = new Database();
    db.lists.known.push(sha('ls'));
    BloomCache.open(path, db.source()).keep();
    writeFileSync(`${path}.bad.bloom`, 'not a filter');
    const reads = db.reads;
    BloomCache.open(path, db.source()).keep();
    assert.equal(db.reads, reads + 2, 'a corrupt file counts as stale');
    db.importElsewhere('known', sha('new'));
    const cache = BloomCache.open(path, db.source());
    cache.keep();
    assert.equal(db.reads, reads + 4, 'files of the generation before are stale');
    assert.equal(cache.forLookups()?.known.has(sha('new')), true);
    assert.ok(savedGeneration(`${path}.bloom`, 1));
  });

  it('keeps the filters current through its own imports and saves them as the new generation, in the log', () => {
    const path = join(dir, 'import.sqlite');
    const db = new Database();
    const reader = BloomCache.open(path, db.source(), { now: () => 0 });
    reader.keep();
    const base = readFileSync(`${path}.bloom`);
    importThrough(reader, db, 'bad', sha('evil'));
    assert.equal(reader.forLookups()?.bad.has(sha('evil')), true);
    assert.equal(new BloomFiles(path).read(1)?.bad.has(sha('evil')), true, 'the saved filters are at generation 1');
    assert.ok(savedGeneration(`${path}.bloom`, 0) && readFileSync(`${path}.bloom`).equals(base), 'the base files were not written again');
    // An importer that keeps no filters of its own still brings the saved ones forward, for the readers.
    const importer = BloomCache.open(path, db.source());
    assert.equal(importer.forImport({ bulk: false }).filters, undefined, 'it reads no filters for a row import');
    importThrough(importer, db, 'known', sha('ls'));
    assert.equal(new BloomFiles(path).read(2)?.known.has(sha('ls')), true);
    const reads = db.reads;
    const later = BloomCache.open(path, db.source());
    later.keep();
    assert.equal(db.reads, reads, 'loaded as saved by the importer');
    assert.equal(later.forLookups()?.known.has(sha('ls')), true);
  });

  it('an importer without saved filters to keep current saves none (whoever keeps them builds them)', () => {
    const path = join(dir, 'none.sqlite');
    const db = new Database();
    const importer = BloomCache.open(path, db.source());
    assert.equal(importer.forImport({ bulk: false }).filters, undefined);
    importThrough(importer, db, 'known', sha('ls'));
    assert.throws(() => readFileSync(`${path}.bloom`), { code: 'ENOENT' });
  });

  it('never saves filters that missed the rows of an import another process finished in between', () => {
    const path = join(dir, 'race.sqlite');
    const db = new Database();
    BloomCache.open(path, db.source()).keep();
    const importer = BloomCache.open(path, db.source());
    const blooms = importer.forImport({ bulk: false });
    db.lists.known.push(sha('mine'));
    blooms.known.add(sha('mine'));
    db.importElsewhere('bad', sha('theirs')); // generation 0 -> 1, not in `blooms`
    const before = db.gen;
    db.gen++;
    importer.imported(blooms, before);
    assert.ok(savedGeneration(`${path}.bloom`, 0), 'left at generation 0: stale, never passed off as generation 2');
    assert.equal(new BloomFiles(path).read(2), undefined, 'nothing was logged');
    const reader = BloomCache.open(path, db.source());
    reader.keep();
    assert.equal(reader.forLookups()?.bad.has(sha('theirs')), true, 'rebuilt with both imports');
  });

  it('drops its filters when another process imports, asks the database meanwhile, and picks up the filters that importer saved', () => {
    const path = join(dir, 'reader.sqlite');
    const db = new Database();
    let clock = 0;
    const reader = BloomCache.open(path, db.source(), { now: () => clock });
    reader.keep();
    assert.ok(reader.forLookups() !== undefined);
    // Another process imports and keeps the saved filters current.
    const importer = BloomCache.open(path, db.source());
    importThrough(importer, db, 'bad', sha('evil'));
    clock += 10;
    assert.equal(reader.forLookups()?.generation, 0, 'within the recheck interval the filters are trusted');
    clock += 50;
    const picked = reader.forLookups();
    assert.equal(picked?.generation, 1, 'the commit is seen and the block the importer logged taken in at once');
    assert.equal(picked?.bad.has(sha('evil')), true);
    // An import that saves no filters (one finished in between) leaves the reader without any: it asks the database.
    db.importElsewhere('bad', sha('worse'));
    clock += 50;
    assert.equal(reader.forLookups(), undefined, 'stale filters dropped: the database answers');
    const reads = db.reads;
    clock += 2000;
    assert.equal(reader.forLookups(), undefined, 'the saved files are stale too: still none, and never rebuilt on a lookup');
    assert.equal(db.reads, reads);
    // Someone who keeps filters rebuilds and saves them; the reader picks them up at its next retry.
    BloomCache.open(path, db.source()).keep();
    clock += 500;
    assert.equal(reader.forLookups(), undefined, 'not before the retry interval');
    clock += 600;
    assert.equal(reader.forLookups()?.bad.has(sha('worse')), true);
  });
});
