import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCapabilities } from './file-capabilities.js';
import { summarizeInodeAttributes, type InodeAttributeRequest } from './inode-attributes.js';
import { describeInodeFlags } from './inode-flags.js';
import { decodePosixAcl } from './posix-acl.js';

const ALL: InodeAttributeRequest = { capabilities: true, acl: true, defaultAcl: true, selinux: true, xattrs: true, flags: true };

/** A `vfs_cap_data` value as the kernel stores it. */
function capabilityValue(revision: 1 | 2 | 3, effective: boolean, permitted: readonly number[], inheritable: readonly number[] = [], rootid?: number): Buffer {
  const words = revision === 1 ? 1 : 2;
  const out = Buffer.alloc(4 + words * 8 + (revision === 3 ? 4 : 0));
  out.writeUInt32LE(((revision << 24) | (effective ? 1 : 0)) >>> 0, 0);
  const set = (bits: readonly number[], offset: number): void => {
    for (const bit of bits) {
      const at = 4 + Math.floor(bit / 32) * 8 + offset;
      out.writeUInt32LE((out.readUInt32LE(at) | (1 << (bit % 32))) >>> 0, at);
    }
  };
  set(permitted, 0);
  set(inheritable, 4);
  if (revision === 3) out.writeUInt32LE(rootid ?? 0, 4 + words * 8);
  return out;
}

describe('decodeCapabilities', () => {
  it('names capabilities and groups them by flags, as getcap does', () => {
    assert.equal(decodeCapabilities(capabilityValue(2, true, [7])), 'cap_setuid=ep');
    assert.equal(decodeCapabilities(capabilityValue(2, true, [7, 13])), 'cap_setuid,cap_net_raw=ep');
    assert.equal(decodeCapabilities(capabilityValue(2, false, [13], [13, 21])), 'cap_net_raw=ip cap_sys_admin=i');
    assert.equal(decodeCapabilities(capabilityValue(2, true, [38, 39])), 'cap_perfmon,cap_bpf=ep', 'the second word');
    assert.equal(decodeCapabilities(capabilityValue(1, true, [0])), 'cap_chown=ep');
    assert.equal(decodeCapabilities(capabilityValue(3, true, [7], [], 1000)), 'cap_setuid=ep [rootid=1000]');
    assert.equal(decodeCapabilities(capabilityValue(2, true, [60])), 'cap_60=ep', 'numbers past the known names');
  });
  it('shows a malformed value as its bytes rather than failing', () => {
    assert.equal(decodeCapabilities(Buffer.from('0100', 'hex')), 'invalid:0100');
    assert.equal(decodeCapabilities(Buffer.alloc(20)), `invalid:${'00'.repeat(20)}`);
  });
});

describe('decodePosixAcl', () => {
  const entry = (tag: number, perm: number, id = 0xffffffff): Buffer => {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(tag, 0);
    b.writeUInt16LE(perm, 2);
    b.writeUInt32LE(id, 4);
    return b;
  };
  const header = Buffer.from('02000000', 'hex');
  it("prints getfacl -n's entries, comma-separated", () => {
    const value = Buffer.concat([header, entry(1, 6), entry(2, 7, 65534), entry(4, 4), entry(8, 5, 100), entry(0x10, 7), entry(0x20, 4)]);
    assert.equal(decodePosixAcl(value), 'user::rw-,user:65534:rwx,group::r--,group:100:r-x,mask::rwx,other::r--');
  });
  it('shows a malformed value as its bytes', () => {
    assert.equal(decodePosixAcl(Buffer.from('01000000', 'hex')), 'invalid:01000000');
    assert.equal(decodePosixAcl(Buffer.concat([header, Buffer.alloc(3)])), `invalid:02000000${'00'.repeat(3)}`);
    assert.equal(decodePosixAcl(Buffer.concat([header, entry(0x40, 7)])).startsWith('invalid:'), true);
  });
});

describe('describeInodeFlags', () => {
  it("prints lsattr's letters for the flags a user sets, and not the file system's own", () => {
    assert.equal(describeInodeFlags(0), '-');
    assert.equal(describeInodeFlags(0x10), 'i');
    assert.equal(describeInodeFlags(0x30), 'ia');
    assert.equal(describeInodeFlags(0x80000 | 0x1000), '-', 'extents and the directory index are not changes anyone made');
  });
});

describe('summarizeInodeAttributes', () => {
  it('gives each attribute its own field and digests the rest by name', () => {
    const raw = {
      names: [
        Buffer.from('user.b'),
        Buffer.from('security.capability'),
        Buffer.from('user.a'),
        Buffer.from('security.selinux'),
        Buffer.from('user.\xff,=', 'latin1'),
      ],
      values: [Buffer.from('2'), capabilityValue(2, true, [7]), Buffer.from('1'), Buffer.from('system_u:object_r:bin_t:s0\0'), 61],
      flags: 0x10,
    };
    const s = summarizeInodeAttributes(raw, ALL);
    assert.equal(s.capabilities, 'cap_setuid=ep');
    assert.equal(s.acl, '');
    assert.equal(s.defaultAcl, '');
    assert.equal(s.selinux, 'system_u:object_r:bin_t:s0');
    assert.equal(s.flags, 'i');
    // sha256("1") and sha256("2"), first 16 hex digits; names sorted by bytes; odd bytes escaped.
    assert.equal(s.xattrs, 'user.a=6b86b273ff34fce1,user.b=d4735e3a265e16ee,user.\\xff\\x2c\\x3d=?61');
  });
  it('leaves out what was not asked for, and flags that could not be read', () => {
    const s = summarizeInodeAttributes({ names: [], values: [] }, { ...ALL, xattrs: false, selinux: false });
    assert.deepEqual(s, { capabilities: '', acl: '', defaultAcl: '' });
  });
});
