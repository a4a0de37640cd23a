import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { CHECK_ALL } from '../core/check-set.js';
import type { Observation } from '../core/observation.js';
import { AgentState } from './agent-state.js';
import { releaseAfterDelivery, releaseHeap, releaseHeapIfGrown } from './release-memory.js';

/** Grows the heap with short-lived objects, drops them, and returns the heap's size while they lived. */
function grow(): number {
  const garbage = Array.from({ length: 400_000 }, (_, i) => ({ i, name: `entry-${i}` }));
  return process.memoryUsage().heapTotal + garbage.length * 0;
}

describe('releaseHeap', () => {
  it('gives back the heap pages that garbage grew (V8 alone keeps them until its next collection)', () => {
    const grown = grow();
    const heldBefore = process.memoryUsage().heapTotal;
    releaseHeap();
    const after = process.memoryUsage().heapTotal;
    assert.ok(heldBefore >= grown * 0.9, `the garbage is still held before the release (${heldBefore} of ${grown} bytes)`);
    assert.ok(after < grown / 2, `heap ${Math.round(after / 2 ** 20)} MB after the release, ${Math.round(grown / 2 ** 20)} MB grown`);
  });
});

describe('releaseHeapIfGrown', () => {
  it('gives the heap back only when garbage grew it since the last release', () => {
    releaseHeap();
    assert.equal(releaseHeapIfGrown(), false, 'nothing grew since the release');
    const grown = grow();
    assert.equal(releaseHeapIfGrown(), true, `the heap grew to ${Math.round(grown / 2 ** 20)} MB`);
    assert.ok(process.memoryUsage().heapTotal < grown / 2, 'and was given back');
    assert.equal(releaseHeapIfGrown(), false, 'not again until it grows again');
  });
});

describe('releaseAfterDelivery', () => {
  it('gives back the SQLite page cache a delivery filled, beyond what releasing the heap gives', () => {
    const state = AgentState.open(join(tempDir(), 'agent.db'));
    // A scan's worth of batches (more than the 16 MB page cache holds), queued, then delivered as the sender does: read, acknowledged.
    for (let b = 0; b < 120; b++) {
      const batch = Array.from({ length: 500 }, (_, i): Observation => {
        const path = Buffer.from(`/usr/lib/x86_64-linux-gnu/package-${b}/module-${i}.so`);
        return { path, current: fileState({ path }), checks: CHECK_ALL, inBaseline: false };
      });
      state.enqueue('001', batch);
    }
    let delivered = 0;
    for (let entry = state.oldest(); entry !== undefined; entry = state.oldest(), delivered++) state.acknowledge(entry.seq);
    releaseHeap();
    const heapReleased = process.memoryUsage.rss();
    releaseAfterDelivery(delivered, state);
    const freed = (heapReleased - process.memoryUsage.rss()) / 2 ** 20;
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection, full after such a delivery.
    assert.ok(freed > 8, `${freed.toFixed(1)} MB given back beyond the heap's release`);
  });
});
