import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { assertFirstBatchKnown, firstBatchRows, hex, sha, startImporter } from '../../../test/support/import-window-fixture.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../../../test/support/postgres-test-url.js';
import { siblingModule } from '../../platform/package-root.js';
import type { Blooms } from '../bloom-cache.js';
import type { KnownHashRow } from '../known-hash-store.js';
import { PostgresBloomCache } from './postgres-bloom-cache.js';
import { PostgresKnownHashStore } from './postgres-known-hash-store.js';

const schemas: string[] = [];
after(() => dropSchemas(schemas));

/** An import commits a batch before its end once it has this many rows (BATCH in postgres-known-hash-import.ts). */
const BATCH = 20_000;
/**
 * How long a listening reader may take to hear of an import's batch or end: a notification, within milliseconds on a
 * quiet machine; this bound is for a loaded one (the code before never hears of a batch at all).
 */
const NOTICED_MS = 2_000;

/** A new schema of its own (dropped after the file), as a URL. */
function freshUrl(): string {
  const schema = testSchemaName('custos_khw');
  schemas.push(schema);
  return schemaUrl(schema);
}

/** A batch that fills an import's batch: `rows` first, then hash-only filler. */
function fullBatch(tag: string, rows: readonly KnownHashRow[]): KnownHashRow[] {
  return [...rows, ...Array.from({ length: BATCH - rows.length }, (_, i) => ({ digest: sha(`${tag} filler ${i}`) }))];
}

/** The generation and the open windows, read over the store's own pool (any connection sees the same). */
async function databaseState(store: PostgresKnownHashStore): Promise<{ generation: number; windows: number }> {
  const row = (
    await store.database.query<{ generation: string; windows: string }>(
      "SELECT (SELECT value FROM kh_meta WHERE key = 'generation') AS generation, (SELECT count(*) FROM kh_imports) AS windows",
    )
  ).rows[0];
  return { generation: Number(row?.generation), windows: Number(row?.windows) };
}

/** Calls `read` until it gives something `ok` accepts (up to `ms`); the last value. */
async function until<T>(read: () => T | Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await sleep(20);
    value = await read();
  }
  return value;
}

/**
 * The script of an importing child process: opens the store at `url`, begins an import and commits one full batch
 * (a known-bad digest, `implant`, among fillers), then runs the lines of `after`.
 */
function oneBatchImporter(url: string, after: readonly string[]): string {
  return [
    `import { PostgresKnownHashStore } from ${JSON.stringify(siblingModule(import.meta.url, 'postgres-known-hash-store').href)};`,
    "import { createHash } from 'node:crypto';",
    "const sha = (s) => createHash('sha256').update(s).digest();",
    `const store = await PostgresKnownHashStore.open(${JSON.stringify(url)});`,
    "const session = await store.beginImport({ kind: 'manual', name: 'feed' });",
    `await session.add([{ digest: sha('implant'), bad: true, label: 'implant' }, ...Array.from({ length: ${BATCH - 1} }, (_, i) => ({ digest: sha('filler ' + i) }))]);`,
    ...after,
  ].join('\n');
}

describe('PostgresKnownHashStore: readers with filters while an import is in progress', () => {
  it('a manager answers from the batches another committed before the import ended (known-bad, known-good), and from its filters again after', async () => {
    const url = freshUrl();
    const writer = await PostgresKnownHashStore.open(url);
    // A long-running reader (another manager): filters built, current, listening for imports.
    const reader = await PostgresKnownHashStore.open(url, { bloom: true });
    await reader.bloomReady();
    // The same database through a cache whose clock the test moves: when its filters are believed, and rebuilt.
    let now = 0;
    const cache = new PostgresBloomCache(reader.database, () => now);
    await cache.keep();
    const before = (await cache.forLookups()) as Blooms;
    assert.equal(before.generation, 0);

    const session = await writer.beginImport({ kind: 'manual', name: 'feed' });
    await session.add(fullBatch('first', firstBatchRows()));
    // The clock stands still: only the first batch's notification can tell the cache (it listens) to look again.
    assert.equal(
      await until(
        () => cache.forLookups(),
        (b) => b === undefined,
        NOTICED_MS,
      ),
      undefined,
      'the filters are not believed while the window is open',
    );
    assert.equal(cache.importing, true);
    assert.deepEqual(
      (
        await until(
          () => reader.lookupBad(hex('dropper')),
          (e) => e.length > 0,
          NOTICED_MS,
        )
      ).map((e) => e.label),
      ['dropper'],
      'a known-bad digest of a committed batch is labelled',
    );
    await assertFirstBatchKnown(reader);
    assert.deepEqual(await databaseState(writer), { generation: 0, windows: 1 }, 'a batch committed, the import not ended');
    assert.equal(before.bad.has(sha('dropper')), false, 'the filters lack the committed batch');
    assert.equal(await cache.forLookups(), undefined);

    await session.add([{ digest: sha('last batch'), bad: true, label: 'last' }]);
    await session.finish();
    assert.deepEqual(await databaseState(writer), { generation: 1, windows: 0 }, 'ended: one generation on, no window left');
    assert.equal(
      (
        await until(
          () => reader.lookupBad(hex('last batch')),
          (e) => e.length > 0,
          NOTICED_MS,
        )
      ).length,
      1,
    );
    assert.equal((await reader.lookupBad(hex('dropper'))).length, 1);
    assert.equal(await cache.forLookups(), undefined, 'stale: the import moved the generation');
    now += 11_000;
    const rebuilt = await until(
      () => cache.forLookups(),
      (b) => b !== undefined,
    );
    assert.equal(rebuilt?.generation, 1, 'rebuilt for the new generation, and believed');
    assert.equal(cache.importing, false);
    assert.ok(rebuilt?.bad.has(sha('dropper')) === true && rebuilt.bad.has(sha('last batch')));
    assert.equal(rebuilt?.bad.has(sha('never imported')), false);
    await cache.close();
    await reader.close();
    await writer.close();
  });

  it('the importing manager answers from its own committed batches too, and believes its filters at once after its import', async () => {
    const url = freshUrl();
    const store = await PostgresKnownHashStore.open(url, { bloom: true });
    await store.bloomReady();
    const session = await store.beginImport({ kind: 'manual', name: 'feed' });
    await session.add(fullBatch('own', [{ digest: sha('dropper'), bad: true, label: 'dropper' }]));
    assert.equal((await store.lookupBad(hex('dropper'))).length, 1);
    await session.finish();
    assert.equal((await store.lookupBad(hex('dropper'))).length, 1);
    // Its filters took in its rows and moved with the generation: a row written behind the store's back (no
    // window, no generation) is in no filter, so a store that believes them calls it unknown.
    await store.database.query("INSERT INTO kh_bad (digest, source_id, label) SELECT $1, id, 'behind' FROM kh_sources", [sha('behind')]);
    await sleep(100);
    assert.deepEqual(await store.lookupBad(hex('behind')), [], 'the filters are believed once the import ended');
    await store.close();
  });

  it('an import of one batch commits it with the new generation: no window', async () => {
    const url = freshUrl();
    const store = await PostgresKnownHashStore.open(url);
    const seen: number[] = [];
    const listener = await store.database.session();
    // Other tests' databases notify the same channel (the payload names the schema).
    listener.on('notification', (m) => (m.payload === store.database.schema ? void databaseState(store).then((s) => seen.push(s.windows)) : undefined));
    await listener.query('LISTEN custos_kh_generation');
    const session = await store.beginImport({ kind: 'manual', name: 'feed' });
    await session.add([{ digest: sha('one'), bad: true, label: 'one' }]);
    await session.finish();
    assert.deepEqual(await databaseState(store), { generation: 1, windows: 0 });
    await until(
      () => seen.length,
      (n) => n > 0,
    );
    assert.deepEqual(seen, [0], 'one notification, for the generation');
    await listener.end();
    await store.close();
  });

  it('a batch that fails ends the import there: the window closes at once, the generation moves, its committed batches are found', async () => {
    const url = freshUrl();
    const store = await PostgresKnownHashStore.open(url, { bloom: true });
    await store.bloomReady();
    const session = await store.beginImport({ kind: 'manual', name: 'feed' });
    await session.add(fullBatch('kept', [{ digest: sha('dropper'), bad: true, label: 'dropper' }]));
    // A row without a digest: the batch cannot be written.
    await assert.rejects(session.add(fullBatch('failed', [{ digest: undefined as unknown as Buffer }])));
    assert.deepEqual(await databaseState(store), { generation: 1, windows: 0 });
    assert.equal((await store.lookupBad(hex('dropper'))).length, 1);
    const feed = (await store.stats()).sources.find((source) => source.name === 'feed');
    assert.equal(feed?.rows, BATCH, 'the source counts the batch it committed before the failure');
    await store.close();
  });

  it('an importer killed in the middle: its rows are answered while it is gone, its window is closed by a reader, and the filters come back with them', async () => {
    const url = freshUrl();
    const reader = await PostgresKnownHashStore.open(url, { bloom: true });
    await reader.bloomReady();
    let now = 0;
    const cache = new PostgresBloomCache(reader.database, () => now);
    await cache.keep();
    // Another process imports one batch, says so, and waits: the test kills it there (SIGKILL: no handler runs,
    // its connections are closed by the kernel).
    const script = oneBatchImporter(url, ["console.log('committed');", 'setInterval(() => {}, 1000);']);
    const { child, exited, committed } = startImporter(script);
    try {
      await committed;
      assert.equal(
        (
          await until(
            () => reader.lookupBad(hex('implant')),
            (e) => e.length > 0,
            NOTICED_MS,
          )
        ).length,
        1,
        'while it runs',
      );
      assert.deepEqual(await databaseState(reader), { generation: 0, windows: 1 }, 'in progress: its window, the generation not yet moved');
      assert.equal(await cache.forLookups(), undefined);
      now += 2_000;
      assert.equal(await cache.forLookups(), undefined, 'alive: a second later its lock is still held, the window stays');
      assert.deepEqual(await databaseState(reader), { generation: 0, windows: 1 });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    // Dead: its lock went with its connection. The reader finds its window's lock free within a second, removes
    // it and moves the generation on; every answer meanwhile is right.
    const deadline = Date.now() + 10_000;
    while ((await databaseState(reader)).windows > 0 && Date.now() < deadline) {
      assert.equal((await reader.lookupBad(hex('implant'))).length, 1, 'while its window is there');
      await sleep(100);
    }
    assert.deepEqual(await databaseState(reader), { generation: 1, windows: 0 }, 'the dead import is closed: one generation on');
    assert.equal((await reader.lookupBad(hex('implant'))).length, 1, 'after');
    // Not asking the database forever: the filters are rebuilt (with the dead import's rows) and believed again.
    now += 11_000;
    const rebuilt = await until(
      () => cache.forLookups(),
      (b) => b !== undefined,
    );
    assert.equal(rebuilt?.generation, 1);
    assert.equal(rebuilt?.bad.has(sha('implant')), true);
    await cache.close();
    await reader.close();
  });

  it('an import its caller gave up on (no finish) does not keep the process alive, and its window ends with it', async () => {
    const url = freshUrl();
    const reader = await PostgresKnownHashStore.open(url, { bloom: true });
    await reader.bloomReady();
    // A command whose source failed after a batch: it closes its store and leaves the session as it is.
    const script = oneBatchImporter(url, ['await store.close();']);
    const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(killer);
    assert.equal(code, 0, 'the command exited by itself');
    const state = await until(
      async () => {
        assert.equal((await reader.lookupBad(hex('implant'))).length, 1);
        return databaseState(reader);
      },
      (s) => s.windows === 0,
    );
    assert.deepEqual(state, { generation: 1, windows: 0 });
    await reader.close();
  });

  it('an importer whose connection is cut: its next batch fails, and readers close its window', async () => {
    const url = freshUrl();
    const writer = await PostgresKnownHashStore.open(url);
    const reader = await PostgresKnownHashStore.open(url, { bloom: true });
    await reader.bloomReady();
    const session = await writer.beginImport({ kind: 'manual', name: 'feed' });
    await session.add(fullBatch('cut', [{ digest: sha('implant'), bad: true, label: 'implant' }]));
    // What a network failure or a restarted server does: the backend holding the import's lock is gone.
    await writer.database.query(
      "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = hashtext('custos.kh-import.' || current_schema())::oid",
    );
    await assert.rejects(session.add(fullBatch('after', [])));
    const state = await until(
      async () => {
        await reader.lookupBad(hex('implant'));
        return databaseState(reader);
      },
      (s) => s.windows === 0,
    );
    assert.deepEqual(state, { generation: 1, windows: 0 });
    assert.equal((await reader.lookupBad(hex('implant'))).length, 1);
    await reader.close();
    await writer.close();
  });
});
