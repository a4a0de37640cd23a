import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unifiedDiff } from './unified-diff.js';

// Expected texts are what GNU diff 3.8 `diff -u old new` prints (its two file header lines left out).
const CASES: { name: string; before: string; after: string; expected: string }[] = [
  {
    name: 'two changes far apart make two hunks, with line numbers',
    before: 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n',
    after: 'a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nL\nm\nn\n',
    expected: '@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -9,5 +9,6 @@\n i\n j\n k\n-l\n+L\n m\n+n',
  },
  { name: 'a newline added at the end of the file', before: 'x\ny', after: 'x\ny\n', expected: '@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y' },
  { name: 'an empty file filled', before: '', after: 'a\nb\n', expected: '@@ -0,0 +1,2 @@\n+a\n+b' },
  { name: 'a file emptied', before: 'a\nb\n', after: '', expected: '@@ -1,2 +0,0 @@\n-a\n-b' },
  { name: 'a line removed in the middle', before: 'a\nb\nc\n', after: 'a\nc\n', expected: '@@ -1,3 +1,2 @@\n a\n-b\n c' },
  { name: 'identical texts give no diff', before: 'same\n', after: 'same\n', expected: '' },
];

describe('unifiedDiff', () => {
  for (const c of CASES) {
    it(c.name, () => {
      assert.equal(unifiedDiff(c.before, c.after).text, c.expected);
    });
  }

  it('counts added and removed lines', () => {
    const d = unifiedDiff('a\nb\nc\n', 'a\nx\ny\nc\n');
    assert.equal(d.added, 2);
    assert.equal(d.removed, 1);
  });

  it('cuts a long diff with "… N more lines"', () => {
    const before = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const after = Array.from({ length: 500 }, (_, i) => `LINE ${i}`).join('\n') + '\n';
    const d = unifiedDiff(before, after, { maxLines: 10 });
    const lines = d.text.split('\n');
    assert.equal(lines.length, 11);
    assert.equal(lines[10], `… ${d.omittedLines} more lines`);
    assert.equal(d.omittedLines, 1001 - 10);
  });

  it('past maxEdits still gives a true (not minimal) diff', () => {
    const before = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? `even ${i}` : `odd ${i}`)).join('\n') + '\n';
    const after = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `even ${i}` : `three ${i}`)).join('\n') + '\n';
    const bounded = unifiedDiff(before, after, { maxEdits: 5, maxLines: 100_000, context: 1_000_000 });
    assert.equal(applyFullContextDiff(bounded.text, 'new'), after);
    assert.equal(applyFullContextDiff(bounded.text, 'old'), before);
  });

  it('reconstructs both sides of random edits (full context)', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const before = Array.from({ length: rand(30) }, () => `l${rand(6)}`);
      const after = before.filter(() => rand(4) !== 0).flatMap((l) => (rand(5) === 0 ? [l, `n${rand(6)}`] : [l]));
      const a = before.join('\n') + (before.length > 0 ? '\n' : '');
      const b = after.join('\n') + (after.length > 0 ? '\n' : '');
      const d = unifiedDiff(a, b, { maxLines: 100_000, context: 1_000_000 });
      assert.equal(applyFullContextDiff(d.text, 'new'), b, `round ${round}`);
      assert.equal(applyFullContextDiff(d.text, 'old'), a, `round ${round}`);
      // Minimal: never more edits than replacing everything.
      assert.ok(d.added + d.removed <= before.length + after.length);
    }
  });
});

/** One side of a single-hunk, whole-file diff (or '' for no diff of an empty file) rebuilt from its lines. */
function applyFullContextDiff(text: string, side: 'old' | 'new'): string {
  if (text === '') return '';
  const skip = side === 'old' ? '+' : '-';
  const lines = text.split('\n').filter((l) => !l.startsWith('@@') && !l.startsWith(skip) && !l.startsWith('\\'));
  return lines.map((l) => `${l.slice(1)}\n`).join('');
}
