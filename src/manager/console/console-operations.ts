import type { KnownHashStore } from '../../hashdb/known-hash-store.js';

/**
 * What the console's Operations pages need from the running manager beyond its store: the data directory (the
 * central configuration files under `shared/`), the CA fingerprint an enrollment token carries, the default token
 * lifetime (`manager.token_ttl`), and the known-hash database when the manager has one.
 */
export interface ConsoleOperations {
  readonly dataDir: string;
  readonly caSha256: string;
  readonly tokenTtlMs: number;
  readonly knownHashes?: KnownHashStore;
}
