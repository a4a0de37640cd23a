import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { tempDir } from '../../test/support/temp-dir.js';
import type { FileState } from '../core/file-state.js';
import { StateDigest } from '../core/state-digest.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { projectedBaselineDigest } from './projected-digest.js';

const dir = tempDir();
/** The digest of what is stored, computed here the way the agent does over its cache. */
async function storedDigest(store: SqliteStore, agentId: string): Promise<{ digest: string; entries: number }> {
  const digest = new StateDigest();
  for await (const chunk of store.readFingerprints(agentId, [{ from: Buffer.alloc(0), to: Buffer.from([0xff]) }]))
    for (const e of chunk) digest.add(e.key, e.fingerprint);
  return { digest: digest.hex(), entries: digest.entries };
}

const file = (path: string, size = 1): FileState => fileState({ path: Buffer.from(path, 'latin1'), size });

describe('projectedBaselineDigest: the digest a baseline will have once a batch commits', () => {
  const cases: { name: string; stored: FileState[]; upserts: FileState[]; deletes: string[] }[] = [
    { name: 'nothing pending', stored: [file('/etc/a'), file('/etc/b')], upserts: [], deletes: [] },
    { name: 'an empty baseline filled', stored: [], upserts: [file('/srv/z'), file('/srv/a'), file('/srv')], deletes: [] },
    {
      name: 'rewritten, new and deleted rows interleaved',
      stored: [file('/etc'), file('/etc/b'), file('/etc/d'), file('/usr/x')],
      upserts: [file('/etc/b', 9), file('/etc/c'), file('/etc-old'), file('/a')],
      deletes: ['/etc/d', '/usr/x'],
    },
    { name: 'a path written twice: the last state wins', stored: [file('/etc/a')], upserts: [file('/etc/a', 5), file('/etc/a', 6)], deletes: [] },
    {
      name: 'a path written and deleted: the delete wins, as in the commit',
      stored: [file('/etc/a')],
      upserts: [file('/etc/a', 5), file('/etc/n')],
      deletes: ['/etc/a', '/etc/n'],
    },
    {
      name: 'key order, not byte order of paths (/ sorts first)',
      stored: [file('/etc/a/b'), file('/etc/a-b')],
      upserts: [file('/etc/a'), file('/etc/a.c'), file('/etc/\xff')],
      deletes: [],
    },
    { name: 'deleting what is not there', stored: [file('/etc/a')], upserts: [], deletes: ['/nope'] },
  ];
  for (const [i, c] of cases.entries()) {
    it(`equals the stored digest after the commit: ${c.name}`, async () => {
      const store = SqliteStore.open(join(dir, `case-${i}.db`));
      await store.commit({ agentId: '001', upserts: c.stored, deletes: [], events: [] });
      // Another agent's rows never count.
      await store.commit({ agentId: '002', upserts: [file('/etc/a', 77)], deletes: [], events: [] });
      const deletes = c.deletes.map((p) => Buffer.from(p, 'latin1'));
      const projected = await projectedBaselineDigest(store, '001', { upserts: c.upserts, deletes });
      await store.commit({ agentId: '001', upserts: c.upserts, deletes, events: [] });
      assert.deepEqual(projected, await storedDigest(store, '001'));
      await store.close();
    });
  }

  it('differs when the batch changes the baseline', async () => {
    const store = SqliteStore.open(join(dir, 'differs.db'));
    await store.commit({ agentId: '001', upserts: [file('/etc/a')], deletes: [], events: [] });
    const before = await projectedBaselineDigest(store, '001');
    const projected = await projectedBaselineDigest(store, '001', { upserts: [file('/etc/a', 2)], deletes: [] });
    assert.notEqual(projected.digest, before.digest);
    assert.equal(projected.entries, 1);
    await store.close();
  });
});
