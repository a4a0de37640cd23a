import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { siblingModule } from '../platform/package-root.js';
import { assertFirstBatchKnown, firstBatchRows, hex, sha, startImporter } from '../../test/support/import-window-fixture.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { importRows } from './import/import-rows.js';
import type { KnownHashRow } from './known-hash-store.js';
import { SqliteKnownHashStore } from './sqlite-known-hash-store.js';

/** More than the 50 ms within which a reader notices another connection's commit. */
const NOTICED_MS = 80;

const dir = tempDir();

/** The database's generation and the import markers in it, read over a connection of its own. */
function databaseState(file: string): { generation: number; markers: number } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      generation: Number(db.prepare("SELECT value FROM meta WHERE key = 'generation'").pluck().get()),
      markers: Number(db.prepare("SELECT count(*) FROM meta WHERE key LIKE 'import-in-progress:%'").pluck().get()),
    };
  } finally {
    db.close();
  }
}

describe('SqliteKnownHashStore: a reader with filters while an import is in progress', () => {
  it('answers from the batches already committed (known-bad, known-good) before the import ends, and from its filters again after', async () => {
    const file = join(dir, 'held.sqlite');
    // A long-running reader (the manager): filters and index built, current, kept in memory.
    const reader = SqliteKnownHashStore.open(file, { bloom: true });
    const generation = databaseState(file).generation;
    const writer = SqliteKnownHashStore.open(file);
    let committed!: () => void;
    const firstBatchIn = new Promise<void>((resolve) => (committed = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // An import source that yields one batch and then waits, as a long import does between its batches.
    async function* source(): AsyncGenerator<readonly KnownHashRow[]> {
      yield firstBatchRows();
      committed(); // asked for the next batch: the first is committed
      await held;
      yield [{ digest: sha('second batch'), bad: true, label: 'second' }];
    }
    const importing = importRows(writer, { kind: 'manual', name: 'feed' }, source());
    await firstBatchIn;
    assert.equal(databaseState(file).generation, generation, 'the import has not ended: the generation has not moved');
    await sleep(NOTICED_MS);

    assert.deepEqual(
      (await reader.lookupBad(hex('dropper'))).map((e) => e.label),
      ['dropper'],
      'a known-bad digest of a committed batch is labelled',
    );
    await assertFirstBatchKnown(reader);

    release();
    await importing;
    await writer.close();
    assert.deepEqual(databaseState(file), { generation: generation + 1, markers: 0 }, 'ended: one generation on, no marker left');
    await sleep(NOTICED_MS);
    assert.equal((await reader.lookupBad(hex('second batch'))).length, 1);
    assert.equal((await reader.lookupBad(hex('dropper'))).length, 1);

    // The filters answer again: a row written into SQLite behind the store's back (no marker, no generation) is in
    // no filter, so a reader that believes its filters calls it unknown (one that asked SQLite would find it).
    const raw = new Database(file);
    raw.prepare("INSERT INTO bad (digest, source_id, label) SELECT ?, id, 'behind' FROM sources").run(sha('behind'));
    raw.close();
    await sleep(NOTICED_MS);
    assert.deepEqual(await reader.lookupBad(hex('behind')), [], 'the filters are believed again once the import ended');
    await reader.close();
  });

  it('an import that fails in the middle ends there: its committed batches are answered, by the importing reader too, and no marker stays', async () => {
    const file = join(dir, 'failed.sqlite');
    // The manager's case: the store that imports keeps filters and index in memory itself.
    const store = SqliteKnownHashStore.open(file, { bloom: true });
    const generation = databaseState(file).generation;
    const session = await store.beginImport({ kind: 'manual', name: 'feed' });
    await session.add([{ digest: sha('dropper'), bad: true, label: 'dropper' }, { digest: sha('nsrl tool') }]);
    // A batch that cannot be written (a row without a digest): the batch before it stays committed.
    await assert.rejects(session.add([{ digest: undefined as unknown as Buffer }, { digest: sha('x') }]));
    assert.deepEqual(databaseState(file), { generation: generation + 1, markers: 0 }, 'ended: marker gone, generation moved (nothing logged)');
    assert.equal((await store.lookupBad(hex('dropper'))).length, 1);
    assert.equal((await store.lookup(Buffer.from('/opt/tool'), hex('nsrl tool'))).elsewhere.length, 1, 'not answered from the index it never logged to');
    await store.close();
  });

  it('an importer killed in the middle: its committed rows are answered while it is gone, and the saved filters are rebuilt with them', async () => {
    const file = join(dir, 'killed.sqlite');
    const reader = SqliteKnownHashStore.open(file, { bloom: true });
    const generation = databaseState(file).generation;
    // Another process imports one batch, says so, and waits: the test kills it there (SIGKILL: no handler runs).
    const script = [
      `import { SqliteKnownHashStore } from ${JSON.stringify(siblingModule(import.meta.url, 'sqlite-known-hash-store').href)};`,
      "import { createHash } from 'node:crypto';",
      `const store = SqliteKnownHashStore.open(${JSON.stringify(file)});`,
      "const session = await store.beginImport({ kind: 'manual', name: 'feed' });",
      "await session.add([{ digest: createHash('sha256').update('implant').digest(), bad: true, label: 'implant' }]);",
      "console.log('committed');",
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const { child, exited, committed } = startImporter(script);
    try {
      await committed;
      await sleep(NOTICED_MS);
      assert.equal((await reader.lookupBad(hex('implant'))).length, 1, 'while it runs');
      assert.deepEqual(databaseState(file), { generation, markers: 1 }, 'in progress: its marker, the generation not yet moved');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    // Dead: the reader finds its marker's process gone (within a second), removes the marker and moves the
    // generation on, so no saved filter of the generation before is believed; every answer meanwhile is right.
    const deadline = Date.now() + 10_000;
    while (databaseState(file).markers > 0 && Date.now() < deadline) {
      assert.equal((await reader.lookupBad(hex('implant'))).length, 1, 'while its marker is there');
      await sleep(100);
    }
    assert.deepEqual(databaseState(file), { generation: generation + 1, markers: 0 }, 'the dead import is closed: one generation on');
    assert.equal((await reader.lookupBad(hex('implant'))).length, 1, 'after');
    await reader.close();

    // A reader that keeps filters rebuilds them (the saved ones are stale) and they hold the dead import's row.
    const next = SqliteKnownHashStore.open(file, { bloom: true });
    assert.equal((await next.lookupBad(hex('implant'))).length, 1);
    await next.close();
  });
});
