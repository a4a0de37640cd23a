/**
 * Child process of release-memory.test.ts: with `limit` as its argument it calls `limitMallocArenas` first; then six
 * worker threads allocate, and it prints how many malloc arenas the process had before them and after (glibc aligns
 * each arena's heap to 64 MB: anonymous mappings that start on such a boundary). The workers run plain JavaScript
 * without the test's loader, whose own threads would add arenas of their own.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { limitMallocArenas } from '../../src/agent/release-memory.js';

const ARENA_ALIGN = 64n << 20n;
const arenas = (): number =>
  readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => {
      const m = /^([0-9a-f]+)-[0-9a-f]+ \S+\s+\S+\s+\S+\s+0\s*$/.exec(line);
      return m !== null && BigInt(`0x${m[1] ?? '1'}`) % ARENA_ALIGN === 0n;
    }).length;
if (process.argv[2] === 'limit') limitMallocArenas();
const before = arenas();
const source = `const kept = []; for (let i = 0; i < 2000; i++) kept.push(Buffer.alloc(1000 + i)); require('node:worker_threads').parentPort.postMessage(kept.length);`;
const workers = Array.from({ length: 6 }, () => new Worker(source, { eval: true, execArgv: [] }));
await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
process.stdout.write(`${before} ${arenas()}\n`);
await Promise.all(workers.map((w) => w.terminate()));
