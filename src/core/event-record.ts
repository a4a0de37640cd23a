import { hash } from 'node:crypto';
import type { RuleRef } from './builtin-rules.js';
import { ATTRIBUTES, type Attribute } from './compare-file-state.js';
import { CHANGE_KINDS, type FileChange } from './file-change.js';
import { fileStateFromJson, fileStateJsonText } from './file-state-json.js';
import { jsonString } from './json-string.js';
import { VERDICTS, type KnownHashVerdict } from './known-hash-verdict.js';

/**
 * What became of a recorded change:
 * - `alerted`: a rule raised an alert
 * - `recorded`: kept in the history without an alert (see `reason`)
 * - `accepted`: an operator took the new state as the baseline (`custos accept`)
 */
export const EVENT_OUTCOMES = ['alerted', 'recorded', 'accepted'] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

/** One entry of the append-only history: a change, its verdict and what was done about it. */
export interface EventRecord {
  readonly agentId: string;
  readonly timestamp: string;
  readonly change: FileChange;
  readonly verdict: KnownHashVerdict;
  readonly rule?: RuleRef;
  readonly outcome: EventOutcome;
  /** Why a change was not alerted, e.g. `new files are not alerted` or `accepted by root`. */
  readonly reason?: string;
  readonly alertId?: string;
  /** Changes rolled up (auto-ignore) before this alert, reported on it. */
  readonly rolledUp?: number;
  /** How the change was seen (Wazuh's `syscheck.mode`); absent: by a scheduled scan (or `custos check`). */
  readonly mode?: SyscheckMode;
  /** The decoder of a file's 2nd or 3rd change (OSSEC's `syscheck_integrity_changed_2nd`/`_3rd`), when a rule used it. */
  readonly decoder?: string;
  /** The `full_log` wording the rules saw, when it was Wazuh's (absent: OSSEC's). */
  readonly fullLogStyle?: FullLogStyle;
  /** How many times its rule had fired in this manager process, this alert included (Wazuh's `rule.firedtimes`). */
  readonly firedTimes?: number;
  /** The content diff of a report_changes file (or why there is none), as the alert's `syscheck.diff`. */
  readonly diff?: string;
}

/** How a change was seen: by a scheduled scan, or by the realtime watcher. Custos has no who-data mode. */
export const SYSCHECK_MODES = ['scheduled', 'realtime'] as const;
export type SyscheckMode = (typeof SYSCHECK_MODES)[number];

/** The wording of `full_log`: OSSEC's (`Integrity checksum changed for: '…'`) or Wazuh's (`File '…' modified`). */
export const FULL_LOG_STYLES = ['ossec', 'wazuh'] as const;
export type FullLogStyle = (typeof FULL_LOG_STYLES)[number];

/** The hash that precedes the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Encodes a record as the exact text the history stores and the chain hashes. Key order is fixed, so the same
 * record always encodes to the same text: `JSON.stringify` of `{v: 1, agent, time, event, path, changed?,
 * before?, after?, verdict, rule?, outcome, reason?, alert?, rolled_up?, mode?, decoder?, full_log?, fired?, diff?}`, written out directly because the
 * manager encodes every record it ingests.
 */
export function encodeEventRecord(record: EventRecord): string {
  const c = record.change;
  const path = c.path.toString('base64');
  let text = `{"v":1,"agent":${jsonString(record.agentId)},"time":${jsonString(record.timestamp)},"event":"${c.kind}","path":"${path}"`;
  if (c.kind === 'modified') text += `,"changed":${JSON.stringify(c.changedAttributes)}`;
  // The states' paths are the change's (the same bytes): encoded once, not three times.
  if (c.kind !== 'added') text += `,"before":${fileStateJsonText(c.before, samePath(c.before.path, c.path) ? path : undefined)}`;
  if (c.kind !== 'deleted') text += `,"after":${fileStateJsonText(c.after, samePath(c.after.path, c.path) ? path : undefined)}`;
  text += `,"verdict":${JSON.stringify(record.verdict)}`;
  if (record.rule !== undefined) text += `,"rule":${ruleJson(record.rule)}`;
  text += `,"outcome":"${record.outcome}"`;
  if (record.reason !== undefined) text += `,"reason":${JSON.stringify(record.reason)}`;
  if (record.alertId !== undefined) text += `,"alert":${jsonString(record.alertId)}`;
  if (record.rolledUp !== undefined) text += `,"rolled_up":${JSON.stringify(record.rolledUp)}`;
  // Newer keys, each only when it says something: older records keep their exact text (and chain hashes).
  if (record.mode !== undefined && record.mode !== 'scheduled') text += `,"mode":"${record.mode}"`;
  if (record.decoder !== undefined) text += `,"decoder":${JSON.stringify(record.decoder)}`;
  if (record.fullLogStyle !== undefined && record.fullLogStyle !== 'ossec') text += `,"full_log":"${record.fullLogStyle}"`;
  if (record.firedTimes !== undefined) text += `,"fired":${JSON.stringify(record.firedTimes)}`;
  if (record.diff !== undefined) text += `,"diff":${JSON.stringify(record.diff)}`;
  return `${text}}`;
}

function samePath(a: Buffer, b: Buffer): boolean {
  return a === b || a.equals(b);
}

/**
 * `JSON.stringify(rule)`, once per rule: rule references are shared (one object per rule of a rule set, never
 * changed), and most records carry one of a few rules.
 */
function ruleJson(rule: RuleRef): string {
  let json = ruleTexts.get(rule);
  if (json === undefined) {
    json = JSON.stringify(rule);
    ruleTexts.set(rule, json);
  }
  return json;
}

const ruleTexts = new WeakMap<RuleRef, string>();

/** Decodes the stored text of a record; throws a `TypeError` naming what is malformed. */
export function decodeEventRecord(text: string): EventRecord {
  const data = JSON.parse(text) as Record<string, unknown>;
  if (data.v !== 1) throw new TypeError('unsupported event record version');
  const kind = data.event;
  if (typeof kind !== 'string' || !(CHANGE_KINDS as readonly string[]).includes(kind)) {
    throw new TypeError('event record has an invalid event kind');
  }
  const path = Buffer.from(String(data.path), 'base64');
  let change: FileChange;
  if (kind === 'added') change = { kind, path, after: fileStateFromJson(data.after), changedAttributes: [] };
  else if (kind === 'deleted') change = { kind, path, before: fileStateFromJson(data.before), changedAttributes: [] };
  else {
    const changed = Array.isArray(data.changed) ? data.changed : [];
    if (!changed.every((a) => (ATTRIBUTES as readonly unknown[]).includes(a))) {
      throw new TypeError('event record lists an unknown attribute');
    }
    change = {
      kind: 'modified',
      path,
      before: fileStateFromJson(data.before),
      after: fileStateFromJson(data.after),
      changedAttributes: changed as Attribute[],
    };
  }
  const verdict = data.verdict as KnownHashVerdict;
  if (!(VERDICTS as readonly string[]).includes(verdict?.verdict)) throw new TypeError('event record has no verdict');
  const outcome = data.outcome;
  if (typeof outcome !== 'string' || !(EVENT_OUTCOMES as readonly string[]).includes(outcome)) {
    throw new TypeError('event record has an invalid outcome');
  }
  const record: { -readonly [K in keyof EventRecord]: EventRecord[K] } = {
    agentId: String(data.agent),
    timestamp: String(data.time),
    change,
    verdict,
    outcome: outcome as EventOutcome,
  };
  if (data.rule !== undefined) record.rule = data.rule as RuleRef;
  if (typeof data.reason === 'string') record.reason = data.reason;
  if (typeof data.alert === 'string') record.alertId = data.alert;
  if (typeof data.rolled_up === 'number') record.rolledUp = data.rolled_up;
  if (data.mode === 'realtime') record.mode = 'realtime';
  if (typeof data.decoder === 'string') record.decoder = data.decoder;
  if (data.full_log === 'wazuh') record.fullLogStyle = 'wazuh';
  if (typeof data.fired === 'number') record.firedTimes = data.fired;
  if (typeof data.diff === 'string') record.diff = data.diff;
  return record;
}

/** The chain link: SHA-256 over the previous record's hash and this record's stored text. */
export function chainHash(previousHash: string, recordText: string): string {
  // One-shot: a Hash object per record cost as much as the digest itself.
  return hash('sha256', `${previousHash}\n${recordText}`, 'hex');
}
