import { summarizeInodeAttributes, type InodeAttributeRequest } from '../core/inode-attributes.js';
import { nativeFsAttrs } from './native-fs-attrs.js';
import type { InodeAttributesResult } from './read-inode-attributes.js';

/**
 * Reads the inode attributes `request` asks for from an open regular file (the descriptor a hashing worker reads
 * it through), or says why they could not be read; `undefined` when the addon is not built or predates `fdAttributes`, and the
 * caller reads them by path as before. Whether they belong to the state stored is the caller's to check: it
 * compares the file's ctime after this read with the one before (any change to them moves it).
 */
export function readFdAttributes(fd: number, request: InodeAttributeRequest): InodeAttributesResult | undefined {
  let native;
  try {
    native = nativeFsAttrs();
  } catch {
    // Not built: the main thread reads them by path, and says clearly what is missing, as it did before.
    return undefined;
  }
  if (native.fdAttributes === undefined) return undefined;
  const [errno, names, values, flags] = native.fdAttributes(fd, request.flags);
  if (errno !== 0) return { issue: { code: 'io-error', message: `cannot list extended attributes (errno ${errno})` } };
  if (names.length === 0) return withoutExtendedAttributes(flags, request);
  return { attributes: summarizeInodeAttributes({ names, values, ...(flags >= 0 ? { flags } : {}) }, request) };
}

/** Per request, the results of files without extended attributes, by their flags (-1: not read). */
const plainResults = new WeakMap<InodeAttributeRequest, Map<number, InodeAttributesResult>>();
/** Distinct flag values remembered per request: a tree has a handful; past this, each file gets its own. */
const MAX_PLAIN_RESULTS = 64;

/**
 * The result of a file with no extended attribute: the same for every file with the same flags, so made once and
 * shared (frozen), rather than summarized again for every file a scan reads.
 */
function withoutExtendedAttributes(flags: number, request: InodeAttributeRequest): InodeAttributesResult {
  let byFlags = plainResults.get(request);
  if (byFlags === undefined) plainResults.set(request, (byFlags = new Map<number, InodeAttributesResult>()));
  const known = byFlags.get(flags);
  if (known !== undefined) return known;
  const result: InodeAttributesResult = Object.freeze({
    attributes: Object.freeze(summarizeInodeAttributes({ names: [], values: [], ...(flags >= 0 ? { flags } : {}) }, request)),
  });
  if (byFlags.size < MAX_PLAIN_RESULTS) byFlags.set(flags, result);
  return result;
}
