import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDurationMs, parseSizeBytes } from './units.js';

describe('units', () => {
  it('parses durations', () => {
    assert.equal(parseDurationMs('21600'), 21_600_000);
    assert.equal(parseDurationMs('6h'), 21_600_000);
    assert.equal(parseDurationMs('1h30m'), 5_400_000);
    assert.equal(parseDurationMs('7d'), 604_800_000);
    assert.equal(parseDurationMs(60), 60_000);
    assert.equal(parseDurationMs('soon'), undefined);
    assert.equal(parseDurationMs('6hx'), undefined);
  });
  it('parses sizes', () => {
    assert.equal(parseSizeBytes('1GiB'), 1024 ** 3);
    assert.equal(parseSizeBytes('100MB'), 100_000_000);
    assert.equal(parseSizeBytes('512k'), 524_288);
    assert.equal(parseSizeBytes('4096'), 4096);
    assert.equal(parseSizeBytes('1 zettabyte'), undefined);
  });
});
