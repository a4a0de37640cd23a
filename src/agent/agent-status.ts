import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CustosError } from '../core/custos-error.js';
import { FOOTPRINT_META_KEY, type AgentFootprint } from './agent-footprint.js';
import type { AgentIdentity } from './enroll-agent.js';

/** What `custos status` reports of an agent's data directory. */
export interface AgentStatus {
  readonly agentId: string;
  readonly name: string;
  readonly managerUrl: string;
  /** The fleet's other managers, tried in order when the first cannot be reached. */
  readonly alternates?: readonly string[];
  /** Batches written but not yet acknowledged by the manager. */
  readonly outboxDepth: number;
  /** When the oldest of them was queued (how long the link has been behind). */
  readonly oldestQueued?: string;
  /** Entries in the agent's local cache (what it last scanned). */
  readonly cachedEntries: number;
  /** When the last scheduled scan ended. */
  readonly lastScanEnd?: string;
  /** The running agent's resident memory, threads and scan throttle, as of its last keep-alive. */
  readonly footprint?: AgentFootprint;
}

/** Reads an agent's identity and its agent.db read-only (never created, never migrated). */
export function readAgentStatus(dataDir: string): AgentStatus {
  const identityFile = join(dataDir, 'agent.json');
  const stateFile = join(dataDir, 'agent.db');
  if (!existsSync(identityFile)) throw new CustosError('NOT_FOUND', `no enrolled agent in ${dataDir} (no agent.json)`);
  const identity = JSON.parse(readFileSync(identityFile, 'utf8')) as AgentIdentity;
  const base = {
    agentId: identity.agentId,
    name: identity.name,
    managerUrl: identity.managerUrl,
    ...(identity.alternates === undefined ? {} : { alternates: identity.alternates }),
  };
  // Enrolled but never started: nothing queued, nothing scanned yet.
  if (!existsSync(stateFile)) return { ...base, outboxDepth: 0, cachedEntries: 0 };
  const db = new Database(stateFile, { readonly: true, fileMustExist: true });
  try {
    const outbox = db.prepare('SELECT count(*), min(created_at) FROM outbox').raw(true).get() as [number, string | null];
    const lastScan = db.prepare("SELECT value FROM meta WHERE key = 'last_scan_end'").pluck().get() as string | undefined;
    const footprint = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(FOOTPRINT_META_KEY) as string | undefined;
    return {
      ...base,
      outboxDepth: outbox[0],
      ...(outbox[1] === null ? {} : { oldestQueued: outbox[1] }),
      cachedEntries: Number(db.prepare('SELECT count(*) FROM cache').pluck().get()),
      ...(lastScan === undefined ? {} : { lastScanEnd: new Date(Number(lastScan)).toISOString() }),
      ...(footprint === undefined ? {} : { footprint: JSON.parse(footprint) as AgentFootprint }),
    };
  } finally {
    db.close();
  }
}
