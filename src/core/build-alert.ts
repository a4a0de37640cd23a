import type { RuleRef } from './builtin-rules.js';
import type { FullLogStyle, SyscheckMode } from './event-record.js';
import type { ChangeKind, FileChange } from './file-change.js';
import { buildFullLog } from './full-log.js';
import type { KnownHashVerdict } from './known-hash-verdict.js';
import { displayPath } from './path-bytes.js';
import { syscheckFields, type SyscheckFields } from './syscheck-fields.js';
import { buildWazuhFullLog } from './wazuh-full-log.js';

// Kept importable from here, where alerts are built.
export { syscheckFields, type SyscheckFields } from './syscheck-fields.js';

/** The agent an alert is about. Standalone mode is agent `000`, as OSSEC's local install. */
export interface AgentRef {
  readonly id: string;
  readonly name: string;
}

/** Wazuh's compliance fields of `rule`, each derived from the rule's groups with that prefix (`pci_dss_11.5`). */
export const COMPLIANCE_FIELDS = ['pci_dss', 'gpg13', 'gdpr', 'hipaa', 'nist_800_53', 'tsc'] as const;
export type ComplianceField = (typeof COMPLIANCE_FIELDS)[number];

/**
 * `rule` of an alert, as Wazuh writes it: the id a string (`"550"`), the compliance groups moved to Wazuh's
 * compliance arrays. Code that computes with the id reads `Number(rule.id)`.
 */
export type AlertRule = Omit<RuleRef, 'id'> & { readonly id: string; readonly firedtimes?: number; readonly mail?: boolean } & {
  readonly [F in ComplianceField]?: readonly string[];
};

/** What every alert has, file alerts and agent alerts alike: what the sinks need. */
export interface AlertBase {
  readonly timestamp: string;
  readonly id: string;
  readonly agent: AgentRef;
  readonly rule: AlertRule;
  readonly full_log: string;
}

/**
 * Every group of an alert's rule, as the rule file lists them: the compliance groups that `alerts.json` carries in
 * Wazuh's arrays (`rule.pci_dss: ["11.5"]`) are groups again (`pci_dss_11.5`), for alerts.log's header and for
 * email routes that name a group.
 */
export function ruleGroups(rule: AlertRule): string[] {
  return [...rule.groups, ...COMPLIANCE_FIELDS.flatMap((field) => (rule[field] ?? []).map((value) => `${field}_${value}`))];
}

/** Wazuh's decoder names for FIM events, per kind of change. */
const DECODER_OF: Readonly<Record<ChangeKind, string>> = {
  modified: 'syscheck_integrity_changed',
  added: 'syscheck_new_entry',
  deleted: 'syscheck_deleted',
};

/**
 * A rule as Wazuh writes it in an alert: a group named `<field>_<value>` for a compliance field (`pci_dss_11.5`,
 * `nist_800_53_SI.7`) becomes `<value>` in that field's array and leaves `groups`, as Wazuh's analysisd does.
 */
export function alertRule(rule: RuleRef): AlertRule {
  // Rule references are shared (one per rule), so is what alerts carry of them: alerts are never mutated.
  const cached = alertRules.get(rule);
  if (cached !== undefined) return cached;
  const built = splitCompliance(rule);
  alertRules.set(rule, built);
  return built;
}

const alertRules = new WeakMap<RuleRef, AlertRule>();

function splitCompliance(rule: RuleRef): AlertRule {
  const compliance: Partial<Record<ComplianceField, string[]>> = {};
  const groups: string[] = [];
  for (const group of rule.groups) {
    // nist_800_53 before any shorter prefix it could be mistaken for; none of the others prefixes another.
    const field = COMPLIANCE_FIELDS.find((f) => group.startsWith(`${f}_`) && group.length > f.length + 1);
    if (field === undefined) groups.push(group);
    else (compliance[field] ??= []).push(group.slice(field.length + 1));
  }
  return { ...rule, id: String(rule.id), groups, ...compliance };
}

/**
 * An alert about an agent rather than a file: silent, back, out of sync, outbox overflow, or a monitored
 * directory (or a subtree of one) it could not scan.
 */
export interface AgentAlert extends AlertBase {
  readonly custos: {
    readonly agent_event:
      | 'silent'
      | 'back'
      | 'out-of-sync'
      | 'outbox-overflow'
      | 'packages-not-imported'
      | 'directory-not-scanned'
      | 'subtree-not-scanned'
      | 'state-lost'
      | 'revoked'
      | 'revoked-attempt'
      | 'package-refused'
      | 'scan-summary'
      | 'quota-reached'
      | 'history-trimmed';
    readonly [key: string]: unknown;
  };
}

/** Any alert a sink may receive. */
export type AnyAlert = Alert | AgentAlert;

/** One alert, exactly as written to `alerts.json` (one object per line) and printed by `--json`. */
export interface Alert extends AlertBase {
  /** Wazuh's decoder for the kind of change: `syscheck_integrity_changed`, `syscheck_new_entry`, `syscheck_deleted`. */
  readonly decoder: { readonly name: string };
  /** Wazuh's and OSSEC's location of FIM events. */
  readonly location: 'syscheck';
  readonly syscheck: SyscheckFields;
  readonly known_hash: KnownHashVerdict;
  /** Custos's own annotations: `rolled_up`, changes recorded without alerts while the file was noisy. */
  readonly custos?: { readonly rolled_up?: number };
}

/** What {@link buildAlert} needs beyond the change itself; time and ids come from the caller. */
export interface AlertInput {
  readonly id: string;
  readonly timestamp: Date;
  readonly agent: AgentRef;
  readonly rule: RuleRef;
  readonly change: FileChange;
  readonly verdict: KnownHashVerdict;
  readonly rolledUp?: number;
  /** Already built for the rules: reused rather than built twice. */
  readonly parts?: AlertParts;
  /** The change's decoder, when not the plain one of its kind (a file's 2nd or 3rd change). */
  readonly decoder?: string;
  /** Wazuh's `rule.firedtimes`. */
  readonly firedTimes?: number;
  /** How the change was seen and the `full_log` wording (when `parts` is not given). */
  readonly view?: AlertView;
  /** `syscheck.diff`: the content diff of a report_changes file, or why there is none. */
  readonly diff?: string;
}

/** How an alert's change-dependent parts are worded: how the change was seen, and whose `full_log` text. */
export interface AlertView {
  readonly mode: SyscheckMode;
  readonly fullLogStyle: FullLogStyle;
}

/** A change seen by a scheduled scan (or `custos check`), told in OSSEC's words. */
export const DEFAULT_VIEW: AlertView = Object.freeze({ mode: 'scheduled', fullLogStyle: 'ossec' });

/** The parts of an alert that depend on the change only: what the rules read, too. */
export interface AlertParts {
  readonly syscheck: SyscheckFields;
  readonly fullLog: string;
}

/** Builds the change-dependent parts of an alert; `diff` is Wazuh's `syscheck.diff` (report_changes). */
export function alertParts(change: FileChange, view: AlertView = DEFAULT_VIEW, diff?: string): AlertParts {
  const display = displayPath(change.path);
  const fullLog = view.fullLogStyle === 'wazuh' ? buildWazuhFullLog(change, view.mode, display) : buildFullLog(change, display);
  const syscheck = syscheckFields(change, display, view.mode);
  return { syscheck: diff === undefined ? syscheck : { ...syscheck, diff }, fullLog };
}

/** Builds the alert for a change that a rule decided to raise. */
export function buildAlert(input: AlertInput): Alert {
  const parts = input.parts ?? alertParts(input.change, input.view, input.diff);
  const rule = alertRule(input.rule);
  return {
    timestamp: input.timestamp.toISOString(),
    id: input.id,
    agent: input.agent,
    rule: input.firedTimes === undefined ? rule : { ...rule, firedtimes: input.firedTimes },
    decoder: { name: input.decoder ?? DECODER_OF[input.change.kind] },
    location: 'syscheck',
    syscheck: parts.syscheck,
    known_hash: input.verdict,
    full_log: parts.fullLog + packageMismatchLine(input.verdict),
    ...(input.rolledUp === undefined ? {} : { custos: { rolled_up: input.rolledUp } }),
  };
}

/**
 * For rule 575, what the package declares and what the file has, as a line of `full_log` (alerts.log shows only
 * that text); empty for any other verdict.
 */
export function packageMismatchLine(v: KnownHashVerdict): string {
  if (v.verdict !== 'package-mismatch') return '';
  const pkg = v.package === undefined ? (v.source ?? '') : `${v.package} ${v.version ?? ''} (${v.source ?? ''})`;
  const declared =
    v.declared_mode === undefined
      ? 'no mode declared'
      : `declared mode ${v.declared_mode} ${v.declared_owner ?? '?'}:${v.declared_group ?? '?'}${v.declared_by === undefined ? '' : ` (${v.declared_by})`}`;
  return `\nPackage ${pkg}: ${declared}; actual mode ${v.actual_mode ?? '?'} ${v.actual_owner ?? '?'}:${v.actual_group ?? '?'} (${v.mismatch ?? ''})`;
}
