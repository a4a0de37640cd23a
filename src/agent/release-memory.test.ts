import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { CHECK_ALL } from '../core/check-set.js';
import type { Observation } from '../core/observation.js';
import { AgentState } from './agent-state.js';
import { nativeFsAttrs } from './native-fs-attrs.js';
import { RealtimeActivity, releaseAfterDelivery, releaseHeap, releaseHeapIfGrown } from './release-memory.js';

/** A field of /proc/self/status in MB (VmRSS, RssAnon, RssFile). */
function status(field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
}

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

describe('releaseFilePages', () => {
  /** Work that runs the node binary's code (hashing, zlib), V8's and SQLite's: its results must not change. */
  function work(): string {
    const state = AgentState.open(join(tempDir(), 'agent.db'));
    state.setMeta('probe', createHash('sha256').update('custos').digest('hex'));
    const text = state.getMeta('probe') ?? '';
    state.close();
    const data = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join(''));
    return [
      text,
      createHash('md5')
        .update(inflateSync(deflateSync(data)))
        .digest('hex'),
      JSON.stringify({ a: [1, 2, 3] }),
    ].join(' ');
  }

  it('gives back the clean pages of the code the process ran, and the code runs on as before', () => {
    const before = work();
    const fileBefore = status('RssFile');
    const released = nativeFsAttrs().releaseFilePages?.();
    const fileAfter = status('RssFile');
    assert.ok(released !== undefined, 'the addon has releaseFilePages');
    assert.ok(released.mappings > 0 && released.bytes > 0, JSON.stringify(released));
    // The test runner's process maps the node binary's code (tens of MB of it resident): most of it goes back.
    assert.ok(fileAfter < fileBefore * 0.75, `file-backed pages ${fileBefore.toFixed(1)} -> ${fileAfter.toFixed(1)} MB`);
    assert.equal(work(), before, 'the same results from the code faulted back in');
    assert.ok(status('RssFile') > fileAfter, 'what ran again came back');
  });

  it('leaves the private copies of file pages alone (relocated pointers written at load), and anonymous memory', () => {
    /** File mappings holding private copies (pages written since mapped): address range -> Anonymous kB. */
    const copies = (): Map<string, number> => {
      const found = new Map<string, number>();
      let range = '';
      let fileBacked = false;
      for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
        const header = /^([0-9a-f]+-[0-9a-f]+) \S+ \S+ \S+ (\d+)\s+(\/\S*)?/.exec(line);
        if (header !== null) {
          range = header[1] ?? '';
          fileBacked = header[2] !== '0' && header[3] !== undefined;
          continue;
        }
        const anon = /^Anonymous:\s+(\d+) kB/.exec(line);
        if (anon !== null && fileBacked && Number(anon[1]) > 0) found.set(range, Number(anon[1]));
      }
      return found;
    };
    const before = copies();
    // The node binary's and libc's relocation tables and data sections, at least.
    assert.ok(before.size >= 2, `file mappings with private copies: ${before.size}`);
    const anonBefore = status('RssAnon');
    nativeFsAttrs().releaseFilePages?.();
    const after = copies();
    for (const [range, kb] of before) assert.equal(after.get(range), kb, `the private copies of ${range} are kept`);
    assert.ok(status('RssAnon') >= anonBefore - 1, 'anonymous memory is not released by it');
  });
});

describe('RealtimeActivity', () => {
  it('is quiet once realtime work ran and none has for the period, until the memory is given back', () => {
    let now = 1000;
    const activity = new RealtimeActivity(() => now);
    assert.equal(activity.quietFor(5000), false, 'no realtime work yet: nothing to give back');
    activity.noted();
    now += 4999;
    assert.equal(activity.quietFor(5000), false, 'not quiet for the period yet');
    now += 1;
    assert.equal(activity.quietFor(5000), true);
    activity.noted();
    assert.equal(activity.quietFor(5000), false, 'new work starts the period again');
    now += 5000;
    activity.released();
    assert.equal(activity.quietFor(5000), false, 'given back: not again until new work');
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
    // Anonymous memory: the release also gives back code pages, which are not what this measures.
    const heapReleased = status('RssAnon');
    releaseAfterDelivery(delivered, state);
    const freed = heapReleased - status('RssAnon');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection, full after such a delivery.
    assert.ok(freed > 8, `${freed.toFixed(1)} MB given back beyond the heap's release`);
  });
});
