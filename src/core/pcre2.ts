import { RE2JS } from 're2js';
import type { OsRegex } from './os-regex.js';

/** A PCRE2 pattern (Wazuh's `<pcre2>`, `type="pcre2"`) that has no linear-time equivalent, or is not a pattern. */
export class Pcre2Error extends Error {
  constructor(pattern: string, reason: string) {
    super(
      `PCRE2 pattern ${JSON.stringify(pattern)} cannot be used: ${reason} (Custos runs patterns in linear time, with RE2's syntax: no lookaround, backreferences, atomic groups or possessive quantifiers)`,
    );
    this.name = 'Pcre2Error';
  }
}

/**
 * Compiles a Wazuh PCRE2 pattern on RE2's automaton (re2js): case-sensitive unless it says `(?i)`, as in PCRE2.
 * What RE2 cannot express (lookaround, backreferences) is refused here, at load time, rather than matched
 * differently or slowly.
 */
export function compilePcre2(source: string): OsRegex {
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(source);
  } catch (error) {
    throw new Pcre2Error(source, (error as Error).message);
  }
  return { source, test: (text) => regex.test(text) };
}
