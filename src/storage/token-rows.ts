import type { EnrollmentTokenInfo } from './fleet-repository.js';

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
