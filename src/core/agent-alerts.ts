import type { AgentAlert, AgentRef } from './build-alert.js';
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
} as const;

/**
 * Builds an alert about an agent or its host (rules 563, 564, 566, 567, 568, 572): the text says what happened and
 * what it means for the files it watches; `details` is kept under `custos` (for 572: `path`, the directory as
 * displayed, and `reason`).
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
    'packages-not-imported': `${who}: the package database changed after the last known-hash import (the dpkg hook did not run, or failed): package changes are not explained and alert. Run 'custos hashdb import dpkg' to import them.`,
    'directory-not-scanned': `Monitored directory '${detail('path', '?')}' could not be scanned: ${detail('reason', 'no reason given')}. Changes below it are not being seen.`,
  };
  return {
    timestamp: input.timestamp.toISOString(),
    id: input.id,
    agent,
    rule: RULE[event],
    full_log: text[event],
    custos: { agent_event: event, ...(input.details ?? {}) },
  };
}

/**
 * Rule 572 for a monitored directory a scan found nothing to scan in: `custos.path` as displayed (and
 * `custos.path_bytes`, base64, when the display had to escape bytes), `custos.reason` as the scan gave it.
 */
export function buildDirectoryNotScannedAlert(input: {
  readonly id: string;
  readonly timestamp: Date;
  readonly agent: AgentRef;
  readonly path: Buffer;
  readonly reason: string;
}): AgentAlert {
  const exact = isExactDisplay(input.path);
  return buildAgentAlert({
    id: input.id,
    timestamp: input.timestamp,
    agent: input.agent,
    event: 'directory-not-scanned',
    details: { path: displayPath(input.path), ...(exact ? {} : { path_bytes: input.path.toString('base64') }), reason: input.reason },
  });
}

