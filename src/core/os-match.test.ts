import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileOsMatch } from './os-match.js';

describe('compileOsMatch (OSSEC sregex)', () => {
  const cases: [string, string, boolean][] = [
    ['.log$|.swp$', '/var/x/app.log', true],
    ['.log$|.swp$', '/var/x/.file.swp', true],
    ['.log$|.swp$', '/var/x/logfile', false],
    ['^/etc/', '/etc/passwd', true],
    ['^/etc/', '/usr/etc/x', false],
    ['/TMP/', '/var/tmp/x', true],
    ['^/etc/hosts$', '/etc/hosts', true],
    ['^/etc/hosts$', '/etc/hosts.allow', false],
    ['!.conf$', '/etc/a.conf', false],
    ['!.conf$', '/etc/a.txt', true],
  ];
  for (const [pattern, text, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${text}`, () => {
      assert.equal(compileOsMatch(pattern).test(text), expected);
    });
  }
});
