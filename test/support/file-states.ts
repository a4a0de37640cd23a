import type { FileState } from '../../src/core/file-state.js';

/** A plausible regular-file state for pure tests; override what the case is about. */
export function fileState(overrides: Partial<FileState> = {}): FileState {
  return {
    path: Buffer.from('/etc/hosts'),
    type: 'file',
    size: 158,
    mode: 0o644,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtimeNs: 1_700_000_000_123_456_789n,
    ctimeNs: 1_700_000_000_123_456_789n,
    inode: 1234,
    dev: 2049,
    nlink: 1,
    hashes: {
      md5: 'd41d8cd98f00b204e9800998ecf8427e',
      sha1: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    },
    issues: [],
    ...overrides,
  };
}
