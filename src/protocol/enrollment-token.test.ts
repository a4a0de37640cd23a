import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { formatEnrollmentToken, parseEnrollmentToken, type ParsedToken } from './enrollment-token.js';

const CA = createHash('sha256').update('manager CA').digest('hex');
const token: ParsedToken = { id: '0123456789ab', secret: 'Zm9vYmFyLWJhei1xdXV4X19fMTIz', caSha256: CA };

describe('enrollment tokens', () => {
  it('formats as cst1.<id>.<secret>.<ca sha256> and parses back', () => {
    const text = formatEnrollmentToken(token);
    assert.equal(text, `cst1.0123456789ab.Zm9vYmFyLWJhei1xdXV4X19fMTIz.${CA}`);
    assert.deepEqual(parseEnrollmentToken(text), token);
  });
  it('round-trips tokens made the way the manager makes them (random id, base64url secret)', () => {
    for (let i = 0; i < 50; i++) {
      const t = { id: randomBytes(6).toString('hex'), secret: randomBytes(24).toString('base64url'), caSha256: randomBytes(32).toString('hex') };
      assert.deepEqual(parseEnrollmentToken(formatEnrollmentToken(t)), t);
    }
  });
  it('accepts secrets of 20 to 64 characters', () => {
    for (const secret of ['a'.repeat(20), 'A-_9'.repeat(16)]) {
      assert.deepEqual(parseEnrollmentToken(formatEnrollmentToken({ ...token, secret })), { ...token, secret });
    }
  });
  it('ignores whitespace around a pasted token', () => {
    assert.deepEqual(parseEnrollmentToken(`  ${formatEnrollmentToken(token)}\n`), token);
  });
  it('rejects anything malformed', () => {
    const good = formatEnrollmentToken(token);
    const bad: Record<string, string> = {
      empty: '',
      'not a token': 'hello world',
      'wrong prefix': good.replace(/^cst1/, 'cst2'),
      'uppercase prefix': good.replace(/^cst1/, 'CST1'),
      'missing part': `cst1.${token.id}.${token.secret}`,
      'extra part': `${good}.x`,
      'empty part': `cst1.${token.id}..${CA}`,
      'short id': formatEnrollmentToken({ ...token, id: '0123456789a' }),
      'long id': formatEnrollmentToken({ ...token, id: '0123456789abc' }),
      'uppercase id': formatEnrollmentToken({ ...token, id: '0123456789AB' }),
      'non-hex id': formatEnrollmentToken({ ...token, id: '0123456789ag' }),
      'short secret': formatEnrollmentToken({ ...token, secret: 'a'.repeat(19) }),
      'long secret': formatEnrollmentToken({ ...token, secret: 'a'.repeat(65) }),
      'secret with +/': formatEnrollmentToken({ ...token, secret: 'abc+def/ghi+jkl/mnopq' }),
      'secret with space': formatEnrollmentToken({ ...token, secret: 'abcdefghij klmnopqrst' }),
      'short CA digest': formatEnrollmentToken({ ...token, caSha256: CA.slice(1) }),
      'long CA digest': formatEnrollmentToken({ ...token, caSha256: `${CA}0` }),
      'uppercase CA digest': formatEnrollmentToken({ ...token, caSha256: CA.toUpperCase() }),
      'CA digest with colons': formatEnrollmentToken({ ...token, caSha256: CA.match(/../g)!.join(':') }),
      'embedded newline': good.replace('.', '\n.'),
    };
    for (const [why, text] of Object.entries(bad)) assert.equal(parseEnrollmentToken(text), undefined, why);
  });
});
