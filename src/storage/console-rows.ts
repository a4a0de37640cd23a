import { pathFromKey } from '../core/path-bytes.js';
import type { AlertSummary, FleetAgent } from './console-queries.js';
import type { AuditEntry } from './console-repository.js';
import type { HashHit } from './fleet-search-queries.js';

// The console's rows as both engines read them (same column names; PostgreSQL returns BIGINT columns as strings,
// hence the Number() conversions), and the one mapping of each into what the console API serves.

/** One alert of either table, shaped alike by both engines' queries. */
export interface AlertSummaryRow {
  ts: string;
  id: string;
  agent_id: string;
  rule_id: number;
  level: number;
  description: string | null;
  event: string | null;
  path: string | null;
  verdict: string | null;
  agent_name: string | null;
  acked_by: string | null;
  acked_at: string | null;
  note: string | null;
}

/** An alert row as the console lists it (the path is base64 of its raw bytes in the row). */
export function alertSummaryFromRow(r: AlertSummaryRow): AlertSummary {
  return {
    id: r.id,
    ts: r.ts,
    agentId: r.agent_id,
    agentName: r.agent_name ?? '',
    ruleId: Number(r.rule_id),
    level: Number(r.level),
    description: r.description ?? '',
    ...(r.event === null ? {} : { event: r.event }),
    ...(r.path === null ? {} : { path: Buffer.from(r.path, 'base64') }),
    ...(r.verdict === null ? {} : { verdict: r.verdict }),
    ...(r.acked_by === null || r.acked_at === null
      ? {}
      : { ack: { alertId: r.id, ackedBy: r.acked_by, ackedAt: r.acked_at, ...(r.note === null ? {} : { note: r.note }) } }),
  };
}

/** An agent with its last scan (the `console_last_scan` meta value, JSON), for the fleet overview. */
export interface FleetAgentRow {
  id: string;
  name: string;
  group_name: string | null;
  revoked_at: string | null;
  last_seen: string | null;
  silent_since: string | null;
  last_scan: string | null;
}

/** The SQL both engines run for `FleetAgentRow`s (agent 000 is the manager's own standalone identity). */
export const FLEET_AGENTS_SQL = `SELECT g.id, g.name, g.group_name, g.revoked_at, g.last_seen, g.silent_since, m.value AS last_scan
  FROM agents g LEFT JOIN agent_meta m ON m.agent_id = g.id AND m.key = 'console_last_scan' WHERE g.id <> '000' ORDER BY g.id`;

/**
 * An agent as the overview shows it: revoked, silent (marked so, or not seen for `silentAfterMs`) or online, with
 * its open alerts by level (`openByAgent`).
 */
export function fleetAgentFromRow(
  a: FleetAgentRow,
  openByAgent: ReadonlyMap<string, Record<string, number>>,
  nowMs: number,
  silentAfterMs: number,
): FleetAgent {
  const seen = a.last_seen === null ? 0 : Date.parse(a.last_seen);
  const status = a.revoked_at !== null ? 'revoked' : a.silent_since !== null || nowMs - seen > silentAfterMs ? 'silent' : 'online';
  const scan = a.last_scan === null ? undefined : (JSON.parse(a.last_scan) as { at?: string; entries?: number });
  return {
    id: a.id,
    name: a.name,
    status,
    openAlerts: openByAgent.get(a.id) ?? {},
    ...(a.group_name === null ? {} : { group: a.group_name }),
    ...(a.last_seen === null ? {} : { lastSeen: a.last_seen }),
    ...(typeof scan?.at === 'string' ? { lastScan: scan.at } : {}),
    ...(typeof scan?.entries === 'number' ? { baselineSize: scan.entries } : {}),
  };
}

/** One audit log row. */
export interface AuditRow {
  id: number | string;
  ts: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  remote: string | null;
  details: string | null;
}

/** An audit row as the console lists it (details are stored as JSON text). */
export function auditEntryFromRow(r: AuditRow): AuditEntry {
  return {
    id: Number(r.id),
    ts: r.ts,
    actor: r.actor,
    action: r.action,
    outcome: r.outcome,
    ...(r.target === null ? {} : { target: r.target }),
    ...(r.remote === null ? {} : { remote: r.remote }),
    ...(r.details === null ? {} : { details: JSON.parse(r.details) as Record<string, unknown> }),
  };
}

/** An audit entry's values for `INSERT INTO console_audit (ts, actor, action, target, outcome, remote, details)`. */
export function auditParams(entry: Omit<AuditEntry, 'id'>): [string, string, string, string | null, string, string | null, string | null] {
  return [
    entry.ts,
    entry.actor,
    entry.action,
    entry.target ?? null,
    entry.outcome,
    entry.remote ?? null,
    entry.details === undefined ? null : JSON.stringify(entry.details),
  ];
}

/** One baseline entry found by digest, with its agent's name. */
export interface HashHitRow {
  agent_id: string;
  agent_name: string;
  path_key: Buffer;
  type: string;
  size: number | string;
  mode: number | string;
  uid: number | string;
  gid: number | string;
  uname: string | null;
  gname: string | null;
  sha256: string | null;
}

/** A digest search hit as the console lists it. */
export function hashHitFromRow(r: HashHitRow): HashHit {
  return {
    agentId: r.agent_id,
    agentName: r.agent_name,
    path: pathFromKey(r.path_key),
    pathKey: r.path_key,
    type: r.type,
    size: Number(r.size),
    mode: Number(r.mode),
    uid: Number(r.uid),
    gid: Number(r.gid),
    ...(r.uname === null ? {} : { uname: r.uname }),
    ...(r.gname === null ? {} : { gname: r.gname }),
    ...(r.sha256 === null ? {} : { sha256: r.sha256 }),
  };
}
