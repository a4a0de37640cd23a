import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileOsRegex } from './os-regex.js';

describe('compileOsRegex: OSSEC regex and its quirks', () => {
  const cases: [string, string, boolean, string][] = [
    ['^\\d\\d\\d', '333', true, 'digits, anchored'],
    ['^\\d\\d\\d', 'f44', false, 'anchored at the start only'],
    ['\\w+@\\w+', 'mail root@web-1 ok', true, '\\w includes @ and -'],
    ['^\\w+$', 'web-1_a@b', true, '\\w is A-Za-z0-9 - @ _'],
    ['^\\w+$', 'a.b', false, '. is not \\w'],
    ['a\\sb', 'a b', true, '\\s is a space'],
    ['a\\sb', 'a\tb', false, '\\s is not a tab'],
    ['a\\tb', 'a\tb', true, '\\t is a tab'],
    ['^\\p+$', '!"#$%&()*+,-.:;<=>?[]{|}\'', true, "\\p is OSSEC's punctuation set"],
    ['\\p', '/', false, '/ is not punctuation to OSSEC'],
    ['^a.c$', 'abc', false, 'a bare . is a literal dot'],
    ['^a.c$', 'a.c', true, 'a bare . is a literal dot'],
    ['^a\\.c$', 'abc', true, '\\. is any character'],
    ['^ab+$', 'abb', false, '+ after a plain character is literal'],
    ['^ab+$', 'ab+', true, '+ after a plain character is literal'],
    ['^a\\d*b$', 'ab', true, '* after a backslash item repeats it'],
    ['^\\d+$', '', false, '+ means at least one'],
    ['^/usr/s?bin/', '/usr/bin/x', false, '? is a literal question mark (OSSEC has no optional)'],
    ['/ETC/PASSWD', "for: '/etc/passwd'", true, 'case-insensitive'],
    ['^foo|bar$', 'xbar', true, 'anchors apply per alternative'],
    ['^foo|bar$', 'barx', false, 'anchors apply per alternative'],
    ['cost \\$5', 'cost $5', true, '\\$ is a literal dollar'],
    ['a$b', 'a$b', true, '$ in the middle is literal'],
    ['\\(x\\)', '(x)', true, 'escaped parentheses are literal'],
    ['^(\\d+)-(\\w+)$', '12-ab', true, 'one level of groups'],
    [
      "Permissions changed from '\\D+' to '\\D\\D\\D\\D\\D\\D\\Dw\\D'",
      "Permissions changed from 'rw-r--r--' to 'rw-r--rw-'",
      true,
      'the world-writable example from the wild',
    ],
  ];
  for (const [pattern, text, expected, why] of cases) {
    it(`${why}: ${pattern} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(text)}`, () => {
      assert.equal(compileOsRegex(pattern).test(text), expected);
    });
  }
  for (const [pattern, why] of [
    ['\\q', 'unknown escape'],
    ['((a))', 'nested parentheses'],
    ['(a|b)', '| inside parentheses'],
    ['(a', 'unbalanced'],
    ['a\\', 'trailing backslash'],
  ]) {
    it(`refuses ${pattern} (${why}), as OSSEC does`, () => {
      assert.throws(() => compileOsRegex(pattern as string), /invalid OSSEC regex/);
    });
  }
});

describe('compileOsRegex: linear-time matching', () => {
  // A backtracking engine tries every way to split the run of word characters among the seven stars before it
  // gives up: on a 4,000-byte path that is minutes. RE2's automaton answers in one pass. No clock here: the
  // test finishing at all (the runner's timeout would stop a stalled one) is the point.
  const path = `/${Array.from({ length: 16 }, () => 'a'.repeat(249)).join('/')}`;
  it('answers \\w*\\w*\\w*\\w*\\w*\\w*\\w*!$ against a 4,000-byte path, both ways', () => {
    assert.ok(path.length >= 4000);
    const hostile = compileOsRegex('\\w*\\w*\\w*\\w*\\w*\\w*\\w*!$');
    assert.equal(hostile.test(path), false);
    assert.equal(hostile.test(`${path}!`), true);
    assert.equal(hostile.test(`Integrity checksum changed for: '${path}'\nSize changed from '1' to '2'`), false);
  });
  it('answers (\\w+)+ style nesting OSSEC allows, against the same path', () => {
    assert.equal(compileOsRegex('^(\\w+\\w+\\w+)\\d$').test(path), false);
  });
});
