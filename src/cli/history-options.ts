import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { CustosError } from '../core/custos-error.js';
import { pathFromString } from '../core/path-bytes.js';
import { parseDurationMs } from '../core/config/units.js';
import type { HistoryQuery } from '../storage/store.js';

/** Flags shared by `events` and `alerts`. */
export interface HistoryFlags {
  readonly config?: string;
  readonly db?: string;
  readonly data?: string;
  readonly store?: string;
  readonly json?: boolean;
  readonly since?: string;
  readonly path?: string;
  readonly agent?: string;
  readonly limit?: number;
}

/** Adds the history filters to a command. */
export function withHistoryOptions(command: Command): Command {
  return command
    .option('--config <file>', 'custos.yml or ossec.conf')
    .option('--db <file>', 'SQLite baseline file')
    .option('--data <dir>', "a manager's data directory (its custos.db)")
    .option('--store <url>', "the manager's store on PostgreSQL (postgres://…)")
    .option('--json', 'print JSON lines')
    .option('--since <when>', 'only entries since an ISO time or for a duration back (e.g. 2026-11-27, 24h, 7d)')
    .option('--path <path>', 'only this path and what lies below it')
    .option('--agent <id>', 'only this agent (standalone mode is 000)')
    .option('--limit <n>', 'only the newest N entries', parsePositiveInt);
}

/** Turns the flags into a store query; `now` anchors relative `--since` values. */
export function historyQuery(flags: HistoryFlags, now: Date): HistoryQuery {
  const query: { -readonly [K in keyof HistoryQuery]: HistoryQuery[K] } = {};
  if (flags.agent !== undefined) query.agentId = flags.agent;
  if (flags.path !== undefined) query.path = pathFromString(flags.path);
  if (flags.limit !== undefined) query.limit = flags.limit;
  if (flags.since !== undefined) query.since = parseSince(flags.since, now);
  return query;
}

function parseSince(text: string, now: Date): string {
  const back = parseDurationMs(text);
  if (back !== undefined && !/^\d{4}-/.test(text)) return new Date(now.getTime() - back).toISOString();
  const at = Date.parse(text);
  // A CustosError, not commander's InvalidArgumentError: this runs in the action, where commander prints nothing.
  if (Number.isNaN(at)) throw new CustosError('USAGE', `--since "${text}" is neither a time (2026-11-27T10:00Z) nor a duration (24h)`);
  return new Date(at).toISOString();
}

function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}
