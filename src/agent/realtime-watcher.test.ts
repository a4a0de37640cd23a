import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually } from '../../test/support/custos-service.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { ignoresAround, optTempDir } from '../../test/support/root-scope.js';
import { watchRealtime, type RealtimeSink } from './realtime-watcher.js';

/** A sink that keeps what it was told. */
function recorder(): RealtimeSink & { paths: string[]; rescans: [string, string][] } {
  const paths: string[] = [];
  const rescans: [string, string][] = [];
  return { paths, rescans, onPaths: (p) => void paths.push(...p), onRescan: (dir, reason) => void rescans.push([dir, reason]) };
}

describe('watchRealtime (real inotify through the native addon)', () => {
  it('reports created and modified files, and a new directory whole; what an event misses, the reconcile rescan covers', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'existing'), 'a');
    const sink = recorder();
    // The reconcile rescan bounds how long a change lost some other way goes unseen (every 10 minutes in
    // production); here it runs every 2 s.
    const watcher = await watchRealtime([dir], sink, () => {}, { reconcileMs: 2000 });
    try {
      assert.deepEqual(watcher.native, [dir]);
      writeFileSync(join(dir, 'existing'), 'b');
      writeFileSync(join(dir, 'created'), 'c');
      mkdirSync(join(dir, 'fresh'));
      writeFileSync(join(dir, 'fresh', 'inside'), 'd');
      const wanted = ['existing', 'created', 'fresh'].map((n) => join(dir, n));
      const covered = (p: string): boolean => sink.paths.includes(p) || sink.rescans.some(([d]) => d === dir);
      // A generous deadline: CI machines are shared and noisy, and one run there once took longer than 5 s.
      await eventually(
        () => (wanted.every(covered) ? true : undefined),
        20_000,
        () => `events for ${wanted.join(', ')}; got ${JSON.stringify(sink.paths)}`,
      );
      // Events do flow (not only rescans): the new directory is handed over whole, as a path of its own.
      await eventually(
        () => (sink.paths.includes(join(dir, 'fresh')) ? true : undefined),
        20_000,
        () => `the new directory as an event; got ${JSON.stringify(sink.paths)}`,
      );
    } finally {
      await watcher.close();
    }
  });

  it('polls a directory it cannot watch, and says so', async () => {
    const dir = tempDir();
    const missing = join(dir, 'not-there');
    const sink = recorder();
    const said: string[] = [];
    const watcher = await watchRealtime([dir, missing], sink, (m) => said.push(m), { pollMs: 100 });
    try {
      assert.deepEqual(watcher.native, [dir]);
      assert.deepEqual(watcher.polled, [missing]);
      assert.match(said.join('\n'), new RegExp(`cannot watch ${missing} in realtime .*rescanning it every 0.1 s instead`));
      await eventually(() => (sink.rescans.some(([d, why]) => d === missing && why === 'polling') ? true : undefined), 5000, 'a polling rescan');
    } finally {
      await watcher.close();
    }
  });

  it('rescans natively watched directories periodically, for what the watcher cannot report (queue overflow)', async () => {
    const dir = tempDir();
    const sink = recorder();
    const watcher = await watchRealtime([dir], sink, () => {}, { reconcileMs: 100 });
    try {
      await eventually(() => (sink.rescans.filter(([d, why]) => d === dir && why === 'reconcile').length >= 2 ? true : undefined), 5000, 'reconcile rescans');
    } finally {
      await watcher.close();
    }
    const after = sink.rescans.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(sink.rescans.length, after, 'no rescans after close');
  });

  it('watches `/` itself, skipping the ignored trees, and reports paths below it with one leading slash', async () => {
    const kept = optTempDir();
    const sink = recorder();
    const said: string[] = [];
    // Everything but `kept` is ignored: without the ignores reaching the watcher, it would walk `/proc` and fail.
    const ignore = ignoresAround(kept);
    const watcher = await watchRealtime(['/'], sink, (m) => said.push(m), { ignore: (dir) => (dir === '/' ? ignore : []) });
    try {
      assert.deepEqual(watcher.native, ['/'], said.join('\n'));
      writeFileSync(join(kept, 'created'), 'c');
      mkdirSync(join(kept, 'fresh'));
      await eventually(
        () => (sink.paths.includes(join(kept, 'created')) && sink.paths.includes(join(kept, 'fresh')) ? true : undefined),
        20_000,
        () => `events below /; got ${JSON.stringify(sink.paths)}`,
      );
      assert.ok(
        sink.paths.every((p) => !p.startsWith('//')),
        JSON.stringify(sink.paths),
      );
    } finally {
      await watcher.close();
    }
  });
});
