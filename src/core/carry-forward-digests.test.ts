import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { carryForwardDigests } from './carry-forward-digests.js';

describe('carryForwardDigests', () => {
  const previous = fileState();
  const unreadable = { code: 'permission-denied', message: 'open: permission denied' } as const;

  it('keeps the last digests on a file that could not be read while its stat is unchanged', () => {
    const current = fileState({ hashes: {}, issues: [unreadable] });
    assert.deepEqual(carryForwardDigests(previous, current).hashes, previous.hashes);
  });

  it('never carries digests onto a file whose stat moved (only ctime, as a utime that restored mtime leaves it)', () => {
    const current = fileState({ hashes: {}, issues: [unreadable], ctimeNs: previous.ctimeNs + 1n });
    assert.deepEqual(carryForwardDigests(previous, current).hashes, {});
  });

  it('leaves the digests of the last read on a file that kept changing while it was read', () => {
    const lastRead = { sha256: 'f'.repeat(64) };
    const current = fileState({ hashes: lastRead, issues: [{ code: 'changed-while-hashed', message: 'kept changing' }], ctimeNs: previous.ctimeNs + 5n });
    assert.deepEqual(carryForwardDigests(previous, current).hashes, lastRead);
  });
});
