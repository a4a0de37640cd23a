import assert from 'node:assert/strict';
import { lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { CHECK_ALL, inodeAttributeRequest } from '../core/check-set.js';
import { nativeFsAttrs } from './native-fs-attrs.js';
import { readInodeAttributes } from './read-inode-attributes.js';

describe('readInodeAttributes', () => {
  const dir = tempDir();
  const file = join(dir, 'f');
  writeFileSync(file, 'x');
  const request = inodeAttributeRequest(CHECK_ALL);

  it('reads the attributes of an entry whose ctime is the one its state has', () => {
    const { ctimeNs } = lstatSync(file, { bigint: true });
    const read = readInodeAttributes(Buffer.from(file), 'file', ctimeNs, request);
    assert.equal(read.issue, undefined);
    assert.notEqual(read.attributes, undefined);
  });

  it('says so when ctime moved (the attributes may be of a later state) or the entry is gone', () => {
    const { ctimeNs } = lstatSync(file, { bigint: true });
    assert.equal(readInodeAttributes(Buffer.from(file), 'file', ctimeNs - 1n, request).issue?.code, 'changed-while-hashed');
    assert.equal(readInodeAttributes(Buffer.from(join(dir, 'missing')), 'file', ctimeNs, request).issue?.code, 'vanished');
  });

  it('takes ctime from the addon as lstat gives it', () => {
    const native = nativeFsAttrs();
    assert.equal(native.ctimeOf?.(Buffer.from(file)), lstatSync(file, { bigint: true }).ctimeNs);
    assert.equal(native.ctimeOf?.(Buffer.from('/proc/self')), lstatSync('/proc/self', { bigint: true }).ctimeNs, 'a symlink, not followed');
    assert.equal(native.ctimeOf?.(Buffer.from(join(dir, 'missing'))), -2);
  });
});
