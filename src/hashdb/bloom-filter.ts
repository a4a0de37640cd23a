const MAGIC = 'CBLM';
const HEADER_BYTES = 32;
/** Layout 1: probes anywhere in the filter (files saved before layout 2 are still read). */
const CLASSIC = 1;
/** Layout 2: every probe of a key in one 64-byte block, so a lookup touches one cache line. */
const BLOCKED = 2;
const BLOCK_BYTES = 64;
const BLOCK_PROBES = 7;

/**
 * A Bloom filter over digests, in front of the known-hash tables: a "no" skips the database, a "maybe" asks it,
 * so answers stay exact. Keys are digests (uniformly random already), so the probe positions come straight from
 * their bytes, with no hashing of our own. New filters are blocked: the first four bytes pick a 512-bit block
 * and the next eight give seven 9-bit positions in it, so a probe of a 125 MB filter costs one cache miss instead
 * of seven (at 100 million keys the filter is far larger than any CPU cache). At 10 bits per key it says "maybe"
 * for about 1% of absent keys (a blocked filter a little more than a classic one); 100 million keys take 125 MB.
 */
export class BloomFilter {
  readonly bits: Buffer;
  readonly sizeBits: number;
  readonly probes: number;
  readonly #layout: number;
  readonly #blocks: number;

  private constructor(bits: Buffer, probes: number, layout: number) {
    this.bits = bits;
    this.sizeBits = bits.length * 8;
    this.probes = probes;
    this.#layout = layout;
    this.#blocks = Math.floor(bits.length / BLOCK_BYTES);
  }

  /** An empty (blocked) filter sized for `capacity` keys. */
  static forCapacity(capacity: number, bitsPerKey = 10): BloomFilter {
    const bytes = Math.max(BLOCK_BYTES, Math.ceil((Math.max(capacity, 1) * bitsPerKey) / 8));
    const blocks = Math.ceil(Math.min(bytes, 0x1fffffff) / BLOCK_BYTES);
    return new BloomFilter(Buffer.alloc(blocks * BLOCK_BYTES), BLOCK_PROBES, BLOCKED);
  }

  add(digest: Buffer): void {
    if (this.#layout === BLOCKED) {
      const base = this.#blockBit(digest);
      const a = digest.readUInt32LE(4);
      const b = digest.readUInt32LE(8);
      for (let i = 0; i < BLOCK_PROBES; i++) {
        const bit = base + blockProbe(a, b, i);
        this.bits[bit >>> 3] = (this.bits[bit >>> 3] as number) | (1 << (bit & 7));
      }
      return;
    }
    const h1 = digest.readUInt32LE(0);
    const h2 = digest.readUInt32LE(4) | 1;
    for (let i = 0; i < this.probes; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) % this.sizeBits;
      this.bits[bit >>> 3] = (this.bits[bit >>> 3] ?? 0) | (1 << (bit & 7));
    }
  }

  /** False: certainly absent. True: maybe present. */
  has(digest: Buffer): boolean {
    if (this.#layout === BLOCKED) {
      const base = this.#blockBit(digest);
      const a = digest.readUInt32LE(4);
      const b = digest.readUInt32LE(8);
      for (let i = 0; i < BLOCK_PROBES; i++) {
        const bit = base + blockProbe(a, b, i);
        if (((this.bits[bit >>> 3] as number) & (1 << (bit & 7))) === 0) return false;
      }
      return true;
    }
    const h1 = digest.readUInt32LE(0);
    const h2 = digest.readUInt32LE(4) | 1;
    for (let i = 0; i < this.probes; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) % this.sizeBits;
      if (((this.bits[bit >>> 3] ?? 0) & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }

  /** The first bit of the key's block: multiply-shift of the first four bytes onto the block count (exact in a double). */
  #blockBit(digest: Buffer): number {
    return Math.floor((digest.readUInt32BE(0) * this.#blocks) / 4294967296) * BLOCK_BYTES * 8;
  }

  /** The filter as bytes, tagged with the database generation it was built from. */
  serialize(generation: number): Buffer {
    const header = Buffer.alloc(HEADER_BYTES);
    header.write(MAGIC, 0, 'latin1');
    header.writeUInt32LE(this.#layout, 4);
    header.writeUInt32LE(this.probes, 8);
    header.writeDoubleLE(generation, 16);
    return Buffer.concat([header, this.bits]);
  }

  /** Reads a serialized filter; `undefined` if it is not one, or was built from another generation. */
  static deserialize(data: Buffer, generation: number): BloomFilter | undefined {
    if (data.length <= HEADER_BYTES || data.toString('latin1', 0, 4) !== MAGIC) return undefined;
    const layout = data.readUInt32LE(4);
    if (layout !== CLASSIC && layout !== BLOCKED) return undefined;
    if (layout === BLOCKED && ((data.length - HEADER_BYTES) % BLOCK_BYTES !== 0 || data.readUInt32LE(8) !== BLOCK_PROBES)) return undefined;
    if (data.readDoubleLE(16) !== generation) return undefined;
    return new BloomFilter(Buffer.from(data.subarray(HEADER_BYTES)), data.readUInt32LE(8), layout);
  }
}

/** The i-th of seven 9-bit positions taken from 64 bits of the digest (bits 0-62 of `b:a`). */
function blockProbe(a: number, b: number, i: number): number {
  switch (i) {
    case 0:
      return a & 511;
    case 1:
      return (a >>> 9) & 511;
    case 2:
      return (a >>> 18) & 511;
    case 3:
      return ((a >>> 27) | (b << 5)) & 511;
    case 4:
      return (b >>> 4) & 511;
    case 5:
      return (b >>> 13) & 511;
    default:
      return (b >>> 22) & 511;
  }
}
