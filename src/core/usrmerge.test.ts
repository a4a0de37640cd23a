import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { usrAlias, usrCanonical } from './usrmerge.js';

describe('usrmerge aliasing', () => {
  it('maps /bin, /sbin and /lib* to /usr and back', () => {
    assert.equal(usrCanonical(Buffer.from('/bin/ls')).toString(), '/usr/bin/ls');
    assert.equal(usrCanonical(Buffer.from('/lib64/ld.so')).toString(), '/usr/lib64/ld.so');
    assert.equal(usrAlias(Buffer.from('/usr/sbin/sshd'))?.toString(), '/sbin/sshd');
    assert.equal(usrAlias(Buffer.from('/sbin/sshd'))?.toString(), '/usr/sbin/sshd');
  });
  it('leaves everything else alone', () => {
    assert.equal(usrCanonical(Buffer.from('/binary/x')).toString(), '/binary/x');
    assert.equal(usrAlias(Buffer.from('/usr/share/doc')), undefined);
    assert.equal(usrAlias(Buffer.from('/etc/passwd')), undefined);
  });
});
