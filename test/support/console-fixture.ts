import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadRuleSet } from '../../src/analysis/load-rule-set.js';
import { CHECK_ALL } from '../../src/core/check-set.js';
import type { FileState } from '../../src/core/file-state.js';
import { DEFAULT_KNOWN_HASH_POLICY } from '../../src/core/known-hash-policy.js';
import { pathKey } from '../../src/core/path-bytes.js';
import { newCorrelationState } from '../../src/core/rules/rule-set.js';
import { StateDigest } from '../../src/core/state-digest.js';
import { storedFingerprint } from '../../src/core/state-fingerprint.js';
import { applyBatch, type ApplyBatchDeps } from '../../src/manager/apply-batch.js';
import type { ConsolePolicy } from '../../src/manager/console/console-auth.js';
import { consolePlugin, type ConsoleOperations } from '../../src/manager/console/console-plugin.js';
import { hashPassword } from '../../src/manager/console/password-hash.js';
import { encodeObservation, type BatchRequest } from '../../src/protocol/wire.js';
import { consoleStorageOf } from '../../src/manager/console/console-storage.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/storage/store.js';
import { schemaUrl, testSchemaName } from './postgres-test-url.js';
import { fileState } from './file-states.js';
import { tempDir } from './temp-dir.js';

/** Passwords of the fixture's accounts. */
export const ADMIN = { name: 'alice', password: 'alice-password-1' } as const;
export const VIEWER = { name: 'victor', password: 'victor-password-1' } as const;

/** Fast policy for tests: no delays worth waiting for, a lock after 3 failures. */
export const TEST_POLICY: ConsolePolicy = { sessionIdleMs: 60_000, sessionMaxMs: 3_600_000, lockAfter: 3, lockMs: 60_000, failureDelayMs: 1 };

/** The store engines the console runs on; its route tests run over each. */
export const CONSOLE_ENGINES = ['sqlite', 'postgres'] as const;
export type ConsoleEngine = (typeof CONSOLE_ENGINES)[number];

/** A real store with two agents whose changes went through the manager's real ingest, and console accounts. */
export interface ConsoleFixture {
  readonly store: Store;
  readonly engine: ConsoleEngine;
  /** The PostgreSQL schema the store is in (drop it after the test), for the postgres engine. */
  readonly schema?: string;
  /** Rows of one table, read as someone with direct access to the database would. */
  tableRows(table: 'console_sessions'): Promise<readonly Record<string, unknown>[]>;
  readonly agents: readonly { id: string; name: string }[];
  /** Applies one more batch of observed states for an agent (next sequence): changes alert as in the manager. */
  observe(agentIndex: number, states: readonly FileState[]): Promise<number>;
}

const file = (path: string | Buffer, overrides: Partial<FileState> = {}): FileState =>
  fileState({ path: typeof path === 'string' ? Buffer.from(path) : path, ...overrides });

/** What an agent sends as the digest of its whole state `states`, in key order. */
function digestOf(states: readonly FileState[]): { digest: string; entries: number } {
  const d = new StateDigest();
  for (const s of [...states].sort((a, b) => Buffer.compare(pathKey(a.path), pathKey(b.path)))) d.add(pathKey(s.path), storedFingerprint(s));
  return { digest: d.hex(), entries: d.entries };
}

/**
 * Builds the fixture in `dir` (made with tempDir at the test file's top level): baselines of /etc/hosts,
 * /etc/passwd, /usr/bin/ls on two agents (web-1 and db-1), or on the agents `names`.
 */
export async function consoleFixture(
  dir = tempDir('custos-console-'),
  names: readonly string[] = ['web-1', 'db-1'],
  engine: ConsoleEngine = 'sqlite',
): Promise<ConsoleFixture> {
  const schema = engine === 'postgres' ? testSchemaName('custos_console') : undefined;
  const store: Store = schema === undefined ? SqliteStore.open(join(dir, 'custos.db')) : await PostgresStore.open(schemaUrl(schema));
  const at = new Date().toISOString();
  const agents: Awaited<ReturnType<Store['registerAgent']>>[] = [];
  for (const name of names) agents.push(await store.registerAgent(name, at));
  for (const agent of agents) await store.touchAgent(agent.id, at);
  const deps: ApplyBatchDeps = {
    store,
    rules: loadRuleSet([]),
    correlation: newCorrelationState(),
    sinks: [],
    now: () => new Date(),
    policy: { alertNewFiles: true, autoIgnore: { enabled: false, frequency: 3, timeframeMs: 3_600_000 }, knownHashPolicy: DEFAULT_KNOWN_HASH_POLICY },
  };
  const seq = agents.map(() => 0);
  const observe = async (index: number, states: readonly FileState[], extra: Partial<BatchRequest> = {}): Promise<number> => {
    const agent = agents[index]!;
    seq[index]!++;
    const batch: BatchRequest = {
      agentId: agent.id,
      seq: seq[index]!,
      observations: states.map((s) => encodeObservation({ path: s.path, current: s, checks: CHECK_ALL, inBaseline: false })),
      ...extra,
    };
    return (await applyBatch(batch, agent, deps)).alerts;
  };
  const baseline = [file('/etc/hosts'), file('/etc/passwd', { inode: 2 }), file('/usr/bin/ls', { inode: 3, mode: 0o755 })];
  for (let i = 0; i < agents.length; i++)
    await observe(i, baseline, {
      scan: { id: 's1', full: true, first: true },
      end: { id: 's1', full: true, ...digestOf(baseline), durationMs: 5, roots: ['/etc', '/usr'].map((r) => Buffer.from(r).toString('base64')) },
    });
  const console = consoleStorageOf(store);
  if (console === undefined) throw new Error(`no console storage on ${engine}`);
  await console.repository.putUser({ name: ADMIN.name, role: 'admin', passwordHash: await hashPassword(ADMIN.password) }, at);
  await console.repository.putUser({ name: VIEWER.name, role: 'viewer', passwordHash: await hashPassword(VIEWER.password) }, at);
  console.close();
  const tableRows = async (table: 'console_sessions'): Promise<readonly Record<string, unknown>[]> => {
    if (store instanceof PostgresStore) return (await store.database.query(`SELECT * FROM ${table}`)).rows;
    const db = new Database((store as SqliteStore).path, { readonly: true });
    try {
      return db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  };
  return { store, engine, ...(schema === undefined ? {} : { schema }), agents, tableRows, observe: (i, states) => observe(i, states) };
}

/** A modified state of a fixture file: new content (digests) and size. */
export function changed(path: string | Buffer, n: number, overrides: Partial<FileState> = {}): FileState {
  const hex = (c: string, len: number): string => c.repeat(len);
  const c = '0123456789abcdef'[n % 16]!;
  return file(path, {
    size: 100 + n,
    mtimeNs: 1_800_000_000_000_000_000n + BigInt(n),
    hashes: { md5: hex(c, 32), sha1: hex(c, 40), sha256: hex(c, 64) },
    ...overrides,
  });
}

/** A Fastify app with just the console plugin over the fixture's store (for `inject`). */
export async function consoleApp(fixture: ConsoleFixture, policy: ConsolePolicy = TEST_POLICY, operations?: ConsoleOperations): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(
    consolePlugin({
      store: fixture.store,
      silentAfterMs: 60_000,
      logger: pino({ level: 'silent' }),
      now: () => new Date(),
      policy,
      livePollMs: 100,
      ...(operations === undefined ? {} : { operations }),
    }),
  );
  await app.ready();
  return app;
}

/** Signs in through the API; returns the cookie header and CSRF token to send with later requests. */
export async function signIn(app: FastifyInstance, user: { name: string; password: string }): Promise<{ cookie: string; csrf: string }> {
  const reply = await app.inject({ method: 'POST', url: '/api/session', payload: user });
  if (reply.statusCode !== 200) throw new Error(`sign-in failed: ${reply.statusCode} ${reply.body}`);
  const setCookie = String(reply.headers['set-cookie']);
  return { cookie: setCookie.split(';')[0]!, csrf: reply.json<{ csrfToken: string }>().csrfToken };
}
