import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { releaseHeap, releaseHeapIfGrown } from './release-memory.js';

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
