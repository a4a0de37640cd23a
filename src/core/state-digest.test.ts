import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { pathKey } from './path-bytes.js';
import { StateDigest } from './state-digest.js';

type Entry = readonly [path: string | Buffer, fingerprint: string];

function digestOf(entries: readonly Entry[]): { hex: string; entries: number } {
  const d = new StateDigest();
  for (const [path, fp] of entries) d.add(pathKey(typeof path === 'string' ? Buffer.from(path) : path), fp);
  return { hex: d.hex(), entries: d.entries };
}

const fp = (n: number): string => `file|${n}|1700000000000000000|1700000000000000000|${1000 + n}|2049|root|root|mS`;
const state: Entry[] = [
  ['/etc', 'directory|4096|1|1|2|2049|root|root|'],
  ['/etc/group', fp(1)],
  ['/etc/hosts', fp(2)],
  ['/etc/passwd', fp(3)],
];

describe('StateDigest', () => {
  it('is SHA-256 over "key NUL fingerprint LF" per entry, in the order added', () => {
    const expected = createHash('sha256');
    for (const [path, f] of state)
      expected
        .update(pathKey(Buffer.from(path)))
        .update('\0')
        .update(f)
        .update('\n');
    assert.deepEqual(digestOf(state), { hex: expected.digest('hex'), entries: 4 });
  });
  it('is the SHA-256 of nothing for an empty state', () => {
    assert.deepEqual(digestOf([]), { hex: createHash('sha256').digest('hex'), entries: 0 });
  });
  it('is deterministic: equal states in key order give equal digests', () => {
    assert.equal(digestOf(state).hex, digestOf(state.map(([p, f]) => [p, f] as const)).hex);
  });
  it('is order-defined, not order-independent: both sides must add entries in key order', () => {
    const reversed = [...state].reverse();
    assert.notEqual(digestOf(reversed).hex, digestOf(state).hex);
  });
  it('changes when any entry changes: its fingerprint, its path, or one byte of either', () => {
    const base = digestOf(state).hex;
    const seen = new Set([base]);
    for (let i = 0; i < state.length; i++) {
      const [path, f] = state[i]!;
      const variants: Entry[] = [
        [path, `${f}x`],
        [path, f.replace('root', 'toor')],
        [path, ''],
        [`${String(path)}~`, f],
        [String(path).slice(0, -1), f],
      ];
      for (const variant of variants) {
        const changed = state.with(i, variant);
        const hex = digestOf(changed).hex;
        assert.ok(!seen.has(hex), `entry ${i} changed to ${JSON.stringify(variant)}`);
        seen.add(hex);
      }
    }
  });
  it('changes when an entry is added or removed', () => {
    const base = digestOf(state).hex;
    assert.notEqual(digestOf(state.slice(0, -1)).hex, base);
    assert.notEqual(digestOf(state.slice(1)).hex, base);
    assert.notEqual(digestOf([...state, ['/etc/shadow', fp(4)]]).hex, base);
    assert.equal(digestOf([...state, ['/etc/shadow', fp(4)]]).entries, 5);
  });
  it('does not confuse where a path ends and its fingerprint begins', () => {
    // With a bare concatenation these would hash the same bytes.
    assert.notEqual(digestOf([['/etc/a', 'bc']]).hex, digestOf([['/etc/ab', 'c']]).hex);
  });
  it('hashes exact path bytes: a non-UTF-8 name differs from its replacement-character rendering', () => {
    const raw = Buffer.concat([Buffer.from('/tmp/'), Buffer.from([0xff])]);
    assert.notEqual(digestOf([[raw, fp(1)]]).hex, digestOf([['/tmp/\ufffd', fp(1)]]).hex);
    assert.notEqual(digestOf([[raw, fp(1)]]).hex, digestOf([[Buffer.concat([Buffer.from('/tmp/'), Buffer.from([0xfe])]), fp(1)]]).hex);
  });
});
