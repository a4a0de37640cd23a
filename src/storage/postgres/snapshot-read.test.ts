import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { BUILTIN_RULES } from '../../core/builtin-rules.js';
import { CHECK_ALL } from '../../core/check-set.js';
import type { EventRecord } from '../../core/event-record.js';
import { diffFileStates } from '../../core/file-change.js';
import { fileState } from '../../../test/support/file-states.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../../../test/support/postgres-test-url.js';
import { PostgresStore } from './postgres-store.js';
import { READ_PAGE_ROWS } from './snapshot-read.js';

const schemas: string[] = [];
after(() => dropSchemas(schemas));

function alerted(i: number): EventRecord {
  const path = Buffer.from(`/etc/f${i}`);
  const change = diffFileStates(fileState({ path }), fileState({ path, size: 1000 + i }), CHECK_ALL);
  assert.ok(change !== undefined);
  const timestamp = new Date(Date.parse('2026-11-27T10:00:00.000Z') + i * 1000).toISOString();
  return { agentId: '001', timestamp, change, verdict: { verdict: 'unknown' }, rule: BUILTIN_RULES.modified, outcome: 'alerted', alertId: `f${i}` };
}

describe('PostgreSQL paged reads', () => {
  it('gives its connection back when the reader stops early, however often, and reads on from a fresh snapshot', async () => {
    const schema = testSchemaName();
    schemas.push(schema);
    const store = await PostgresStore.open(schemaUrl(schema));
    const { pool } = store.database;
    const checkedOut = (): number => pool.totalCount - pool.idleCount;
    try {
      await store.upsertAgent({ id: '001', name: 'h' });
      const total = READ_PAGE_ROWS * 2 + 7;
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: Array.from({ length: total }, (_, i) => alerted(i)) });
      for (let round = 0; round < 6; round++) {
        for await (const event of store.queryEvents({})) {
          assert.equal(event.record.change.path.toString(), '/etc/f0');
          break;
        }
        assert.equal(checkedOut(), 0, 'the events read gave its connection back');
        for await (const alert of store.queryAlerts({})) {
          assert.equal(alert.id, 'f0');
          break;
        }
        assert.equal(checkedOut(), 0, 'the alerts read gave its connection back');
      }
      let events = 0;
      for await (const _ of store.queryEvents({})) events++;
      assert.equal(events, total);
      const newest: string[] = [];
      for await (const alert of store.queryAlerts({ limit: READ_PAGE_ROWS + 1 })) newest.push(alert.id);
      assert.equal(newest.length, READ_PAGE_ROWS + 1);
      assert.equal(newest[0], `f${total - READ_PAGE_ROWS - 1}`);
      assert.equal(newest.at(-1), `f${total - 1}`);
      assert.equal(checkedOut(), 0);
    } finally {
      await store.close();
    }
  });
});
