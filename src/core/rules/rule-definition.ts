import type { OsMatch } from '../os-match.js';
import type { OsRegex } from '../os-regex.js';

/**
 * OSSEC's pseudo-decoders for FIM events: what `<decoded_as>` can name. OSSEC decodes the 2nd and 3rd change of
 * the same file as `syscheck_integrity_changed_2nd` and `_3rd` (its rules 551 and 552).
 */
export const SYSCHECK_DECODERS = [
  'syscheck_integrity_changed',
  'syscheck_integrity_changed_2nd',
  'syscheck_integrity_changed_3rd',
  'syscheck_deleted',
  'syscheck_new_entry',
] as const;
export type SyscheckDecoder = (typeof SYSCHECK_DECODERS)[number];

/** The decoders OSSEC gives a file's 2nd and 3rd change, by how many changes of it came before. */
export const REPEAT_DECODERS: Readonly<Record<1 | 2, SyscheckDecoder>> = { 1: 'syscheck_integrity_changed_2nd', 2: 'syscheck_integrity_changed_3rd' };

/** `<options>alert_by_email` (mail it whatever its level) or `no_email_alert` (never mail it). */
export type EmailOption = 'always' | 'never';

/** How a `<list>` is consulted. */
export const LIST_LOOKUPS = ['match_key', 'not_match_key', 'match_key_value'] as const;
export type ListLookup = (typeof LIST_LOOKUPS)[number];

/** A `<list field lookup [check_value]>` condition, with the list already loaded. */
export interface ListCondition {
  readonly field: string;
  readonly lookup: ListLookup;
  readonly path: string;
  readonly entries: ReadonlyMap<string, string>;
  readonly checkValue?: OsRegex;
}

/** Where a rule was written, for error messages and `custos rules test`. */
export interface RuleSource {
  readonly file: string;
  readonly line?: number;
}

/** One compiled rule: OSSEC's `<rule>` with the conditions Custos supports for FIM events. */
export interface RuleDefinition {
  readonly id: number;
  readonly level: number;
  readonly description: string;
  readonly groups: readonly string[];
  readonly decodedAs?: SyscheckDecoder;
  readonly ifSid: readonly number[];
  readonly ifGroup: readonly string[];
  readonly ifMatchedSid: readonly number[];
  /** `<if_matched_group>`: like `ifMatchedSid`, counting the matches of any rule of these groups. */
  readonly ifMatchedGroup: readonly string[];
  /** With `ifMatchedSid`: fires when this many matches (this one included) fall within `timeframeMs`. */
  readonly frequency?: number;
  readonly timeframeMs?: number;
  /** With `ifMatchedSid`: count matches per agent only. */
  readonly sameLocation: boolean;
  readonly match?: OsMatch;
  readonly regex?: OsRegex;
  /** Wazuh's `<pcre2>` (or `type="pcre2"`), run on RE2's automaton: also over `full_log`, with the others. */
  readonly pcre2?: OsRegex;
  readonly hostname?: OsMatch;
  readonly fields: readonly { readonly name: string; readonly regex: OsRegex }[];
  readonly lists: readonly ListCondition[];
  /** `<mitre><id>`: the ATT&CK technique ids, carried into the alert's `rule.mitre.id`. */
  readonly mitre?: readonly string[];
  /** `<options>no_log</options>`: the alert is stored but not written to the alert logs. */
  readonly noLog: boolean;
  /** `<options>alert_by_email` / `no_email_alert`. */
  readonly email?: EmailOption;
  /** `<options>no_counter`: its alerts do not count in `rule.firedtimes` (Wazuh). */
  readonly noCounter: boolean;
  readonly overwrite: boolean;
  readonly source: RuleSource;
}
