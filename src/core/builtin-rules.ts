import type { ChangeKind } from './file-change.js';

/** The rule an event matched, as carried in `rule` of an alert. */
export interface RuleRef {
  readonly id: number;
  readonly level: number;
  readonly description: string;
  readonly groups: readonly string[];
}

/**
 * OSSEC's syscheck rules, with OSSEC's ids, levels and descriptions (550 changed, 553 deleted, 554 added) and
 * Wazuh's extra groups, so existing dashboards and `<if_sid>`/`<if_group>` rules keep working.
 */
export const BUILTIN_RULES: Readonly<Record<ChangeKind, RuleRef>> = Object.freeze({
  modified: {
    id: 550,
    level: 7,
    description: 'Integrity checksum changed.',
    groups: ['ossec', 'syscheck', 'syscheck_entry_modified', 'syscheck_file'],
  },
  deleted: {
    id: 553,
    level: 7,
    description: 'File deleted.',
    groups: ['ossec', 'syscheck', 'syscheck_entry_deleted', 'syscheck_file'],
  },
  added: {
    id: 554,
    level: 5,
    description: 'File added to the system.',
    groups: ['ossec', 'syscheck', 'syscheck_entry_added', 'syscheck_file'],
  },
});

/** Custos's own rules, from 560 up. */
export const CUSTOS_RULES = Object.freeze({
  knownBad: {
    id: 561,
    level: 15,
    description: 'File content matches a known-bad hash.',
    groups: ['ossec', 'syscheck', 'syscheck_file', 'custos_known_bad'],
  },
  knownElsewhere: {
    id: 562,
    level: 8,
    description: 'Known content in an unexpected place.',
    groups: ['ossec', 'syscheck', 'syscheck_file', 'custos_known_elsewhere'],
  },
  noisy: {
    id: 565,
    level: 7,
    description: 'File changes too often: further changes are recorded, their alerts rolled up.',
    groups: ['ossec', 'syscheck', 'syscheck_file', 'custos_auto_ignore'],
  },
} satisfies Record<string, RuleRef>);
