import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoFromNs } from './time-ns.js';

/** The formatting before the arithmetic fast path, through `Date` alone: what every output must stay equal to. */
function byDate(ns: bigint): string {
  const secs = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n);
  const frac = ns - secs * 1_000_000_000n;
  return `${new Date(Number(secs) * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

describe('isoFromNs', () => {
  it('writes RFC 3339 UTC with nine fraction digits', () => {
    assert.equal(isoFromNs(0n), '1970-01-01T00:00:00.000000000Z');
    assert.equal(isoFromNs(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
    assert.equal(isoFromNs(-1n), '1969-12-31T23:59:59.999999999Z');
  });

  it('prints every day and second as Date does, leap days and century years included', () => {
    const edges = [
      951_782_399n, // 2000-02-28T23:59:59 (2000 is a leap year)
      951_868_800n, // 2000-03-01
      4_107_542_399n, // 2100-02-28T23:59:59 (2100 is not)
      4_107_542_400n,
      253_402_300_799n, // 9999-12-31T23:59:59, the last four-digit second
      253_402_300_800n, // 10000-01-01: six year digits and a sign, as Date writes them
    ];
    for (const secs of edges) for (const ns of [secs * 1_000_000_000n, secs * 1_000_000_000n + 999_999_999n]) assert.equal(isoFromNs(ns), byDate(ns));
    // Every day from 1970 to 2200 at a second that moves through the day, and random instants up to year 9999.
    for (let day = 0n; day < 84_000n; day++) {
      const ns = (day * 86_400n + ((day * 7919n) % 86_400n)) * 1_000_000_000n + day;
      assert.equal(isoFromNs(ns), byDate(ns));
    }
    let seed = 12345;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      const ns = BigInt(Math.floor((seed / 2_147_483_648) * 253_402_300_800)) * 1_000_000_000n + BigInt(seed % 1_000_000_000);
      assert.equal(isoFromNs(ns), byDate(ns));
    }
  });
});
