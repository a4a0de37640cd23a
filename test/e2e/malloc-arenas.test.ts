import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkWorkspace } from '../support/check-workspace.js';
import { CUSTOS_BIN } from '../support/run-custos.js';

/**
 * `limitMallocArenas` in a process started as the agent's is (plain Node, no test loader): glibc fixes its arena
 * limit for good once a process has more than 8 arenas, and a loader such as tsx runs threads of its own, so this
 * runs from the build. The child counts the arenas before and after six allocating worker threads.
 */
const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const COUNT_ARENAS = fileURLToPath(new URL(`../support/count-malloc-arenas.${ext}`, import.meta.url));

function count(args: string[]): [before: number, after: number] {
  const [before, after] = execFileSync(process.execPath, [COUNT_ARENAS, ...args], { encoding: 'utf8' })
    .trim()
    .split(' ')
    .map(Number);
  return [before ?? NaN, after ?? NaN];
}

describe('limitMallocArenas', () => {
  it('makes the threads started after it share two malloc arenas (glibc gives each its own)', () => {
    const [unlimitedBefore, unlimited] = count([]);
    const [limitedBefore, limited] = count(['limit']);
    assert.ok(unlimited >= unlimitedBefore + 4, `six allocating worker threads without the limit: ${unlimitedBefore} -> ${unlimited} arenas`);
    assert.ok(limited <= Math.max(2, limitedBefore), `with the limit: ${limitedBefore} -> ${limited} arenas`);
  });
});

/**
 * Preloaded into `custos check` (NODE_OPTIONS --require; it runs before the launcher): as the main thread exits,
 * writes how many malloc arena heaps other than the main one the process has to $ARENA_LOG. Each is 64 MB of
 * address space on a 64 MB boundary: its used part, read-write, then the rest, inaccessible (or all of it used).
 */
const ARENA_PROBE = `
const { isMainThread } = require('node:worker_threads');
const { readFileSync, writeFileSync } = require('node:fs');
const SIZE = 64n << 20n;
if (isMainThread) process.on('exit', () => {
  const maps = readFileSync('/proc/self/maps', 'utf8').trim().split('\\n').map((line) => line.trim().split(/\\s+/));
  const range = (m) => m[0].split('-').map((x) => BigInt('0x' + x));
  let heaps = 0;
  maps.forEach((m, i) => {
    const [start, end] = range(m);
    if (m.length !== 5 || m[1] !== 'rw-p' || start % SIZE !== 0n) return;
    const next = maps[i + 1];
    if (end - start === SIZE || (next !== undefined && next[1] === '---p' && range(next)[0] === end && range(next)[1] === start + SIZE)) heaps++;
  });
  writeFileSync(process.env.ARENA_LOG, String(heaps));
});
`;

describe('custos check', () => {
  it('runs its threads on two malloc arenas (the launcher limits them before the CLI loads)', () => {
    const ws = checkWorkspace();
    // Enough files for several hash batches: the walk thread and both hash workers allocate.
    for (let i = 0; i < 1500; i++) writeFileSync(join(ws.tree, `f${i}`), `${i}\n`);
    const probe = join(ws.dir, 'arena-probe.cjs');
    writeFileSync(probe, ARENA_PROBE);
    const log = join(ws.dir, 'arenas');
    const r = spawnSync(process.execPath, [CUSTOS_BIN, 'check', ...ws.args], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: `--require ${probe}`, ARENA_LOG: log },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /scanned 1501 entries/);
    // The main arena (the brk heap) and at most one more; without the limit this check ended with six more.
    const heaps = Number(readFileSync(log, 'utf8'));
    assert.ok(heaps <= 1, `malloc arena heaps besides the main one: ${heaps}`);
  });
});
