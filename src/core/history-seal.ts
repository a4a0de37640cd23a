import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a seal vouches for: the end of one agent's history chain and, when computed, a digest of its baseline. */
export interface SealedHead {
  readonly agentId: string;
  /** Records in the chain, and the last one's id and chain hash (absent while the history is empty). */
  readonly length: number;
  readonly lastId?: number;
  readonly lastHash?: string;
  /** `StateDigest` of the whole baseline (absent in the marker written between a scan's commits). */
  readonly baselineDigest?: string;
}

/** The exact bytes signed: one field a line, labelled, so no two heads share a text. */
function sealedText(head: SealedHead): string {
  return [
    'custos-history-head:v1',
    `agent=${head.agentId}`,
    `length=${head.length}`,
    `last_id=${head.lastId ?? ''}`,
    `last_hash=${head.lastHash ?? ''}`,
    `baseline=${head.baselineDigest ?? ''}`,
    '',
  ].join('\n');
}

/**
 * HMAC-SHA256 (hex) of a history head under a key kept outside the database: whoever can rewrite the database
 * and its marker but cannot read the key cannot make a rewritten head verify.
 */
export function sealHead(key: Buffer, head: SealedHead): string {
  return createHmac('sha256', key).update(sealedText(head)).digest('hex');
}

/** True when `signature` is the seal of `head` under `key`; compared in constant time. */
export function headSealHolds(key: Buffer, head: SealedHead, signature: string): boolean {
  const expected = Buffer.from(sealHead(key, head), 'hex');
  const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
