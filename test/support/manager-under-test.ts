import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { loadRuleSet } from '../../src/analysis/load-rule-set.js';
import type { AnyAlert } from '../../src/core/build-alert.js';
import { parseYamlConfig } from '../../src/core/config/yaml-config.js';
import type { KnownHashStore } from '../../src/hashdb/known-hash-store.js';
import { createManagerApp } from '../../src/manager/manager-app.js';
import { ManagerContext } from '../../src/manager/manager-context.js';
import { certSha256, ensureManagerPki, signAgentCsr, type ManagerPki } from '../../src/manager/manager-pki.js';
import type { Peer } from '../../src/manager/routes/tls-peer.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/storage/store.js';

/** The header a test puts its client certificate's identity in: `inject` has no TLS connection to read it from. */
export const TEST_PEER_HEADER = 'x-test-peer';

/** One log line the manager wrote, parsed. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A manager app over a real SQLite store and real PKI (openssl), not listening: requests go through `inject`. */
export interface ManagerUnderTest {
  readonly app: FastifyInstance;
  readonly ctx: ManagerContext;
  readonly store: SqliteStore;
  readonly pki: ManagerPki;
  readonly dataDir: string;
  readonly alerts: AnyAlert[];
  readonly logs: LogLine[];
  /** Enrolls an agent straight in the store with a real certificate; returns the peer header that presents it. */
  enrollAgent(name: string): Promise<{ id: string; peer: Peer; headers: Record<string, string>; cert: string; key: string }>;
  /** With `tls: true`: listens on 127.0.0.1 (any free port) and returns its URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

const pkis = new Map<string, Promise<ManagerPki>>();

/**
 * Builds a manager app in `dir`. The peer of a request is what its {@link TEST_PEER_HEADER} says (JSON); the TLS
 * certificate reading itself is covered by the end-to-end fleet tests over real TLS. `storeFor` may wrap the real
 * store (fault injection).
 */
export async function managerUnderTest(
  dir: string,
  options: { knownHashes?: KnownHashStore; storeFor?: (store: SqliteStore) => Store; silentAfter?: string; tls?: boolean } = {},
): Promise<ManagerUnderTest> {
  const dataDir = join(dir, 'manager');
  mkdirSync(dataDir, { recursive: true });
  // One PKI per directory (openssl key generation is the slow part).
  let pkiPromise = pkis.get(dataDir);
  if (pkiPromise === undefined) pkis.set(dataDir, (pkiPromise = ensureManagerPki(dataDir)));
  const pki = await pkiPromise;
  // As `openManagerStore` opens it: agent batches that arrive together share a COMMIT.
  const store = SqliteStore.open(join(dataDir, 'manager.db'), { groupCommit: {} });
  const parsed = parseYamlConfig(`manager:\n  silent_after: ${options.silentAfter ?? '1h'}\n`, 'custos.yml', { dataDir, hostname: 'manager' });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  const alerts: AnyAlert[] = [];
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const ctx = new ManagerContext({
    dataDir,
    config: parsed.value.config,
    store: options.storeFor?.(store) ?? store,
    pki,
    rules: loadRuleSet([]),
    ...(options.knownHashes === undefined ? {} : { knownHashes: options.knownHashes }),
    sinks: [{ write: async (a) => void alerts.push(...a), close: async () => {} }],
    logger,
    now: () => new Date(),
  });
  const app = await createManagerApp(
    ctx,
    options.tls === true
      ? { tls: true }
      : {
          tls: false,
          peerOf: (request) => {
            const header = request.headers[TEST_PEER_HEADER];
            return typeof header === 'string' ? (JSON.parse(header) as Peer) : undefined;
          },
        },
  );
  await app.ready();
  return {
    app,
    ctx,
    store,
    pki,
    dataDir,
    alerts,
    logs,
    enrollAgent: async (name) => {
      const agent = await store.registerAgent(name, new Date().toISOString());
      const key = join(dir, `${name}.key`);
      const csr = execFileSync(
        'openssl',
        ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', `/CN=${name}`],
        { encoding: 'utf8' },
      );
      const cert = await signAgentCsr(pki, csr, agent.id);
      await store.setAgentCertificate(agent.id, certSha256(cert));
      const peer = { id: agent.id, sha256: certSha256(cert) };
      return { id: agent.id, peer, headers: { [TEST_PEER_HEADER]: JSON.stringify(peer) }, cert, key: readFileSync(key, 'utf8') };
    },
    listen: async () => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      if (typeof address !== 'object' || address === null) throw new Error('not listening');
      return `https://127.0.0.1:${address.port}`;
    },
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

/** A real certificate request (openssl), as `agent enroll` makes one. */
export function certificateRequest(dir: string, name: string): string {
  return execFileSync(
    'openssl',
    ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}-csr.key`), '-subj', `/CN=${name}`],
    { encoding: 'utf8' },
  );
}

/** The manager's CA certificate, as enrollment returns it. */
export function caOf(m: ManagerUnderTest): string {
  return readFileSync(join(m.dataDir, 'pki', 'ca.crt'), 'utf8');
}
