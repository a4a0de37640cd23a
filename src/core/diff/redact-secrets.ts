/** One rule for lines that hold a secret: a name for the docs, and the pattern a line is tested with. */
export interface SecretRule {
  readonly name: string;
  readonly pattern: RegExp;
}

/**
 * The built-in secret-line rules (README: "Secrets in diffs"). A line any of them matches is replaced, in the
 * stored copy and therefore in every diff, by `[redacted: N line(s)]`; a private key block is redacted whole.
 */
export const BUILTIN_SECRET_RULES: readonly SecretRule[] = [
  // password = x, passwd: x, secret=x, api_key=x, token: x, with any prefix (db_password, client_secret).
  {
    name: 'password-assignment',
    pattern: /(pass(word|wd|phrase)?|secret|api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?token|token|credentials?)\w*["']?\s*[:=]/i,
  },
  // URLs with a password in them: scheme://user:password@host
  // (From the "://" on: a pattern that starts with the scheme is tried at every letter of every line.)
  { name: 'url-credentials', pattern: /:\/\/[^\s/:@]+:[^\s/@]+@/ },
  // AWS access key ids and secret keys as they are written in credential files.
  { name: 'aws-access-key', pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  // GitHub, GitLab and Slack tokens.
  { name: 'service-token', pattern: /\b(gh[pousr]_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,})\b/ },
  // A crypt(3) hash as in a shadow file line (name:$6$salt$hash:...).
  { name: 'password-hash', pattern: /\$(1|2[abxy]?|5|6|y|gy|7)\$[^\s:$]*\$[./A-Za-z0-9]{8,}/ },
];

const KEY_BEGIN = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;
const KEY_END = /-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;

/** A text with its secret lines replaced, and how many lines were. */
export interface RedactedText {
  readonly text: string;
  readonly redactedLines: number;
}

/**
 * Replaces every line that looks like a secret (the built-in rules, then `extra`) by one `[redacted: N line(s)]`
 * line per run of such lines, so a diff shows that something secret changed, never what. Pure; the whole text
 * is read once.
 */
export function redactSecrets(text: string, extra: readonly RegExp[] = []): RedactedText {
  const lines = text.split('\n');
  const out: string[] = [];
  let run = 0;
  let inKey = false;
  let redacted = 0;
  const flush = (): void => {
    if (run > 0) out.push(`[redacted: ${run} line${run === 1 ? '' : 's'}]`);
    redacted += run;
    run = 0;
  };
  lines.forEach((line, i) => {
    // The empty string after a final newline is not a line.
    if (i === lines.length - 1 && line === '') return;
    const secret = inKey || KEY_BEGIN.test(line) || BUILTIN_SECRET_RULES.some((r) => r.pattern.test(line)) || extra.some((r) => r.test(line));
    if (KEY_BEGIN.test(line)) inKey = true;
    if (inKey && KEY_END.test(line)) inKey = false;
    if (secret) run++;
    else {
      flush();
      out.push(line);
    }
  });
  flush();
  const trailing = text.endsWith('\n') ? '\n' : '';
  return { text: out.join('\n') + trailing, redactedLines: redacted };
}
