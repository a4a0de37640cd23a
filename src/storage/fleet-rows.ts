import type { AgentInfo, EnrollmentTokenInfo } from './fleet-repository.js';

// The fleet registry's rows, as both engines read them (same columns), and their one mapping.

/** An agents row. */
export interface AgentRow {
  readonly id: string;
  readonly name: string;
  readonly revoked_at: string | null;
  readonly cert_sha256: string | null;
  readonly last_seen: string | null;
  readonly silent_since: string | null;
  readonly group_name: string | null;
  readonly machine_id: string | null;
}

/** The columns of `AgentRow`, for `SELECT ${AGENT_COLUMNS} FROM agents`. */
export const AGENT_COLUMNS = 'id, name, revoked_at, cert_sha256, last_seen, silent_since, group_name, machine_id';

/** An agent row as the store reports it. */
export function agentInfo(r: AgentRow): AgentInfo {
  return {
    id: r.id,
    name: r.name,
    ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
    ...(r.cert_sha256 === null ? {} : { certSha256: r.cert_sha256 }),
    ...(r.last_seen === null ? {} : { lastSeen: r.last_seen }),
    ...(r.silent_since === null ? {} : { silentSince: r.silent_since }),
    ...(r.group_name === null ? {} : { group: r.group_name }),
    ...(r.machine_id === null ? {} : { machineId: r.machine_id }),
  };
}

/** An enrollment_tokens row without its secret's hash. */
export interface TokenRow {
  readonly id: string;
  readonly created_at: string;
  readonly expires_at: string;
  readonly used_at: string | null;
  readonly used_by: string | null;
}

/** A token row as the store reports it (both engines have the same columns). */
export function tokenInfo(row: TokenRow): EnrollmentTokenInfo {
  return {
    id: row.id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    ...(row.used_at === null ? {} : { usedAt: row.used_at }),
    ...(row.used_by === null ? {} : { usedBy: row.used_by }),
  };
}
