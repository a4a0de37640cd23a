import { buildAlert, type AnyAlert } from '../core/build-alert.js';
import { decodeEventRecord } from '../core/event-record.js';

/**
 * Rebuilds a file alert from the history record it was raised for (undefined for a record without a rule): every
 * engine stores the record's exact text and lists alerts from it, so the alert is the same whichever engine reads it.
 */
export function fileAlertFromRecord(id: string, data: string, names: ReadonlyMap<string, string>): AnyAlert | undefined {
  const r = decodeEventRecord(data);
  if (r.rule === undefined) return undefined;
  return buildAlert({
    id,
    timestamp: new Date(r.timestamp),
    agent: { id: r.agentId, name: names.get(r.agentId) ?? '' },
    rule: r.rule,
    change: r.change,
    verdict: r.verdict,
    ...(r.rolledUp === undefined ? {} : { rolledUp: r.rolledUp }),
    view: { mode: r.mode ?? 'scheduled', fullLogStyle: r.fullLogStyle ?? 'ossec' },
    ...(r.decoder === undefined ? {} : { decoder: r.decoder }),
    ...(r.firedTimes === undefined ? {} : { firedTimes: r.firedTimes }),
    ...(r.diff === undefined ? {} : { diff: r.diff }),
  });
}
