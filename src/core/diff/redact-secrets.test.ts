import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactSecrets } from './redact-secrets.js';

describe('redactSecrets', () => {
  const cases: { name: string; text: string; expected: string; lines: number }[] = [
    { name: 'a password assignment', text: 'host=db\npassword = hunter2\nport=5432\n', expected: 'host=db\n[redacted: 1 line]\nport=5432\n', lines: 1 },
    { name: 'a prefixed secret in YAML', text: 'db:\n  db_password: "s3cret"\n', expected: 'db:\n[redacted: 1 line]\n', lines: 1 },
    {
      name: 'a private key block, whole',
      text: 'x\n-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\nBBBB\n-----END OPENSSH PRIVATE KEY-----\ny\n',
      expected: 'x\n[redacted: 4 lines]\ny\n',
      lines: 4,
    },
    { name: 'an AWS access key id', text: 'key AKIAIOSFODNN7EXAMPLE here\n', expected: '[redacted: 1 line]\n', lines: 1 },
    { name: 'a URL with a password', text: 'url postgres://app:pw123@db/prod\n', expected: '[redacted: 1 line]\n', lines: 1 },
    { name: 'a crypt hash', text: 'root:$6$abcdefgh$0123456789abcdefABCDEF:19000:0:99999:7:::\n', expected: '[redacted: 1 line]\n', lines: 1 },
    { name: 'sshd options that only name passwords are kept', text: 'PasswordAuthentication no\n', expected: 'PasswordAuthentication no\n', lines: 0 },
    { name: 'no final newline', text: 'a\npasswd: x', expected: 'a\n[redacted: 1 line]', lines: 1 },
  ];
  for (const c of cases) {
    it(`redacts ${c.name}`, () => {
      const r = redactSecrets(c.text);
      assert.equal(r.text, c.expected);
      assert.equal(r.redactedLines, c.lines);
    });
  }

  it('applies extra patterns from the configuration', () => {
    assert.equal(redactSecrets('a\nlicense XYZ-123\n', [/^license /]).text, 'a\n[redacted: 1 line]\n');
  });
});
