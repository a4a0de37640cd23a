import { createHash, type Hash } from 'node:crypto';

/**
 * A digest of a whole agent state: SHA-256 over every entry's path key and fingerprint, in key order. The agent
 * computes it from its cache after a scan, the manager from its baseline; equal digests mean the manager's
 * baseline is exactly what the agent last reported.
 */
export class StateDigest {
  readonly #hash: Hash = createHash('sha256');
  #entries = 0;

  /** Adds one entry; entries must come in path-key order. */
  add(key: Buffer, fingerprint: string): void {
    this.#hash.update(key).update('\0').update(fingerprint).update('\n');
    this.#entries++;
  }

  get entries(): number {
    return this.#entries;
  }

  hex(): string {
    return this.#hash.digest('hex');
  }
}
