const MAGIC = 'CBLM';
const HEADER_BYTES = 32;

/**
 * A Bloom filter over digests, in front of the known-hash tables: a "no" skips the database, a "maybe" asks it,
 * so answers stay exact. Keys are digests (uniformly random already), so the probe positions come straight from
 * their first eight bytes by double hashing, with no hashing of our own. At 10 bits per key and 7 probes it says
 * "maybe" for about 1% of absent keys; 100 million keys take 125 MB.
 */
export class BloomFilter {
  readonly bits: Buffer;
  readonly sizeBits: number;
  readonly probes: number;

  private constructor(bits: Buffer, probes: number) {
    this.bits = bits;
    this.sizeBits = bits.length * 8;
    this.probes = probes;
  }

  /** An empty filter sized for `capacity` keys. */
  static forCapacity(capacity: number, bitsPerKey = 10, probes = 7): BloomFilter {
    const bytes = Math.max(64, Math.ceil((Math.max(capacity, 1) * bitsPerKey) / 8));
    return new BloomFilter(Buffer.alloc(Math.min(bytes, 0x1fffffff)), probes);
  }

  add(digest: Buffer): void {
    const h1 = digest.readUInt32LE(0);
    const h2 = digest.readUInt32LE(4) | 1;
    for (let i = 0; i < this.probes; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) % this.sizeBits;
      this.bits[bit >>> 3] = (this.bits[bit >>> 3] ?? 0) | (1 << (bit & 7));
    }
  }

  /** False: certainly absent. True: maybe present. */
  has(digest: Buffer): boolean {
    const h1 = digest.readUInt32LE(0);
    const h2 = digest.readUInt32LE(4) | 1;
    for (let i = 0; i < this.probes; i++) {
      const bit = ((h1 + Math.imul(i, h2)) >>> 0) % this.sizeBits;
      if (((this.bits[bit >>> 3] ?? 0) & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }

  /** The filter as bytes, tagged with the database generation it was built from. */
  serialize(generation: number): Buffer {
    const header = Buffer.alloc(HEADER_BYTES);
    header.write(MAGIC, 0, 'latin1');
    header.writeUInt32LE(1, 4);
    header.writeUInt32LE(this.probes, 8);
    header.writeDoubleLE(generation, 16);
    return Buffer.concat([header, this.bits]);
  }

  /** Reads a serialized filter; `undefined` if it is not one, or was built from another generation. */
  static deserialize(data: Buffer, generation: number): BloomFilter | undefined {
    if (data.length <= HEADER_BYTES || data.toString('latin1', 0, 4) !== MAGIC || data.readUInt32LE(4) !== 1) return undefined;
    if (data.readDoubleLE(16) !== generation) return undefined;
    return new BloomFilter(Buffer.from(data.subarray(HEADER_BYTES)), data.readUInt32LE(8));
  }
}
