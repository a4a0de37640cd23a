import { lstatSync } from 'node:fs';
import type { FileIssue, FileType } from '../core/file-state.js';
import { summarizeInodeAttributes, type InodeAttributeRequest, type InodeAttributes } from '../core/inode-attributes.js';
import { nativeFsAttrs } from './native-fs-attrs.js';

/** What reading an entry's inode attributes gave: the attributes, or an issue when they cannot be trusted. */
export type InodeAttributesResult =
  { readonly attributes: InodeAttributes; readonly issue?: undefined } | { readonly attributes?: undefined; readonly issue: FileIssue };

/**
 * Reads the capabilities, ACLs, extended attributes and inode flags of the entry at `path` (on the host) without
 * following a symlink. `ctimeNs` is the ctime of the state they will be stored with: every change to any of them
 * moves ctime, so when ctime moved by the time they are read, what was read may belong to a later state than the
 * one stored, and a scan that then finds the stored ctime unchanged would never look again. Such a read is an
 * issue (`changed-while-hashed`), which makes the next scan read the entry again.
 */
export function readInodeAttributes(path: Buffer, type: FileType, ctimeNs: bigint, request: InodeAttributeRequest): InodeAttributesResult {
  const native = nativeFsAttrs();
  const [errno, names, values] = native.listAttributes(path);
  if (errno === 2) return { issue: { code: 'vanished', message: 'gone before its attributes were read' } };
  if (errno !== 0) return { issue: { code: 'io-error', message: `cannot list extended attributes (errno ${errno})` } };
  // Only regular files and directories are opened for their flags: opening a device or a FIFO can have effects.
  const flags = request.flags && (type === 'file' || type === 'directory') ? native.inodeFlags(path) : -1;
  const after = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  if (after === undefined) return { issue: { code: 'vanished', message: 'gone while its attributes were read' } };
  if (after.ctimeNs !== ctimeNs) {
    return { issue: { code: 'changed-while-hashed', message: 'changed while its attributes were read' } };
  }
  return { attributes: summarizeInodeAttributes({ names, values, ...(flags >= 0 ? { flags } : {}) }, request) };
}
