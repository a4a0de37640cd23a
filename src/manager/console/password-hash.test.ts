import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './password-hash.js';

describe('password hashes', () => {
  it('verifies the password a hash was made from and refuses any other', async () => {
    const stored = await hashPassword('correct horse battery staple');
    assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    assert.equal(await verifyPassword('correct horse battery staple', stored), true);
    assert.equal(await verifyPassword('correct horse battery stapl', stored), false);
    assert.equal(await verifyPassword('', stored), false);
  });

  it('salts each hash: the same password hashes differently twice', async () => {
    const a = await hashPassword('same');
    const b = await hashPassword('same');
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('same', a), true);
    assert.equal(await verifyPassword('same', b), true);
  });

  it('is plain scrypt: a key derived by node:crypto directly with the stored salt and cost matches', async () => {
    const stored = await hashPassword('pw');
    const [, N, r, p, salt, key] = stored.split('$');
    const direct = scryptSync('pw', Buffer.from(salt!, 'base64'), 32, { N: Number(N), r: Number(r), p: Number(p), maxmem: 64 << 20 });
    assert.equal(direct.toString('base64'), key);
  });

  it('refuses malformed or abusive stored hashes without throwing', async () => {
    for (const bad of ['', 'plain', 'scrypt$1$8$1$AA==$AA==', `scrypt$${2 ** 30}$8$1$AAAA$${Buffer.alloc(32).toString('base64')}`, 'bcrypt$x$y$z$a$b']) {
      assert.equal(await verifyPassword('pw', bad), false, bad);
    }
    assert.equal(await verifyPassword('', DUMMY_PASSWORD_HASH), false);
  });
});
