import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { withObservedModes } from './observed-modes.js';

const md5 = (s: string): Buffer => createHash('md5').update(s).digest();
const pkg = { name: 'demo', version: '1', arch: 'all' };

describe('withObservedModes (dpkg-local: the mode a file has at import)', () => {
  const root = tempDir();
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  const file = (name: string, body: string, mode: number, uid = 0): void => {
    writeFileSync(join(root, 'usr/bin', name), body);
    chownSync(join(root, 'usr/bin', name), uid, 0);
    chmodSync(join(root, 'usr/bin', name), mode);
  };
  const row = (name: string, body: string) => ({ digest: md5(body), path: Buffer.from(`/usr/bin/${name}`), package: pkg });

  it("records a plain root-owned file as it is, and a setuid one only when its MD5 is the package's", () => {
    file('plain', 'plain\n', 0o755);
    file('su', 'su\n', 0o4755);
    file('planted', 'other content\n', 0o4755);
    file('owned', 'owned\n', 0o755, 65534);
    symlinkSync('plain', join(root, 'usr/bin/link'));
    const out = withObservedModes(root, [
      row('plain', 'plain\n'),
      row('su', 'su\n'),
      row('planted', 'planted\n'),
      row('owned', 'owned\n'),
      row('link', 'plain\n'),
      row('missing', 'x'),
    ]);
    assert.deepEqual(
      out.map((r) => r.declared),
      [
        { mode: 0o755, uid: 0, gid: 0, observed: true },
        { mode: 0o4755, uid: 0, gid: 0, observed: true },
        undefined, // setuid on content that is not the package's: never taken as declared
        { mode: 0o755, uid: 65534, gid: 0, observed: true }, // another owner, but the content checks out
        undefined, // not a regular file
        undefined, // not there
      ],
    );
  });

  it('leaves SHA-256 rows and hash-only rows alone', () => {
    const sha = { digest: createHash('sha256').update('plain\n').digest(), path: Buffer.from('/usr/bin/plain'), package: pkg };
    assert.deepEqual(withObservedModes(root, [sha, { digest: md5('x') }]), [sha, { digest: md5('x') }]);
  });
});
