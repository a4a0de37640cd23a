/** The parts of an enrollment token: which token, its secret, and the manager CA it pins. */
export interface ParsedToken {
  readonly id: string;
  readonly secret: string;
  /** SHA-256 of the manager's CA certificate, hex: the agent trusts only a manager presenting this CA. */
  readonly caSha256: string;
}

const PREFIX = 'cst1';

/** Writes a token: `cst1.<id>.<secret>.<CA SHA-256>`. */
export function formatEnrollmentToken(token: ParsedToken): string {
  return `${PREFIX}.${token.id}.${token.secret}.${token.caSha256}`;
}

/** Splits a token; `undefined` when it is not one of ours. */
export function parseEnrollmentToken(token: string): ParsedToken | undefined {
  const parts = token.trim().split('.');
  if (parts.length !== 4 || parts[0] !== PREFIX) return undefined;
  const [, id = '', secret = '', caSha256 = ''] = parts;
  if (!/^[0-9a-f]{12}$/.test(id) || !/^[A-Za-z0-9_-]{20,64}$/.test(secret) || !/^[0-9a-f]{64}$/.test(caSha256)) return undefined;
  return { id, secret, caSha256 };
}
