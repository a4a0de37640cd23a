import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareDebianVersions } from './debian-version.js';

// Orderings Debian policy §5.6.12 spells out (test/e2e/debian-version.test.ts checks many more against dpkg).
describe('compareDebianVersions', () => {
  const ascending = ['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0-1', '1.0-1+deb12u1', '1.0a', '1.0+b1', '1.1', '1.10', '2:0.1'];
  it('orders versions as policy says: ~ before anything, letters before other characters, numbers as numbers, epochs first', () => {
    for (let i = 0; i < ascending.length; i++) {
      for (let j = 0; j < ascending.length; j++) {
        const a = ascending[i] as string;
        const b = ascending[j] as string;
        assert.equal(compareDebianVersions(a, b), Math.sign(i - j), `${a} vs ${b}`);
      }
    }
  });
  it('treats leading zeros and an absent epoch as equal', () => {
    assert.equal(compareDebianVersions('01.0', '1.00'), 0);
    assert.equal(compareDebianVersions('0:1.0', '1.0'), 0);
  });
});
