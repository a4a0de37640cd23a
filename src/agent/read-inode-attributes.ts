import { lstatSync } from 'node:fs';
import { constants } from 'node:os';
import type { FileIssue, FileType } from '../core/file-state.js';
import { summarizeInodeAttributes, type InodeAttributeRequest, type InodeAttributes } from '../core/inode-attributes.js';
import { nativeFsAttrs, type NativeFsAttrs } from './native-fs-attrs.js';

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
  const after = ctimeAfter(native, path);
  if (after === undefined) return { issue: { code: 'vanished', message: 'gone while its attributes were read' } };
  if (after !== ctimeNs) {
    return { issue: { code: 'changed-while-hashed', message: 'changed while its attributes were read' } };
  }
  return { attributes: summarizeInodeAttributes({ names, values, ...(flags >= 0 ? { flags } : {}) }, request) };
}

/**
 * The entry's ctime now, `undefined` when it is gone. Through the addon's `ctimeOf` (a first scan reads it for every
 * file: a `BigIntStats` each, ~1 µs of CPU, for one field); any other error than ENOENT is left to `lstatSync`
 * to throw, as it did before there was `ctimeOf`.
 */
function ctimeAfter(native: NativeFsAttrs, path: Buffer): bigint | undefined {
  const ctime = native.ctimeOf?.(path);
  if (typeof ctime === 'bigint') return ctime;
  if (ctime === -constants.errno.ENOENT) return undefined;
  return lstatSync(path, { bigint: true, throwIfNoEntry: false })?.ctimeNs;
}
