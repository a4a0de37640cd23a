import { chainHash, decodeEventRecord, GENESIS_HASH } from '../core/event-record.js';
import { pathKey } from '../core/path-bytes.js';
import type { ChainAnchor, ChainReport, ChainStart } from './store.js';

/** A history row as any engine stores it. */
export interface ChainRow {
  readonly id: number;
  readonly agentId: string;
  readonly ts: string;
  readonly kind: string;
  readonly outcome: string;
  readonly pathKey: Buffer;
  readonly data: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** The recorded end of one agent's chain. */
export interface ChainHead {
  readonly lastHash: string;
  readonly length: number;
}

/**
 * Checks history rows, given in (agent, id) order, against their chain: each must link to the one before, hash
 * to its recorded hash, agree with its indexed columns, and each chain must end at its recorded head. A chain
 * retention shortened starts at its anchor: its first kept record must chain from the last dropped one's hash,
 * and its length counts the dropped records. Stops at the first broken row and says why.
 */
export async function checkChain(
  rows: AsyncIterable<ChainRow> | Iterable<ChainRow>,
  heads: ReadonlyMap<string, ChainHead>,
  anchors: ReadonlyMap<string, ChainAnchor> = new Map(),
): Promise<ChainReport> {
  const starts: ChainStart[] = [];
  const report = await walkChains(rows, heads, anchors, starts);
  return starts.length === 0 ? report : { ...report, starts };
}

async function walkChains(
  rows: AsyncIterable<ChainRow> | Iterable<ChainRow>,
  heads: ReadonlyMap<string, ChainHead>,
  anchors: ReadonlyMap<string, ChainAnchor>,
  starts: ChainStart[],
): Promise<ChainReport> {
  let checked = 0;
  let agent: string | undefined;
  let expected = GENESIS_HASH;
  let length = 0;
  let lastId = 0;
  const seen = new Set<string>();
  const endOf = (agentId: string): ChainReport | undefined => {
    const head = heads.get(agentId);
    if (head === undefined || head.lastHash !== expected || head.length !== length) {
      return broken(agentId, lastId, 'the history ends before its recorded head: records were removed from the end');
    }
    return undefined;
  };
  const broken = (agentId: string, eventId: number, reason: string): ChainReport => ({
    ok: false,
    checked,
    firstBroken: { agentId, eventId, reason },
  });
  for await (const row of rows) {
    if (row.agentId !== agent) {
      if (agent !== undefined) {
        const end = endOf(agent);
        if (end !== undefined) return end;
      }
      agent = row.agentId;
      seen.add(agent);
      const anchor = anchors.get(agent);
      expected = anchor?.lastDroppedHash ?? GENESIS_HASH;
      length = anchor?.droppedRecords ?? 0;
      if (anchor !== undefined) starts.push({ ...anchor, firstKept: { id: row.id, at: row.ts } });
    }
    if (row.prevHash !== expected && starts.at(-1)?.firstKept?.id === row.id) {
      return broken(
        row.agentId,
        row.id,
        'it does not chain from the last record retention dropped (the kept anchor): records were removed after it, or the anchor was edited',
      );
    }
    if (row.prevHash !== expected) {
      return broken(row.agentId, row.id, 'it does not link to the record before it: a record was removed, inserted or reordered');
    }
    if (chainHash(row.prevHash, row.data) !== row.hash) {
      return broken(row.agentId, row.id, 'its content does not match its hash: the record was edited');
    }
    const problem = columnMismatch(row);
    if (problem !== undefined) return broken(row.agentId, row.id, problem);
    expected = row.hash;
    length++;
    lastId = row.id;
    checked++;
  }
  if (agent !== undefined) {
    const end = endOf(agent);
    if (end !== undefined) return end;
  }
  for (const [agentId, head] of heads) {
    if (seen.has(agentId)) continue;
    // Retention may have dropped every record of a quiet agent: then its head is exactly its anchor.
    const anchor = anchors.get(agentId);
    if (anchor === undefined || anchor.lastDroppedHash !== head.lastHash || anchor.droppedRecords !== head.length) {
      return broken(agentId, 0, 'the recorded chain head has no records: the history was emptied');
    }
    starts.push(anchor);
  }
  return { ok: true, checked };
}

function columnMismatch(row: ChainRow): string | undefined {
  try {
    const record = decodeEventRecord(row.data);
    if (record.agentId !== row.agentId) return 'its agent column disagrees with the hashed record';
    if (record.timestamp !== row.ts) return 'its time column disagrees with the hashed record';
    if (record.change.kind !== row.kind) return 'its kind column disagrees with the hashed record';
    if (record.outcome !== row.outcome) return 'its outcome column disagrees with the hashed record';
    if (!pathKey(record.change.path).equals(row.pathKey)) return 'its path column disagrees with the hashed record';
    return undefined;
  } catch (error) {
    return `its hashed record cannot be decoded: ${(error as Error).message}`;
  }
}
