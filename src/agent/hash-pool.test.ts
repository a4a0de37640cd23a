import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHECK_ALL, inodeAttributeRequest } from '../core/check-set.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { HashPool } from './hash-pool.js';
import { readInodeAttributes } from './read-inode-attributes.js';

const REQUEST = inodeAttributeRequest(CHECK_ALL);

describe('HashPool: inode attributes read in the workers', () => {
  it('reads, beside the digests, what the scan would read itself (an extended attribute set with setfattr)', async () => {
    const dir = tempDir();
    const plain = join(dir, 'plain');
    const tagged = join(dir, 'tagged');
    writeFileSync(plain, 'plain');
    writeFileSync(tagged, 'tagged');
    execFileSync('setfattr', ['-n', 'user.custos-test', '-v', 'v1', tagged]);
    const pool = new HashPool(1);
    try {
      const results = await pool.hash([Buffer.from(plain), Buffer.from(tagged)], ['sha256'], 1 << 20, undefined, undefined, REQUEST);
      for (const [i, path] of [plain, tagged].entries()) {
        const result = results[i];
        assert.ok(result?.ok === true, `${path} hashed`);
        const here = readInodeAttributes(Buffer.from(path), 'file', lstatSync(path, { bigint: true }).ctimeNs, REQUEST);
        assert.deepEqual(result.attributes, here, 'the same attributes as read on this thread');
      }
      assert.match(results[1]?.attributes?.attributes?.xattrs ?? '', /^user\.custos-test=[0-9a-f]{16}$/);
      assert.equal(results[0]?.attributes?.attributes?.xattrs, '');
    } finally {
      await pool.close();
    }
  });

  it('reads none when the batch asks for none, and none for a file it could not read', async () => {
    const dir = tempDir();
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    const gone = join(dir, 'gone');
    writeFileSync(gone, 'y');
    rmSync(gone);
    const pool = new HashPool(1);
    try {
      const [without] = await pool.hash([Buffer.from(file)], ['md5'], 1 << 20);
      assert.ok(without?.ok === true);
      assert.equal(without.attributes, undefined);
      const [missing] = await pool.hash([Buffer.from(gone)], ['md5'], 1 << 20, undefined, undefined, REQUEST);
      assert.ok(missing?.ok === false);
      assert.equal(missing.issue.code, 'vanished');
      assert.equal(missing.attributes, undefined);
    } finally {
      await pool.close();
    }
  });
});
