import type { AgentRef, AlertParts } from '../build-alert.js';
import type { FileChange } from '../file-change.js';
import type { KnownHashVerdict } from '../known-hash-verdict.js';
import { REPEAT_DECODERS, SYSCHECK_DECODERS, type SyscheckDecoder } from './rule-definition.js';
import type { RuleInput } from './rule-set.js';

const DECODER: Readonly<Record<FileChange['kind'], SyscheckDecoder>> = {
  modified: 'syscheck_integrity_changed',
  deleted: 'syscheck_deleted',
  added: 'syscheck_new_entry',
};

// Wazuh's syscheck decoder names its fields this way; rules written for it keep working.
const WAZUH_FIELDS: Readonly<Record<string, string>> = {
  file: 'syscheck.path',
  path: 'syscheck.path',
  changed_fields: 'syscheck.changed_attributes',
  changed_attributes: 'syscheck.changed_attributes',
  event_type: 'syscheck.event',
  type: 'syscheck.event',
  size: 'syscheck.size_after',
  perm: 'syscheck.perm_after',
  uid: 'syscheck.uid_after',
  gid: 'syscheck.gid_after',
  uname: 'syscheck.uname_after',
  gname: 'syscheck.gname_after',
  mtime: 'syscheck.mtime_after',
  inode: 'syscheck.inode_after',
  md5: 'syscheck.md5_after',
  sha1: 'syscheck.sha1_after',
  sha256: 'syscheck.sha256_after',
  // Wazuh's name for the report_changes diff in rules.
  changed_content: 'syscheck.diff',
  diff: 'syscheck.diff',
};

/**
 * The decoder OSSEC's analysisd gives a change. A modification is `syscheck_integrity_changed`, except that the
 * file's 2nd and 3rd change are `syscheck_integrity_changed_2nd` and `_3rd` (OSSEC counts every recorded change of
 * the file: modifications, deletions, re-additions) when a rule asks for that decoder (`wanted`); without such
 * a rule, a repeated change stays a plain one, so it is never left without a rule. From the 4th change on, OSSEC
 * stops reporting the file (its auto-ignore); Custos does not go silent: the change is a plain one again, and its
 * own `auto_ignore` rolls up a noisy file.
 */
export function syscheckDecoder(kind: FileChange['kind'], priorChanges: number, wanted: ReadonlySet<SyscheckDecoder>): SyscheckDecoder {
  if (kind !== 'modified') return DECODER[kind];
  const repeat = priorChanges === 1 || priorChanges === 2 ? REPEAT_DECODERS[priorChanges] : undefined;
  return repeat !== undefined && wanted.has(repeat) ? repeat : DECODER.modified;
}

/** The input the rules see for a change: OSSEC's decoder name and alert text, and the alert's fields. */
export function buildRuleInput(args: {
  readonly parts: AlertParts;
  readonly verdict: KnownHashVerdict;
  readonly agent: AgentRef;
  readonly now: number;
  /** The change's decoder when it is not the plain one for its kind (see {@link syscheckDecoder}). */
  readonly decoder?: SyscheckDecoder;
}): RuleInput {
  const document = { agent: args.agent, syscheck: args.parts.syscheck, known_hash: args.verdict, full_log: args.parts.fullLog };
  return ruleInputFromAlert(args.decoder === undefined ? document : { ...document, decoder: { name: args.decoder } }, args.now);
}

/**
 * The input the rules see for an alert-shaped document (`alerts.json` lines, `custos events --json` lines): what
 * `custos rules test` feeds them, and the same thing the pipeline feeds them.
 */
export function ruleInputFromAlert(
  document: { readonly agent: AgentRef; readonly syscheck: { readonly event: FileChange['kind'] }; readonly full_log: string } & Record<string, unknown>,
  now: number,
): RuleInput {
  // Hundreds of rules may ask for the same few fields: each is resolved once per event.
  const cache = new Map<string, string | undefined>();
  // An alert names its decoder (a 2nd change's is `syscheck_integrity_changed_2nd`): the rules see the same one.
  const named = (document.decoder as { name?: unknown } | undefined)?.name;
  const decoder =
    typeof named === 'string' &&
    (SYSCHECK_DECODERS as readonly string[]).includes(named) &&
    document.syscheck.event === 'modified' &&
    named.startsWith(DECODER.modified)
      ? (named as SyscheckDecoder)
      : DECODER[document.syscheck.event];
  return {
    decoder,
    fullLog: document.full_log,
    hostname: ruleHostname(document.agent),
    location: document.agent.id,
    now,
    field: (name) => {
      if (cache.has(name)) return cache.get(name);
      const value = fieldValue(document, WAZUH_FIELDS[name] ?? (name.endsWith('_before') && !name.includes('.') ? `syscheck.${name}` : name));
      cache.set(name, value);
      return value;
    },
  };
}

/**
 * What `<hostname>` matches, as OSSEC's analysisd sets it: an agent's events come from `(name) ip->syscheck`
 * (Custos does not track agent addresses for this, so `any`), a local install's from its host name.
 */
export function ruleHostname(agent: AgentRef): string {
  return agent.id === '000' ? agent.name : `(${agent.name}) any->syscheck`;
}

/** Reads a dotted field from an alert-shaped document; arrays are joined with commas, as Wazuh prints them. */
export function fieldValue(document: Readonly<Record<string, unknown>>, dotted: string): string | undefined {
  let value: unknown = document;
  for (const part of dotted.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}
