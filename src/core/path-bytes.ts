/**
 * File paths are bytes. Linux allows any byte but NUL and `/` in a name, so a path may be invalid UTF-8 or hold
 * newlines; converting it to a JS string and back loses bytes. These helpers keep the exact bytes as the identity
 * and make strings only for display, at the edges.
 */

const SLASH = 0x2f;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Returns the path's bytes from a display-free source string (a config entry or a CLI argument). */
export function pathFromString(path: string): Buffer {
  return Buffer.from(path, 'utf8');
}

/** Joins a directory path and one entry name, both as bytes. */
export function joinPath(dir: Buffer, name: Buffer): Buffer {
  // Copied into one buffer rather than Buffer.concat of a list: the walk joins a path per entry.
  const separator = dir.length > 0 && dir[dir.length - 1] === SLASH ? 0 : 1;
  const path = Buffer.allocUnsafe(dir.length + separator + name.length);
  // Uint8Array's set, not Buffer's copy: copy checks and converts its arguments in JS, twice per entry of a walk.
  path.set(dir, 0);
  if (separator === 1) path[dir.length] = SLASH;
  path.set(name, dir.length + separator);
  return path;
}

/** True when the bytes decode as UTF-8 without replacement characters. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Renders a path for humans, logs and JSON. Valid UTF-8 without control characters or backslashes is shown as is;
 * anything else is escaped (`\n`, `\t`, `\\`, `\xff`), so a displayed path never spans lines or hides bytes.
 * Use {@link isExactDisplay} to know whether the display is the exact path.
 */
export function displayPath(path: Uint8Array): string {
  const buf = Buffer.from(path.buffer, path.byteOffset, path.byteLength);
  if (isExactDisplay(buf)) return buf.toString('utf8');
  let out = '';
  let i = 0;
  while (i < buf.length) {
    const len = utf8SequenceLength(buf, i);
    if (len === 0) {
      out += `\\x${hex2(buf[i] ?? 0)}`;
      i += 1;
      continue;
    }
    const byte = buf[i] ?? 0;
    if (len === 1) out += escapeAscii(byte);
    else out += buf.toString('utf8', i, i + len);
    i += len;
  }
  return out;
}

/** True when {@link displayPath} returns the path's exact UTF-8 text (nothing escaped). */
export function isExactDisplay(path: Uint8Array): boolean {
  let ascii = true;
  for (let i = 0; i < path.length; i++) {
    const byte = path[i] as number;
    if (byte < 0x20 || byte === 0x7f || byte === 0x5c) return false;
    if (byte >= 0x80) ascii = false;
  }
  // Plain ASCII is valid UTF-8: only other bytes need the decoder (which builds a string to say so).
  return ascii || isValidUtf8(path);
}

/**
 * The sort key of a path: its bytes with every `/` replaced by NUL. Comparing keys bytewise orders paths
 * depth-first with each directory's entries sorted by name, which is exactly the order the walker visits them,
 * so a scan can merge-join the walk with a baseline read in key order. NUL never occurs in a path, so the mapping
 * is reversible.
 */
export function pathKey(path: Uint8Array): Buffer {
  const key = Buffer.from(path);
  for (let i = 0; i < key.length; i++) if (key[i] === SLASH) key[i] = 0;
  return key;
}

/** Reverses {@link pathKey}. */
export function pathFromKey(key: Uint8Array): Buffer {
  const path = Buffer.from(key);
  for (let i = 0; i < path.length; i++) if (path[i] === 0) path[i] = SLASH;
  return path;
}

/**
 * The half-open key range `[from, to)` that holds a path and everything below it: all descendants' keys start
 * with the path's key followed by NUL, the smallest byte. The root `/` is the exception: its key is a lone NUL and
 * its children's keys are that NUL followed by their names (`/etc` is `\0etc`), so its range is every key that
 * starts with NUL.
 */
export function subtreeKeyRange(path: Uint8Array): { readonly from: Buffer; readonly to: Buffer } {
  const trimmed = trimTrailingSlash(path);
  if (trimmed.length <= 1) return { from: Buffer.of(0), to: Buffer.of(0x01) };
  const from = pathKey(trimmed);
  return { from, to: Buffer.concat([from, Buffer.of(0x01)]) };
}

/**
 * True when `path` is `root` or lies below it (byte-wise, on whole components). Every absolute path is within
 * `/`; nothing is within the empty path (it names no directory).
 */
export function isWithin(path: Uint8Array, root: Uint8Array): boolean {
  if (root.length === 0) return false;
  // Called for every entry a scan walks: plain byte comparisons, no Buffer views or copies.
  const r = trimmedLength(root);
  if (r === 0) return path[0] === SLASH;
  if (path.length < r || (path.length > r && path[r] !== SLASH)) return false;
  // From the end: paths under one tree share long prefixes, so a difference shows up sooner there.
  for (let i = r - 1; i >= 0; i--) if (path[i] !== root[i]) return false;
  return true;
}

function trimmedLength(path: Uint8Array): number {
  let end = path.length;
  while (end > 0 && path[end - 1] === SLASH) end--;
  return end;
}

/**
 * Drops trailing slashes: `/etc/` is `/etc`. The root stays one byte, `/` (and `//` becomes `/`): it is a path
 * like any other, that `lstat` can read and whose key is a lone NUL. The empty path stays empty.
 */
export function trimTrailingSlash(path: Uint8Array): Buffer {
  const end = Math.max(trimmedLength(path), path.length > 0 ? 1 : 0);
  return Buffer.from(path.buffer, path.byteOffset, end);
}

/** Counts the path components of `path` below `root` (0 for the root itself; `/etc` is 1 below `/`). */
export function depthBelow(path: Uint8Array, root: Uint8Array): number {
  let depth = 0;
  const end = trimmedLength(path);
  for (let i = trimmedLength(root); i < end; i++) if (path[i] === SLASH) depth++;
  return depth;
}

/**
 * Where a monitored path is on this host when the scanned file system is mounted at `rootDir` (`--root`): the
 * path appended to it, and the root `/` is `rootDir` itself (no trailing slash, which would follow a symlink).
 */
export function hostPathOf(path: Buffer, rootDir: Buffer | undefined): Buffer {
  if (rootDir === undefined) return path;
  const trimmed = trimTrailingSlash(path);
  return trimmed.length === 1 && trimmed[0] === SLASH ? rootDir : Buffer.concat([rootDir, path]);
}

function escapeAscii(byte: number): string {
  switch (byte) {
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x5c:
      return '\\\\';
    default:
      return byte < 0x20 || byte === 0x7f ? `\\x${hex2(byte)}` : String.fromCharCode(byte);
  }
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there does not start one. */
function utf8SequenceLength(buf: Buffer, i: number): number {
  const b0 = buf[i] ?? 0;
  if (b0 < 0x80) return 1;
  let len = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) len = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) len = 3;
  else if (b0 >= 0xf0 && b0 <= 0xf4) len = 4;
  if (len === 0 || i + len > buf.length) return 0;
  return isValidUtf8(buf.subarray(i, i + len)) ? len : 0;
}
