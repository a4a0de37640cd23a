import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { BUILTIN_RULES } from '../../core/builtin-rules.js';
import { CHECK_ALL } from '../../core/check-set.js';
import { chainHash, encodeEventRecord, GENESIS_HASH, type EventRecord } from '../../core/event-record.js';
import { diffFileStates } from '../../core/file-change.js';
import { pathKey } from '../../core/path-bytes.js';
import { fileState } from '../../../test/support/file-states.js';
import { dropSchemas, POSTGRES_TEST_URL, rawSql, schemaUrl, testSchemaName } from '../../../test/support/postgres-test-url.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { PostgresStore } from './postgres-store.js';

const schemas: string[] = [];
after(() => dropSchemas(schemas));

function change(path: string, timestamp: string): EventRecord {
  const p = Buffer.from(path);
  const diff = diffFileStates(fileState({ path: p }), fileState({ path: p, size: 7 }), CHECK_ALL);
  assert.ok(diff !== undefined);
  return { agentId: '001', timestamp, change: diff, verdict: { verdict: 'unknown' }, rule: BUILTIN_RULES.modified, outcome: 'alerted' };
}

/** Rows of a query in `schema`, as someone with direct access to the database reads them. */
async function select<R extends pg.QueryResultRow>(schema: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('PostgreSQL history partitions', () => {
  it('converts a history written before partitioning into monthly partitions, chain, ids and usage intact', async () => {
    const schema = testSchemaName();
    schemas.push(schema);
    // A store as the release before this one left it: the first two migrations, and a history in one table.
    await rawSql('public', `CREATE SCHEMA ${schema}`);
    await rawSql(
      schema,
      `${POSTGRES_MIGRATIONS[0] ?? ''}${POSTGRES_MIGRATIONS[1] ?? ''} CREATE TABLE custos_schema_version (version INTEGER NOT NULL); INSERT INTO custos_schema_version VALUES (2);`,
    );
    let prev = GENESIS_HASH;
    const inserts: string[] = [];
    const times = ['2025-12-30T10:00:00.000Z', '2025-12-31T23:59:59.999Z', '2026-01-01T00:00:00.000Z', '2026-01-15T00:00:00.000Z'];
    times.forEach((ts, i) => {
      const record = change(`/etc/f${i}`, ts);
      const data = encodeEventRecord(record);
      const hash = chainHash(prev, data);
      const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;
      inserts.push(
        `INSERT INTO events (agent_id, ts, kind, outcome, path_key, data, prev_hash, hash) VALUES ('001', ${q(ts)}, 'modified', 'alerted', '\\x${pathKey(record.change.path).toString('hex')}', ${q(data)}, ${q(prev)}, ${q(hash)});`,
      );
      prev = hash;
    });
    await rawSql(schema, `${inserts.join('\n')} INSERT INTO chain_heads VALUES ('001', (SELECT max(id) FROM events), '${prev}', 4);`);
    const [old] = await select<{ max: string }>(schema, 'SELECT max(id) FROM events');

    const store = await PostgresStore.open(schemaUrl(schema));
    try {
      const parts = await select<{ relname: string }>(
        schema,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1",
      );
      assert.deepEqual(
        parts.map((p) => p.relname),
        ['events_p2025_12', 'events_p2026_01', 'events_undated'],
      );
      const [kind] = await select<{ relkind: string }>(schema, "SELECT relkind FROM pg_class WHERE oid = 'events'::regclass");
      assert.equal(kind?.relkind, 'p', 'the history is a partitioned table now');
      assert.deepEqual(await store.verifyChain(), { ok: true, checked: 4 });
      assert.equal((await store.agentUsage('001')).historyRecords, 4, 'the copy is not counted twice');

      // A new month gets its partition on its first record; ids go on from the old table's.
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [change('/etc/new', '2026-02-02T00:00:00.000Z')] });
      const [made] = await select<{ id: string; part: string }>(schema, "SELECT id, tableoid::regclass::text AS part FROM events WHERE ts LIKE '2026-02%'");
      assert.equal(made?.part, 'events_p2026_02');
      assert.ok(Number(made?.id) > Number(old?.max), `id ${made?.id ?? '?'} after ${old?.max ?? '?'}`);
      assert.deepEqual(await store.verifyChain(), { ok: true, checked: 5 });

      // Still append-only: an UPDATE, a DELETE or a TRUNCATE through SQL is refused.
      await assert.rejects(rawSql(schema, "UPDATE events SET outcome = 'x'"), /append-only/);
      await assert.rejects(rawSql(schema, 'DELETE FROM events'), /append-only/);
      await assert.rejects(rawSql(schema, 'TRUNCATE events'), /append-only/);

      // Retention drops whole partitions: December goes, the table is never rewritten.
      assert.deepEqual(await store.dropHistoryBefore('2026-01-01T00:00:00.000Z'), { droppedRecords: 2, agents: ['001'] });
      const left = await select<{ relname: string }>(
        schema,
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass ORDER BY 1",
      );
      assert.deepEqual(
        left.map((p) => p.relname),
        ['events_p2026_01', 'events_p2026_02', 'events_undated'],
      );
      const report = await store.verifyChain();
      assert.equal(report.ok, true);
      assert.equal(report.checked, 3);
      assert.equal(report.starts?.[0]?.firstKept?.at, '2026-01-01T00:00:00.000Z');

      // A late record of a dropped month: its partition is made again, and the chain still verifies.
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [change('/etc/late', '2025-12-31T12:00:00.000Z')] });
      const [late] = await select<{ part: string }>(schema, "SELECT tableoid::regclass::text AS part FROM events WHERE ts LIKE '2025-12%'");
      assert.equal(late?.part, 'events_p2025_12', 'its month is made again, to be dropped in its turn');
      assert.equal((await store.verifyChain()).ok, true);
    } finally {
      await store.close();
    }
  });

  it('keeps a month whose drop would cut a chain in the middle (an agent clock that went back)', async () => {
    const schema = testSchemaName();
    schemas.push(schema);
    const store = await PostgresStore.open(schemaUrl(schema));
    try {
      await store.commit({
        agentId: '001',
        upserts: [],
        deletes: [],
        events: [change('/a', '2026-03-05T00:00:00.000Z'), change('/b', '2026-01-05T00:00:00.000Z'), change('/c', '2026-04-05T00:00:00.000Z')],
      });
      const outcome = await store.dropHistoryBefore('2026-03-01T00:00:00.000Z');
      assert.equal(outcome.droppedRecords, 0);
      assert.match(outcome.heldBack ?? '', /2026-01 kept: dropping it would cut the chain of agent 001 in the middle/);
      assert.deepEqual(await store.verifyChain(), { ok: true, checked: 3 });
    } finally {
      await store.close();
    }
  });
});
