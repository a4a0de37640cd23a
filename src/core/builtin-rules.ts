import type { ChangeKind } from './file-change.js';

/** The rule an event matched, as carried in `rule` of an alert. */
export interface RuleRef {
  readonly id: number;
  readonly level: number;
  readonly description: string;
  readonly groups: readonly string[];
  /** `<mitre>`: the ATT&CK technique ids, in Wazuh's alert shape. */
  readonly mitre?: { readonly id: readonly string[] };
  /** `<options>alert_by_email` (`always`) or `no_email_alert` (`never`): overrides the email level. */
  readonly email?: 'always' | 'never';
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
  agentSilent: {
    id: 563,
    level: 10,
    description: 'Agent stopped reporting: its files are not being watched.',
    groups: ['ossec', 'custos_agent', 'agent_silent'],
  },
  outOfSync: {
    id: 564,
    level: 12,
    description: "Manager baseline differs from the agent's state: full resync requested.",
    groups: ['ossec', 'syscheck', 'custos_agent', 'baseline_out_of_sync'],
  },
  agentBack: {
    id: 566,
    level: 3,
    description: 'Agent reporting again after being silent.',
    groups: ['ossec', 'custos_agent', 'agent_back'],
  },
  outboxOverflow: {
    id: 567,
    level: 10,
    description: 'Agent outbox overflowed while the manager was unreachable: changes were lost, full resync requested.',
    groups: ['ossec', 'syscheck', 'custos_agent', 'outbox_overflow'],
  },
  packagesNotImported: {
    id: 568,
    level: 7,
    description: 'Packages changed since the last known-hash import: package changes are not explained.',
    groups: ['ossec', 'syscheck', 'custos_known_hashes', 'packages_not_imported'],
  },
  directoryNotScanned: {
    id: 572,
    level: 7,
    description: 'Monitored directory could not be scanned: changes below it are not being seen.',
    groups: ['ossec', 'syscheck', 'custos_agent', 'directory_not_scanned'],
  },
  subtreeNotScanned: {
    id: 574,
    level: 7,
    description: 'Part of a monitored directory could not be scanned: changes below it are not being seen.',
    groups: ['ossec', 'syscheck', 'custos_agent', 'subtree_not_scanned'],
  },
  stateLost: {
    id: 569,
    level: 12,
    description: "Agent state lost or rolled back: its numbering is behind what the manager applied; full resync against the manager's baseline.",
    groups: ['ossec', 'syscheck', 'custos_agent', 'agent_state_lost'],
  },
  agentRevoked: {
    id: 570,
    level: 8,
    description: 'Agent revoked: it is refused from now on and its files are no longer watched.',
    groups: ['ossec', 'custos_agent', 'agent_revoked'],
  },
  revokedAgentTrying: {
    id: 571,
    level: 10,
    description: 'Revoked agent still trying to report: what it sends is refused.',
    groups: ['ossec', 'custos_agent', 'agent_revoked_attempt'],
  },
  packageRefused: {
    id: 582,
    level: 10,
    description: 'Package from an agent refused: it is not what the signed indexes the manager trusts list.',
    groups: ['ossec', 'syscheck', 'custos_agent', 'custos_known_hashes', 'package_refused'],
  },
  packageMismatch: {
    id: 575,
    level: 12,
    description: 'Known package content with a mode or owner the package does not ship.',
    groups: ['ossec', 'syscheck', 'syscheck_file', 'custos_known_hashes', 'custos_package_mismatch'],
  },
  fileUnstable: {
    id: 578,
    level: 10,
    description: 'File kept changing while it was read: its content could not be verified (digests are from the last read).',
    groups: ['ossec', 'syscheck', 'syscheck_file', 'custos_file_unstable'],
  },
  directoryReplaced: {
    id: 579,
    level: 10,
    description: 'Monitored directory mounted over or replaced: what is below it now is another file system or directory.',
    groups: ['ossec', 'syscheck', 'syscheck_file', 'custos_directory_replaced'],
  },
  scanSummary: {
    id: 576,
    level: 3,
    description: 'Scan completed: the history head and baseline digest, for safekeeping off the host.',
    groups: ['ossec', 'syscheck', 'custos_scan_summary'],
  },
  quotaReached: {
    id: 577,
    level: 10,
    description: 'Agent storage quota reached on the manager: its changes are refused and wait on the agent.',
    groups: ['ossec', 'syscheck', 'custos_agent', 'agent_quota_reached'],
  },
  historyTrimmed: {
    id: 581,
    level: 3,
    description: "History retention dropped an agent's oldest records: where its kept chain now starts, for safekeeping off the host.",
    groups: ['ossec', 'syscheck', 'custos_agent', 'custos_history_retention'],
  },
  noisy: {
    id: 565,
    level: 7,
    description: 'File changes too often: further changes are recorded, their alerts rolled up.',
    groups: ['ossec', 'syscheck', 'syscheck_file', 'custos_auto_ignore'],
  },
} satisfies Record<string, RuleRef>);
