/** One library `ldconfig` put in its cache: the name programs ask for and the path the loader opens. */
export interface LdCacheEntry {
  readonly soname: Buffer;
  readonly path: Buffer;
}

const MAGIC = Buffer.from('glibc-ld.so.cache1.1');
const HEADER = 48;
const ENTRY = 24;

/**
 * Parses `/etc/ld.so.cache` in glibc's format (`glibc-ld.so.cache1.1`, the only one glibc 2.32 and later write):
 * a 48-byte header (magic and version, entry count, string table length, flags), 24-byte entries (flags, key and
 * value offsets into the string table, OS version, hwcap), then NUL-terminated strings. Offsets are checked
 * against the file: a malformed cache is an error, never a read past the end.
 */
export function parseLdSoCache(data: Buffer): LdCacheEntry[] {
  if (data.length < HEADER || !data.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a glibc-ld.so.cache1.1 file');
  const count = data.readUInt32LE(20);
  if (count > (data.length - HEADER) / ENTRY) throw new Error(`claims ${count} entries, more than the file holds`);
  const entries: LdCacheEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER + i * ENTRY;
    entries.push({ soname: cString(data, data.readUInt32LE(at + 4)), path: cString(data, data.readUInt32LE(at + 8)) });
  }
  return entries;
}

function cString(data: Buffer, offset: number): Buffer {
  if (offset >= data.length) throw new Error(`string offset ${offset} is past the end of the file`);
  const end = data.indexOf(0, offset);
  if (end < 0) throw new Error(`string at ${offset} is not terminated`);
  return data.subarray(offset, end);
}
