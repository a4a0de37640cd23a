import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
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

  it('an import writes a block of its own digests; the log is folded into new base files once past 1/8 of them', () => {
    const path = join(dir, 'fold.sqlite');
    const db = new Database();
    const reader = BloomCache.open(path, db.source(), { now: () => 0 });
    reader.keep();
    const baseBytes = statSync(`${path}.bloom`).size + statSync(`${path}.bad.bloom`).size;
    const importer = BloomCache.open(path, db.source());
    let folded = -1;
    const logSizes: number[] = [];
    for (let i = 0; folded < 0; i++) {
      const logBefore = statSync(`${path}.bloom.log`).size;
      logSizes.push(logBefore);
      importThrough(importer, db, i % 7 === 0 ? 'bad' : 'known', sha(`row ${i}`));
      const logAfter = statSync(`${path}.bloom.log`).size;
      if (logAfter < logBefore) folded = i;
      else assert.ok(logAfter - logBefore < 100, `one digest, one small block (${logAfter - logBefore} bytes)`);
      assert.ok(i < 100_000, 'never folded');
    }
    assert.ok(savedGeneration(`${path}.bloom`, db.gen) && savedGeneration(`${path}.bad.bloom`, db.gen), 'the new base is the current generation');
    assert.ok(
      (logSizes.at(-1) as number) > baseBytes / 8 && (logSizes.at(-2) as number) <= baseBytes / 8,
      `folded once the log passed 1/8 of ${baseBytes} bytes, not before (${logSizes.slice(-2).join(', ')})`,
    );
    const fresh = BloomCache.open(path, db.source());
    const reads = db.reads;
    fresh.keep();
    assert.equal(db.reads, reads, 'loaded from the folded base, not rebuilt');
    for (let i = 0; i <= folded; i++) assert.ok(fresh.forLookups()?.[i % 7 === 0 ? 'bad' : 'known'].has(sha(`row ${i}`)));
  });

  it('a torn log is never believed: a reader finds the filters stale and builds them; a garbled one is removed', () => {
    const path = join(dir, 'torn.sqlite');
    const db = new Database();
    BloomCache.open(path, db.source()).keep();
    importThrough(BloomCache.open(path, db.source()), db, 'bad', sha('dropper'));
    truncateSync(`${path}.bloom.log`, statSync(`${path}.bloom.log`).size - 3);
    assert.equal(new BloomFiles(path).read(db.gen), undefined, 'the block that brings generation 1 is torn: not current');
    // An importer finds no end to append to, and leaves the saved filters as they are.
    importThrough(BloomCache.open(path, db.source()), db, 'bad', sha('worm'));
    assert.equal(new BloomFiles(path).read(db.gen), undefined);
    const reads = db.reads;
    const reader = BloomCache.open(path, db.source());
    reader.keep();
    assert.equal(db.reads, reads + 2, 'rebuilt from the database');
    assert.ok(reader.forLookups()?.bad.has(sha('dropper')) && reader.forLookups()?.bad.has(sha('worm')), 'every bad digest is in');
    importThrough(BloomCache.open(path, db.source()), db, 'bad', sha('rootkit'));
    const bytes = readFileSync(`${path}.bloom.log`);
    const at = bytes.indexOf(sha('rootkit'));
    bytes[at] = (bytes[at] as number) ^ 0x80; // the bad digest damaged: believed, it would hide the real one
    writeFileSync(`${path}.bloom.log`, bytes);
    assert.equal(new BloomFiles(path).read(db.gen), undefined);
    assert.throws(() => readFileSync(`${path}.bloom.log`), { code: 'ENOENT' }, 'the garbled log was removed');
  });

  it("a reader keeping filters takes in another process's bad digest from the log within the recheck interval, and drops the filters when the log is torn", () => {
    const path = join(dir, 'catchup.sqlite');
    const db = new Database();
    let clock = 0;
    const reader = BloomCache.open(path, db.source(), { now: () => clock });
    reader.keep();
    const reads = db.reads;
    importThrough(BloomCache.open(path, db.source()), db, 'bad', sha('dropper'));
    clock += 60;
    assert.equal(reader.forLookups()?.bad.has(sha('dropper')), true);
    assert.equal(db.reads, reads, 'caught up from the log, not rebuilt');
    // The next import's block torn (the importer crashed while appending): the reader must not keep its filters.
    importThrough(BloomCache.open(path, db.source()), db, 'bad', sha('worm'));
    truncateSync(`${path}.bloom.log`, statSync(`${path}.bloom.log`).size - 1);
    clock += 60;
    assert.equal(reader.forLookups(), undefined, 'stale filters dropped: the database answers');
  });

  it('a build starts the log before it reads, so an import that commits during the build is in the saved filters', () => {
    const path = join(dir, 'during.sqlite');
    const db = new Database();
    db.lists.known.push(sha('ls'));
    let importedDuring = false;
    const source = db.source();
    // The snapshot is taken before the other process imports: the build does not see its digest or generation.
    const building: BloomSource = {
      ...source,
      digests: (list) => {
        const snapshot = [...db.lists[list]];
        if (!importedDuring) {
          importedDuring = true;
          importThrough(BloomCache.open(path, db.source()), db, 'bad', sha('during'));
        }
        return snapshot.filter((d) => !d.equals(sha('during')));
      },
      generation: () => (importedDuring ? db.gen - 1 : db.gen),
    };
    const built = BloomCache.open(path, building).build();
    assert.equal(built.generation, 0, 'built from the snapshot of generation 0');
    assert.equal(built.bad.has(sha('during')), false);
    const saved = new BloomFiles(path).read(db.gen);
    assert.equal(saved?.bad.has(sha('during')), true, 'the import logged during the build brings the saved filters to generation 1');
  });

  it('keeps without building: lookups ask the database until saved filters turn up, and a rebuild is asked for again after a while', () => {
    const path = join(dir, 'background.sqlite');
    const db = new Database();
    db.lists.bad.push(sha('evil'));
    let clock = 0;
    let asked = 0;
    const reader = BloomCache.open(path, db.source(), { now: () => clock });
    reader.keep({ build: () => asked++ });
    assert.equal(asked, 1, 'a build was asked for at once');
    assert.equal(db.reads, 0, 'nothing read in this thread');
    assert.equal(reader.forLookups(), undefined);
    // What the build thread does: build and save; the reader takes them up once told.
    BloomCache.open(path, db.source()).build();
    reader.savedChanged();
    assert.equal(reader.forLookups()?.bad.has(sha('evil')), true);
    // Lost again (an import whose importer could not log it), and nothing saved for REBUILD_AFTER_MS: asked again.
    db.importElsewhere('bad', sha('worse'));
    rmSync(`${path}.bloom.log`);
    clock += 60;
    assert.equal(reader.forLookups(), undefined);
    clock += 5_000;
    reader.forLookups();
    assert.equal(asked, 1);
    clock += 6_000;
    reader.forLookups();
    assert.equal(asked, 2, 'asked for a rebuild after 10 s without current filters');
  });
});
