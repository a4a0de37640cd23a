import { alertRule, type AgentAlert, type AgentRef } from './build-alert.js';
import { CUSTOS_RULES } from './builtin-rules.js';
import { displayPath, isExactDisplay } from './path-bytes.js';

type AgentEvent = AgentAlert['custos']['agent_event'];

const RULE = {
  silent: CUSTOS_RULES.agentSilent,
  back: CUSTOS_RULES.agentBack,
  'out-of-sync': CUSTOS_RULES.outOfSync,
  'outbox-overflow': CUSTOS_RULES.outboxOverflow,
  'packages-not-imported': CUSTOS_RULES.packagesNotImported,
  'directory-not-scanned': CUSTOS_RULES.directoryNotScanned,
  'subtree-not-scanned': CUSTOS_RULES.subtreeNotScanned,
  'state-lost': CUSTOS_RULES.stateLost,
  revoked: CUSTOS_RULES.agentRevoked,
  'revoked-attempt': CUSTOS_RULES.revokedAgentTrying,
  'package-refused': CUSTOS_RULES.packageRefused,
  'scan-summary': CUSTOS_RULES.scanSummary,
  'quota-reached': CUSTOS_RULES.quotaReached,
  'history-trimmed': CUSTOS_RULES.historyTrimmed,
} as const;

/**
 * Builds an alert about an agent or its host (rules 563, 564, 566–572, 574, 581, 582): the text says what happened and
 * what it means for the files it watches; `details` is kept under `custos` (for 572 and 574: `path`, the directory
 * as displayed, and `reason`).
 */
export function buildAgentAlert(input: {
  readonly id: string;
  readonly timestamp: Date;
  readonly agent: AgentRef;
  readonly event: AgentEvent;
  readonly details?: Readonly<Record<string, unknown>>;
}): AgentAlert {
  const { agent, event } = input;
  const detail = (key: string, fallback: string): string => {
    const v = input.details?.[key];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : fallback;
  };
  const who = `Agent ${agent.id} (${agent.name})`;
  const text: Record<AgentEvent, string> = {
    silent: `${who} has been silent since ${detail('last_seen', 'enrollment')}: changes on it are not being seen.`,
    back: `${who} is reporting again after being silent since ${detail('silent_since', '?')}.`,
    'out-of-sync': `${who}: the manager's baseline does not match the agent's state (manager ${detail('manager_digest', '?')}, agent ${detail('agent_digest', '?')}); a full resync was requested.`,
    'outbox-overflow': `${who}: its outbox overflowed while the manager was unreachable; changes were lost and a full resync was requested.`,
    'packages-not-imported': `${who}: the package database (${detail('database', 'dpkg')}) changed after the last known-hash import (the hook did not run, or failed): package changes are not explained and alert. Run 'custos hashdb import ${detail('database', 'dpkg').split(',')[0] ?? 'dpkg'}' to import them.`,
    'directory-not-scanned': `Monitored directory '${detail('path', '?')}' could not be scanned: ${detail('reason', 'no reason given')}. Changes below it are not being seen.`,
    'subtree-not-scanned': `'${detail('path', '?')}' (in a monitored directory) could not be scanned: ${detail('reason', 'no reason given')}. Changes below it are not being seen; the baseline's entries there are kept.`,
    'state-lost': `${who}: its state was lost or rolled back (it numbers batches from ${detail('agent_seq', '?')}, the manager applied up to ${detail('manager_seq', '?')}); it resynchronises against the manager's baseline, so every change since is alerted.`,
    revoked: `${who} was revoked at ${detail('revoked_at', '?')}: it is refused from now on and its files are no longer watched. Changes it had not delivered (the manager applied its batches up to ${detail('last_applied_seq', '0')}) will never be applied; re-enrol the host (agent enroll --replace ${agent.id}) to watch it again.`,
    'package-refused': `${who} installed ${detail('package', 'a package')} from a .deb the manager refused (SHA-256 ${detail('sha256', '?')}): ${detail('reason', 'no reason given')}. Its files are not explained by it.`,
    'scan-summary': `${who}: scan completed; history ${detail('history_records', '0')} records, last record ${detail('last_id', '-')}, chain hash ${detail('chain_hash', '-')}; baseline digest ${detail('baseline_digest', '?')}${input.details?.signature === undefined ? '' : `; signed ${detail('signature', '?')}`}. Keep this copy: custos verify --head finds a history rewritten since.`,
    'quota-reached': `${who} has reached its storage quota on the manager (${detail('reason', '?')}): its batches are refused and wait in its outbox, so its changes are not being recorded. Raise manager.quota, or find what floods it.`,
    'history-trimmed': `${who}: history retention dropped its records made before ${detail('before', '?')} (${detail('dropped_records', '?')} in all); its kept history chains from record ${detail('last_dropped_id', '?')}, hash ${detail('chain_from', '?')}. Keep this copy: custos verify proves the kept history from it.`,
    'revoked-attempt': `${who} was revoked at ${detail('revoked_at', '?')} but is still trying to report (${detail('attempts', '1')} attempt(s) since ${detail('first_attempt', '?')}): refused.${stillHolds(input.details)}`,
  };
  return {
    timestamp: input.timestamp.toISOString(),
    id: input.id,
    agent,
    rule: alertRule(RULE[event]),
    full_log: text[event],
    custos: { agent_event: event, ...(input.details ?? {}) },
  };
}

/**
 * Rule 572 for a monitored directory a scan found nothing to scan in, or (`subtree: true`) rule 574 for a part of
 * one it could not look into (an unreadable directory): `custos.path` as displayed (and `custos.path_bytes`,
 * base64, when the display had to escape bytes), `custos.reason` as the scan gave it.
 */
export function buildDirectoryNotScannedAlert(input: {
  readonly id: string;
  readonly timestamp: Date;
  readonly agent: AgentRef;
  readonly path: Buffer;
  readonly reason: string;
  readonly subtree?: boolean;
}): AgentAlert {
  const exact = isExactDisplay(input.path);
  return buildAgentAlert({
    id: input.id,
    timestamp: input.timestamp,
    agent: input.agent,
    event: input.subtree === true ? 'subtree-not-scanned' : 'directory-not-scanned',
    details: { path: displayPath(input.path), ...(exact ? {} : { path_bytes: input.path.toString('base64') }), reason: input.reason },
  });
}

/** What a revoked agent still holds, as its last attempt showed it. */
function stillHolds(details: Readonly<Record<string, unknown>> | undefined): string {
  if (typeof details?.pending_seq === 'number')
    return ` It still holds undelivered changes (batch ${details.pending_seq}, ${String(details.pending_changes)} changes); they are not applied.`;
  if (typeof details?.pending_batches === 'number') return ` It still holds ${details.pending_batches} undelivered batch(es) of changes; they are not applied.`;
  return '';
}
