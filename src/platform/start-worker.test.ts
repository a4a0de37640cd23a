import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { tempDir } from '../../test/support/temp-dir.js';
import { DEFAULT_YOUNG_GENERATION_MB, startWorker } from './start-worker.js';

const MB = 1 << 20;

// A worker that keeps 24 MB of small objects alive: scavenges with that many survivors grow its young generation as
// far as its limit allows. It reports the largest its new space got.
const GROW = `
import { parentPort } from 'node:worker_threads';
import { getHeapSpaceStatistics } from 'node:v8';
const kept = [];
let largest = 0;
for (let i = 0; i < 24 * 1024; i++) {
  kept.push(Array.from({ length: 100 }, (_, j) => ({ i, j })));
  if (i % 256 === 0) largest = Math.max(largest, getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
}
parentPort.postMessage({ largest, kept: kept.length });
`;

async function largestNewSpace(resourceLimits?: { maxYoungGenerationSizeMb: number }): Promise<number> {
  const script = join(tempDir(), 'grow.mjs');
  writeFileSync(script, GROW);
  const worker = startWorker(pathToFileURL(script), resourceLimits === undefined ? {} : { resourceLimits });
  const [reply] = (await once(worker, 'message')) as [{ largest: number }];
  await worker.terminate();
  return reply.largest;
}

describe('startWorker', () => {
  it('gives a worker the young generation its caller asks for', async () => {
    // 3 MB of young generation: 1 MB semi-spaces, a new space of at most two of them.
    const small = await largestNewSpace({ maxYoungGenerationSizeMb: 3 });
    assert.ok(small > 0 && small <= 2 * MB, `new space grew to ${small} bytes`);
  });

  it('gives every other worker 4 MB semi-spaces, and lets it grow to them', async () => {
    const semiSpace = (DEFAULT_YOUNG_GENERATION_MB / 3) * MB;
    const largest = await largestNewSpace();
    assert.ok(largest > 2 * MB && largest <= 2 * semiSpace, `new space grew to ${largest} bytes`);
  });
});
