import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually } from '../../test/support/custos-service.js';
import { bytesPath, tempDir } from '../../test/support/temp-dir.js';
import { watchRealtime, type RealtimeSink, type RealtimeWatcher } from './realtime-watcher.js';

/** A sink that keeps what it was told. */
function recorder(): RealtimeSink & { paths: string[]; rescans: [string, string][] } {
  const paths: string[] = [];
  const rescans: [string, string][] = [];
  return { paths, rescans, onPaths: (p) => void paths.push(...p), onRescan: (dir, reason) => void rescans.push([dir, reason]) };
}

/** Waits until every path in `wanted` was reported. */
async function reported(sink: { paths: string[] }, wanted: readonly string[]): Promise<void> {
  await eventually(
    () => (wanted.every((p) => sink.paths.includes(p)) ? true : undefined),
    20_000,
    () => `${JSON.stringify(wanted)}; got ${JSON.stringify(sink.paths)}`,
  );
}

async function watching(dir: string, sink: RealtimeSink, log: (m: string) => void = () => {}): Promise<RealtimeWatcher> {
  // Reconcile rescans far away: these tests look at what inotify itself reports.
  const watcher = await watchRealtime([dir], sink, log, { reconcileMs: 3_600_000 });
  assert.deepEqual(watcher.native, [dir]);
  return watcher;
}

const threads = (): number => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);

describe('the native inotify watcher, on real files', () => {
  it('reports a file created, modified, deleted and renamed (both names) by its path, and adds no thread', async () => {
    const dir = tempDir();
    for (const name of ['modified', 'deleted', 'renamed']) writeFileSync(join(dir, name), 'a');
    for (let i = 0; i < 20; i++) mkdirSync(join(dir, `d${i}`, 'e'), { recursive: true });
    const sink = recorder();
    const before = threads();
    const watcher = await watching(dir, sink);
    try {
      writeFileSync(join(dir, 'created'), 'c');
      appendFileSync(join(dir, 'modified'), 'b');
      unlinkSync(join(dir, 'deleted'));
      renameSync(join(dir, 'renamed'), join(dir, 'renamed-to'));
      writeFileSync(join(dir, 'd7', 'e', 'deep'), 'd');
      await reported(
        sink,
        ['created', 'modified', 'deleted', 'renamed', 'renamed-to', 'd7/e/deep'].map((n) => join(dir, n)),
      );
      assert.equal(threads(), before, 'the watcher is read on the event loop, not by a thread of its own');
    } finally {
      await watcher.close();
    }
  });

  it('watches a new directory (and the ones made in it) before reporting it, so what is written there later is reported by path', async () => {
    const dir = tempDir();
    const sink = recorder();
    const watcher = await watching(dir, sink);
    try {
      mkdirSync(join(dir, 'fresh', 'x', 'y'), { recursive: true });
      writeFileSync(join(dir, 'fresh', 'x', 'y', 'early'), 'e');
      await reported(sink, [join(dir, 'fresh')]);
      writeFileSync(join(dir, 'fresh', 'x', 'y', 'later'), 'l');
      writeFileSync(join(dir, 'fresh', 'later'), 'l');
      await reported(sink, [join(dir, 'fresh', 'x', 'y', 'later'), join(dir, 'fresh', 'later')]);
    } finally {
      await watcher.close();
    }
  });

  it('follows a renamed directory: what changes below it afterwards is reported under its new name only', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'old', 'sub'), { recursive: true });
    const sink = recorder();
    const watcher = await watching(dir, sink);
    try {
      renameSync(join(dir, 'old'), join(dir, 'new'));
      await reported(sink, [join(dir, 'old'), join(dir, 'new')]);
      sink.paths.length = 0;
      writeFileSync(join(dir, 'new', 'sub', 'file'), 'f');
      await reported(sink, [join(dir, 'new', 'sub', 'file')]);
      assert.ok(!sink.paths.some((p) => p.startsWith(join(dir, 'old'))), JSON.stringify(sink.paths));
    } finally {
      await watcher.close();
    }
  });

  it('hands a name that is not UTF-8 over as its nearest UTF-8 directory, and a name with a newline as it is', async () => {
    const dir = tempDir();
    const sink = recorder();
    const watcher = await watching(dir, sink);
    try {
      writeFileSync(bytesPath(dir, '/bad-', Buffer.from([0xff, 0xfe])), 'x');
      mkdirSync(bytesPath(dir, '/dir-', Buffer.from([0xc3, 0x28])));
      writeFileSync(join(dir, 'line\nbreak'), 'y');
      await reported(sink, [dir, join(dir, 'line\nbreak')]);
      // The directory with the undecodable name is watched all the same: a file made in it later is reported (as the
      // nearest directory that can be named).
      sink.paths.length = 0;
      writeFileSync(bytesPath(dir, '/dir-', Buffer.from([0xc3, 0x28]), '/inside'), 'z');
      await reported(sink, [dir]);
      assert.ok(
        sink.paths.every((p) => !p.includes('\uFFFD')),
        JSON.stringify(sink.paths),
      );
    } finally {
      await watcher.close();
    }
  });

  it('does not follow a symlink below the root: changes where it points are not reported, the link itself is', async () => {
    const dir = tempDir();
    const outside = tempDir();
    mkdirSync(join(outside, 'sub'));
    symlinkSync(outside, join(dir, 'link'));
    const sink = recorder();
    const watcher = await watching(dir, sink);
    try {
      symlinkSync(join(outside, 'sub'), join(dir, 'link2'));
      writeFileSync(join(outside, 'f'), 'f');
      writeFileSync(join(outside, 'sub', 'g'), 'g');
      // A change made after those, so that their events (had there been any) were read before it.
      writeFileSync(join(dir, 'marker'), 'm');
      await reported(sink, [join(dir, 'link2'), join(dir, 'marker')]);
      assert.deepEqual(
        sink.paths.filter((p) => p.startsWith(join(dir, 'link')) && p !== join(dir, 'link2')),
        [],
      );
      assert.ok(!sink.paths.some((p) => p.startsWith(outside)), JSON.stringify(sink.paths));
    } finally {
      await watcher.close();
    }
  });

  it(
    'reports the kernel queue overflow (events lost) and rescans every watched directory',
    { skip: process.getuid?.() === 0 ? false : 'lowering fs.inotify.max_queued_events needs root' },
    async () => {
      const dir = tempDir();
      const sink = recorder();
      const said: string[] = [];
      // The queue limit is global, and read when an inotify instance is made: lowered only while this watcher's
      // instance is made, and put back at once.
      const setting = '/proc/sys/fs/inotify/max_queued_events';
      const original = readFileSync(setting, 'utf8').trim();
      let watcher: RealtimeWatcher;
      try {
        writeFileSync(setting, '16');
        watcher = await watching(dir, sink, (m) => said.push(m));
      } finally {
        writeFileSync(setting, original);
      }
      assert.equal(readFileSync(setting, 'utf8').trim(), original);
      try {
        // Far more events than 16, written without yielding to the event loop that reads them; then a directory
        // whose creation event is lost with them.
        for (let i = 0; i < 200; i++) writeFileSync(join(dir, `f${i}`), 'x');
        mkdirSync(join(dir, 'made-while-lost'));
        await eventually(
          () => (sink.rescans.some(([d, why]) => d === dir && why === 'overflow') ? true : undefined),
          20_000,
          () => `an overflow rescan; got ${JSON.stringify(sink.rescans)}`,
        );
        assert.match(said.join('\n'), /event queue overflowed .*changes were lost; rescanning/);
        // The roots were walked again before the rescan: the directory made while events were lost is watched.
        writeFileSync(join(dir, 'made-while-lost', 'later'), 'l');
        await reported(sink, [join(dir, 'made-while-lost', 'later')]);
      } finally {
        await watcher.close();
      }
    },
  );
});
