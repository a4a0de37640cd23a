import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { eventually } from '../../test/support/custos-service.js';
import { tempDir } from '../../test/support/temp-dir.js';

// The watcher under a low watch limit runs in a child process in a user namespace of its own, whose
// max_inotify_watches (per user namespace since Linux 5.11) the child lowers: the machine's own limit is not touched.
const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const CHILD = fileURLToPath(new URL(`../../test/support/watch-under-limit.${ext}`, import.meta.url));
const POLL_MS = 300;

interface Said {
  ready?: { native: string[]; polled: string[] };
  logs: string[];
  paths: string[];
  rescans: [string, string][];
}

/** Starts the watcher over `dirs` with at most `limit` inotify watches; what it says is collected. */
function watchUnderLimit(limit: number, dirs: readonly string[]): { child: ChildProcess; said: Said } {
  const script = `echo ${limit} > /proc/sys/user/max_inotify_watches && exec "$@"`;
  const child = spawn('unshare', ['-U', '-r', 'sh', '-c', script, 'sh', process.execPath, ...process.execArgv, CHILD, ...dirs], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, CUSTOS_TEST_POLL_MS: String(POLL_MS) },
  });
  const said: Said = { logs: [], paths: [], rescans: [] };
  let partial = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const message = JSON.parse(line) as { ready?: Said['ready']; log?: string; paths?: string[]; rescan?: [string, string] };
      if (message.ready !== undefined) said.ready = message.ready;
      if (message.log !== undefined) said.logs.push(message.log);
      if (message.paths !== undefined) said.paths.push(...message.paths);
      if (message.rescan !== undefined) said.rescans.push(message.rescan);
    }
  });
  return { child, said };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  await exited;
}

/** A directory with `count` subdirectories (so `count + 1` watches). */
function treeOf(parent: string, name: string, count: number): string {
  const root = join(parent, name);
  for (let i = 0; i < count; i++) mkdirSync(join(root, `d${i}`), { recursive: true });
  return root;
}

const ready = (said: Said): Promise<NonNullable<Said['ready']>> => eventually(() => said.ready, 20_000, 'the watcher to start');

const canUnshare = spawnSync('unshare', ['-U', '-r', 'sh', '-c', 'echo 1 > /proc/sys/user/max_inotify_watches']).status === 0;

describe(
  'the realtime watcher at the inotify watch limit (ENOSPC), in a user namespace with a low limit',
  { skip: canUnshare ? false : 'needs unshare -U and a writable per-namespace max_inotify_watches (Linux 5.11+)' },
  () => {
    it('polls a root that does not fit, says so, gives its watches back to the roots that fit, and reports changes in both', async () => {
      const dir = tempDir();
      const small = treeOf(dir, 'small', 10);
      const large = treeOf(dir, 'large', 60);
      // 50 watches: the small root (11) fits; the large one (61) reaches the limit part way.
      const { child, said } = watchUnderLimit(50, [small, large]);
      try {
        const { native, polled } = await ready(said);
        assert.deepEqual(native, [small]);
        assert.deepEqual(polled, [large]);
        assert.ok(
          said.logs.some(
            (m) => m.includes(`cannot watch ${large} in realtime (ENOSPC: the inotify watch limit`) && m.includes('rescanning it every 0.3 s instead'),
          ),
          JSON.stringify(said.logs),
        );
        // Not a silent miss: a change in the root that does not fit is found by rescanning it.
        writeFileSync(join(large, 'd59', 'changed'), 'x');
        const rescansBefore = said.rescans.length;
        await eventually(
          () => (said.rescans.slice(rescansBefore).some(([d, why]) => d === large && why === 'polling') ? true : undefined),
          20_000,
          () => `a polling rescan of ${large}; got ${JSON.stringify(said.rescans)}`,
        );
        // The watches the large root took before it failed were given back: 30 more directories in the small root
        // (41 watches in all) are all watched, and a file written in the last is reported by its path.
        for (let i = 0; i < 30; i++) mkdirSync(join(small, `new${i}`));
        await eventually(
          () => (said.paths.includes(join(small, 'new29')) ? true : undefined),
          20_000,
          () => `new29 reported; got ${JSON.stringify(said.paths)}`,
        );
        writeFileSync(join(small, 'new29', 'inside'), 'y');
        await eventually(
          () => (said.paths.includes(join(small, 'new29', 'inside')) ? true : undefined),
          20_000,
          () => `new29/inside reported; got ${JSON.stringify(said.paths)}`,
        );
        assert.ok(!said.logs.some((m) => m.includes(join(small, 'new'))), JSON.stringify(said.logs));
      } finally {
        await stop(child);
      }
    });

    it('a new directory past the limit is reported, said to be unwatchable, and polled from then on', async () => {
      const dir = tempDir();
      const root = treeOf(dir, 'root', 5);
      // 10 watches: the root takes 6; a new directory with 8 below it (9 watches) does not fit.
      const { child, said } = watchUnderLimit(10, [root]);
      try {
        assert.deepEqual((await ready(said)).native, [root]);
        const fresh = treeOf(root, 'fresh', 8);
        await eventually(
          () => (said.paths.includes(fresh) ? true : undefined),
          20_000,
          () => `${fresh} reported; got ${JSON.stringify(said.paths)}`,
        );
        assert.ok(
          said.logs.some((m) => m.includes(`cannot watch ${fresh} in realtime (ENOSPC`)),
          JSON.stringify(said.logs),
        );
        // What is written below it later, where no watch could be added, is found by polling it.
        writeFileSync(join(fresh, 'd7', 'late'), 'z');
        const rescansBefore = said.rescans.length;
        await eventually(
          () => (said.rescans.slice(rescansBefore).some(([d, why]) => d === fresh && why === 'polling') ? true : undefined),
          20_000,
          () => `a polling rescan of ${fresh}; got ${JSON.stringify(said.rescans)}`,
        );
        // The directories that fit are still watched natively.
        writeFileSync(join(root, 'd0', 'still'), 's');
        await eventually(
          () => (said.paths.includes(join(root, 'd0', 'still')) ? true : undefined),
          20_000,
          () => `d0/still reported; got ${JSON.stringify(said.paths)}`,
        );
      } finally {
        await stop(child);
      }
    });
  },
);
