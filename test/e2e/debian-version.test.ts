import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { compareDebianVersions } from '../../src/core/debian-version.js';

// Pairs that exercise every rule: epochs, revisions, tildes, letters against other characters, leading zeros.
const VERSIONS = [
  '1.0',
  '1.0-1',
  '1.0-2',
  '1.0-10',
  '1:0.9',
  '2:0',
  '1.0~rc1',
  '1.0~rc1~1',
  '1.0~~',
  '1.0a',
  '1.0+b1',
  '1.0.1',
  '1.00',
  '01.0',
  '9.1-1',
  '9.1-1+deb12u1',
  '9.1-1+deb12u10',
  '1.9.13p3-1+deb12u4',
  '1.9.13p3-1',
  '1.9.13',
  '2.36-9+deb12u14',
  '2.36-9',
  '7.2-1+deb12u1',
  '1.0-1ubuntu1',
  '1.0-1.1',
  '1.0-1~bpo12+1',
  '0',
  '0:1.0',
  '1.2.3-4-5',
  '1.0-a',
  '1.0-A',
  '1.0-+',
  '1.0-.',
];

describe('compareDebianVersions against the real dpkg', () => {
  it('orders versions exactly as dpkg --compare-versions does', () => {
    const pairs = VERSIONS.flatMap((a) => VERSIONS.map((b) => [a, b] as const));
    // One shell asks dpkg about every pair (a process per pair from node would take seconds more).
    const script = pairs
      .map(([a, b]) => `if dpkg --compare-versions '${a}' lt '${b}'; then echo -1; elif dpkg --compare-versions '${a}' eq '${b}'; then echo 0; else echo 1; fi`)
      .join('\n');
    const dpkg = execFileSync('sh', [], { input: script, encoding: 'utf8' }).trim().split('\n').map(Number);
    assert.equal(dpkg.length, pairs.length);
    pairs.forEach(([a, b], i) => assert.equal(compareDebianVersions(a, b), dpkg[i], `${a} vs ${b}`));
  });
});
