import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monthBefore, monthOf, nextMonth, retentionBoundary } from './history-retention.js';

const DAY = 86_400_000;

describe('history retention boundary', () => {
  it('keeps whole months: the boundary is the first instant of the month holding now minus the retention', () => {
    assert.equal(retentionBoundary(new Date('2026-11-30T03:00:00.000Z'), 400 * DAY), '2025-10-01T00:00:00.000Z');
    assert.equal(retentionBoundary(new Date('2026-03-01T00:00:00.000Z'), 0), '2026-03-01T00:00:00.000Z');
    assert.equal(retentionBoundary(new Date('2026-01-15T12:00:00.000Z'), 30 * DAY), '2025-12-01T00:00:00.000Z');
  });
  it('names the month of a record time, and none for a time without one', () => {
    assert.equal(monthOf('2026-11-27T10:00:00.000Z'), '2026-11');
    assert.equal(monthOf('2026-13-01T00:00:00.000Z'), undefined);
    assert.equal(monthOf('yesterday'), undefined);
  });
  it('steps months across a year and tells which lie wholly before a boundary', () => {
    assert.equal(nextMonth('2025-12'), '2026-01');
    assert.equal(nextMonth('2026-09'), '2026-10');
    assert.equal(monthBefore('2026-02', '2026-03-01T00:00:00.000Z'), true);
    assert.equal(monthBefore('2026-03', '2026-03-01T00:00:00.000Z'), false);
    assert.equal(monthBefore('2025-12', '2026-01-01T00:00:00.000Z'), true);
  });
});
