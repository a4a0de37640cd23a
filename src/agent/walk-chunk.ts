import { constants } from 'node:fs';
import type { FileIssue } from '../core/file-state.js';
import type { ScopeRoot } from '../core/scan-scope.js';
import { packedStat, putPackedStat, STAT_FIELDS } from './packed-stat.js';
import { walkEntry, type WalkItem } from './walk-tree.js';

/**
 * Walk items packed into a few typed arrays, so the walk thread hands them over without copying (the buffers
 * are transferred) and without structured-cloning one object per entry.
 */
export interface PackedWalkChunk {
  readonly count: number;
  /** Per item, {@link META} int32s: flags, root index, byte offset, path length, link length, read-path length. */
  readonly meta: Int32Array;
  /** Per item: size, mode, uid, gid, inode, dev, nlink, format. */
  readonly numbers: Float64Array;
  /** Per item: mtime and ctime in nanoseconds. */
  readonly times: BigInt64Array;
  /** Per item, from its offset: the path, its key (same length), the link target, the path to read. */
  readonly bytes: Uint8Array;
  readonly issues: readonly { readonly index: number; readonly issue: FileIssue }[];
}

const META = 6;
const S_IFLNK = constants.S_IFLNK;
const FIELDS = STAT_FIELDS;
const UNSCANNED = 1;
const INCLUDES_SELF = 2;
const NONE = -1;

/**
 * Packs walk items in the walk thread; `finish()` hands out a chunk and starts the next. The numbers go straight
 * into typed arrays: kept in JS arrays until the chunk is full, a million entries' BigInt times would be promoted
 * to the old generation and the walk thread's heap would swell for nothing.
 */
export class WalkChunkWriter {
  readonly #rootIndex: ReadonlyMap<ScopeRoot, number>;
  readonly #capacity: number;
  #meta: Int32Array;
  #numbers: Float64Array;
  #times: BigInt64Array;
  #bytes = new Uint8Array(1 << 16);
  #used = 0;
  #issues: { index: number; issue: FileIssue }[] = [];
  #count = 0;

  constructor(roots: readonly ScopeRoot[], capacity: number) {
    this.#rootIndex = new Map(roots.map((r, i) => [r, i]));
    this.#capacity = capacity;
    this.#meta = new Int32Array(capacity * META);
    this.#numbers = new Float64Array(capacity * FIELDS);
    this.#times = new BigInt64Array(capacity * 2);
  }

  get count(): number {
    return this.#count;
  }

  /** True when no more items fit: call `finish()`. */
  get full(): boolean {
    return this.#count >= this.#capacity;
  }

  add(item: WalkItem): void {
    if (this.full) throw new Error('walk chunk is full');
    const index = this.#count++;
    const offset = this.#used;
    const m = index * META;
    this.#append(item.path);
    this.#append(item.key);
    if (item.kind === 'unscanned') {
      this.#meta.set([UNSCANNED | (item.includesSelf ? INCLUDES_SELF : 0), NONE, offset, item.path.length, NONE, NONE], m);
      this.#issues.push({ index, issue: item.issue });
      return;
    }
    const root = this.#rootIndex.get(item.root);
    if (root === undefined) throw new Error('walk item governed by a root the scope does not list');
    if (item.linkTarget !== undefined) this.#append(item.linkTarget);
    if (item.readPath !== undefined) this.#append(item.readPath);
    const meta = this.#meta;
    meta[m] = 0;
    meta[m + 1] = root;
    meta[m + 2] = offset;
    meta[m + 3] = item.path.length;
    meta[m + 4] = item.linkTarget?.length ?? NONE;
    meta[m + 5] = item.readPath?.length ?? NONE;
    putPackedStat(this.#numbers, this.#times, index, item.stat);
    if (item.issue !== undefined) this.#issues.push({ index, issue: item.issue });
  }

  /** The items added since the last call, packed (copies sized to fit); the writer is empty again. */
  finish(): PackedWalkChunk {
    const count = this.#count;
    const chunk: PackedWalkChunk = {
      count,
      meta: this.#meta.slice(0, count * META),
      numbers: this.#numbers.slice(0, count * FIELDS),
      times: this.#times.slice(0, count * 2),
      bytes: this.#bytes.slice(0, this.#used),
      issues: this.#issues,
    };
    this.#used = 0;
    this.#issues = [];
    this.#count = 0;
    return chunk;
  }

  #append(bytes: Uint8Array): void {
    if (this.#used + bytes.length > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#used + bytes.length));
      grown.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = grown;
    }
    this.#bytes.set(bytes, this.#used);
    this.#used += bytes.length;
  }
}

/** The buffers of a chunk that can be transferred instead of copied. */
export function transferablesOf(chunk: PackedWalkChunk): ArrayBuffer[] {
  return [chunk.meta.buffer, chunk.numbers.buffer, chunk.times.buffer, chunk.bytes.buffer] as ArrayBuffer[];
}

/**
 * An entry of a chunk, looked at in place before it is unpacked (one object, reused for every entry): a scan that
 * finds it unchanged from here skips it without making its item. Valid only during the call it is passed to.
 */
export interface PackedEntry {
  /** The chunk's bytes, as a Buffer; the entry's key is `bytes[keyStart, keyEnd)`. */
  bytes: Buffer;
  keyStart: number;
  keyEnd: number;
  root: ScopeRoot;
  /** Per entry, {@link PACKED_FIELDS} numbers from `numbers[at]`: size, mode, uid, gid, inode, dev, nlink, format. */
  numbers: Float64Array;
  at: number;
  /** mtime and ctime in ns at `times[timeAt]` and `times[timeAt + 1]` (read when needed: each read makes a BigInt). */
  times: BigInt64Array;
  timeAt: number;
  /** No link target, or a followed link: what `attributesReadable` says of the unpacked entry. */
  attributesReadable: boolean;
}

/** How many numbers an entry has in a chunk (see {@link PackedEntry}). */
export const PACKED_FIELDS = FIELDS;

/**
 * Unpacks a chunk on the receiving side, one item at a time as the consumer asks: built together, a chunk's
 * items would outlive a few young-generation collections and be promoted, and the scan's heap would double.
 * Paths, keys and link targets are views into the chunk's bytes (no copy per entry); `roots` must be the `roots`
 * of a scope compiled from the same source as the walk thread's. An entry (no issue, not unscanned) for which
 * `skip` returns true is not unpacked nor yielded: the caller has dealt with it in place.
 */
export function* unpackWalkChunk(chunk: PackedWalkChunk, roots: readonly ScopeRoot[], skip?: (entry: PackedEntry) => boolean): Generator<WalkItem> {
  const bytes = Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
  const issues = new Map(chunk.issues.map((x) => [x.index, x.issue]));
  const { meta, numbers: n, times } = chunk;
  let peek: PackedEntry | undefined;
  for (let i = 0; i < chunk.count; i++) {
    const m = i * META;
    const flags = meta[m] as number;
    const offset = meta[m + 2] as number;
    const length = meta[m + 3] as number;
    const issue = issues.get(i);
    const root = roots[meta[m + 1] as number];
    const linkLength = meta[m + 4] as number;
    const readLength = meta[m + 5] as number;
    const f = i * FIELDS;
    if (skip !== undefined && (flags & UNSCANNED) === 0 && issue === undefined && root !== undefined) {
      const attributesReadable = linkLength === NONE || readLength !== NONE || n[f + 7] === S_IFLNK;
      peek ??= { bytes, keyStart: 0, keyEnd: 0, root, numbers: n, at: 0, times, timeAt: 0, attributesReadable };
      peek.keyStart = offset + length;
      peek.keyEnd = offset + 2 * length;
      peek.root = root;
      peek.at = f;
      peek.timeAt = i * 2;
      peek.attributesReadable = attributesReadable;
      if (skip(peek)) continue;
    }
    const path = bytes.subarray(offset, offset + length);
    const key = bytes.subarray(offset + length, offset + 2 * length);
    if ((flags & UNSCANNED) !== 0) {
      yield { kind: 'unscanned', path, key, includesSelf: (flags & INCLUDES_SELF) !== 0, issue: issue ?? { code: 'io-error', message: 'not scanned' } };
      continue;
    }
    if (root === undefined) throw new Error('walk chunk names a root the scope does not have');
    let at = offset + 2 * length;
    const linkTarget = linkLength === NONE ? undefined : bytes.subarray(at, (at += linkLength));
    const readPath = readLength === NONE ? undefined : bytes.subarray(at, at + readLength);
    yield walkEntry(path, key, root, packedStat(n, times, i), { linkTarget, readPath, issue });
  }
}
