/** Every error code Custos raises on purpose. The CLI maps them to exit statuses, the manager to HTTP statuses. */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'USAGE',
  'STORE_FAILED',
  'STORE_CORRUPT',
  'SCAN_FAILED',
  'NOT_FOUND',
  /** Input from a peer (an agent's batch) that does not decode: the peer's fault, never a bug here. */
  'MALFORMED_INPUT',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The one error class of Custos: a lowercase message saying what went wrong and what to do, and a `code`. */
export class CustosError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CustosError';
    this.code = code;
  }
}

/** One problem in a configuration file, located as precisely as the format allows. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** Dotted key path inside the file, e.g. `syscheck.directories[1].check_size`. */
  readonly key: string;
  readonly message: string;
}

/** Builds a config issue, leaving out an unknown line. */
export function configIssue(file: string, line: number | undefined, key: string, message: string): ConfigIssue {
  return line === undefined ? { file, key, message } : { file, line, key, message };
}

/** A configuration that cannot be used; carries every issue found, not just the first. */
export class ConfigError extends CustosError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super('CONFIG_INVALID', `invalid configuration:\n${issues.map(formatConfigIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** `file:line: key: message`, the form editors and CI logs link to. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return issue.key === '' ? `${where}: ${issue.message}` : `${where}: ${issue.key}: ${issue.message}`;
}
