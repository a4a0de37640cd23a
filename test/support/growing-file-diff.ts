import assert from 'node:assert/strict';

/**
 * Checks the diff of a file a writer kept appending `x\n` lines to (it started as `start\n`): either the diff
 * says the file changed while its content was read, or the writer paused between the hash and the read (a loaded
 * machine) and the diff is then of exactly the version the alert reports (its size: 6 bytes and one `x\n` per
 * added line). Used by the standalone and the fleet report_changes tests alike.
 */
export function assertGrowingFileDiff(diffField: unknown, sizeAfter: unknown): void {
  const diff = String(diffField);
  if (diff.startsWith('diff not available')) {
    assert.match(diff, /^diff not available: the file changed while its content was read \(size 6 -> \d+ bytes/);
    return;
  }
  const added = diff.split('\n').filter((l) => l === '+x').length + Number(/… (\d+) more lines/.exec(diff)?.[1] ?? 0);
  assert.equal(6 + 2 * added, Number(sizeAfter), diff.slice(0, 200));
}
