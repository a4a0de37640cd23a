import type { SyscheckConfig } from '../core/config/custos-config.js';
import { looksBinary } from '../core/diff/content-capture.js';
import { compileContentPolicy } from '../core/diff/content-policy.js';
import type { Observation } from '../core/observation.js';
import { MAX_BATCH_CONTENT_BYTES, MAX_WIRE_CONTENT_BYTES } from '../protocol/content-wire.js';
import { readContent } from './read-content.js';

/** Adds to an observation what the manager needs to diff it, and says how many content bytes that added. */
export type ContentAttacher = (observation: Observation) => { readonly observation: Observation; readonly contentBytes: number };

/** The most content bytes one batch carries; the runner starts a new batch before going past it. */
export const BATCH_CONTENT_BYTES = MAX_BATCH_CONTENT_BYTES - MAX_WIRE_CONTENT_BYTES;

/**
 * The agent's half of report_changes: for an observed file under a `report_changes` directory, the new content
 * (read now, checked against the digest just computed) or why there is none, for the batch to carry to the
 * manager. Nothing is kept here: the content lives in the outbox only until the manager acknowledges the batch.
 * A `nodiff` file's content is never read; a binary file's is not sent.
 */
export function contentAttacher(syscheck: SyscheckConfig): ContentAttacher | undefined {
  const policy = compileContentPolicy(syscheck);
  if (!policy.anyReport) return undefined;
  return (observation) => {
    const current = observation.current;
    const decision = current === undefined ? undefined : policy.decide(observation.path);
    if (current === undefined || decision === undefined || !decision.report) return { observation, contentBytes: 0 };
    if (decision.nodiff) return { observation: { ...observation, content: { kind: 'none', reason: 'nodiff', detail: decision.pattern } }, contentBytes: 0 };
    if (current.type !== 'file') return { observation: { ...observation, content: { kind: 'none', reason: 'not-regular' } }, contentBytes: 0 };
    let content = readContent(observation.path, Math.min(decision.sizeLimitBytes, MAX_WIRE_CONTENT_BYTES), current.hashes.sha256);
    // A binary file gets no diff on the manager either: its bytes need not travel.
    if (content.kind === 'bytes' && looksBinary(content.bytes)) content = { kind: 'none', reason: 'binary' };
    return { observation: { ...observation, content }, contentBytes: content.kind === 'bytes' ? content.bytes.length : 0 };
  };
}
