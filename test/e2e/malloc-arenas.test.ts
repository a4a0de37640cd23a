import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

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
