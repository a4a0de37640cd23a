import { pathKey } from '../../src/core/path-bytes.js';

const HOUR = 3_600_000;
const LEVELS = [3, 5, 7, 10, 12];

/** One alert the fleet-overview tests write: an agent alert, or a history record with (mostly) its file alert. */
export interface SampleAlert {
  readonly id: string;
  readonly agentId: string;
  readonly ts: string;
  readonly level: number;
  /** Absent: an agent alert (rule 571). Present: a history record at this path. */
  readonly pathKey?: Buffer;
  /** For a history record: whether a file alert (rule 550) was raised for it. */
  readonly alerted: boolean;
  /** Whether the id is then acknowledged (also for a record without an alert: an ack of an unknown id must count nothing). */
  readonly acked: boolean;
}

/**
 * `count` alerts over the 16 days before `now`, most in the last two days (where the hour summaries and the window
 * edges are), across agents 001–003, from a seeded generator so that a failure replays. Both engines' overview
 * tests write the same sample and compare the summaries with the same questions asked of the raw tables.
 */
export function* overviewSample(count: number, seed: number, prefix: string, now: number): Generator<SampleAlert> {
  let s = seed;
  const next = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  for (let i = 0; i < count; i++) {
    const age = next() < 0.6 ? next() * 50 * HOUR : next() * 16 * 24 * HOUR;
    const base = {
      id: `${prefix}${i}`,
      ts: new Date(now - age).toISOString(),
      agentId: `00${1 + Math.floor(next() * 3)}`,
      level: LEVELS[Math.floor(next() * LEVELS.length)] ?? 3,
    };
    if (next() < 0.1) {
      yield { ...base, alerted: true, acked: next() < 0.3 };
    } else {
      const key = pathKey(Buffer.from(`/etc/f${Math.floor(6 * next() ** 2)}`));
      const alerted = next() < 0.8;
      yield { ...base, pathKey: key, alerted, acked: next() < 0.3 };
    }
  }
}
