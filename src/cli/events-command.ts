import { Command } from 'commander';
import { syscheckFields } from '../core/build-alert.js';
import { buildFullLog } from '../core/full-log.js';
import { displayPath } from '../core/path-bytes.js';
import type { StoredEvent } from '../storage/store.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { historyQuery, withHistoryOptions, type HistoryFlags } from './history-options.js';
import { loadConfig } from './load-config.js';
import { openExistingStore } from './open-store.js';

/** `custos events`: every recorded change with its verdict and outcome, oldest first. */
export function eventsCommand(result: CommandResult): Command {
  const command = withHistoryOptions(new Command('events').description('list the recorded history of changes, with verdicts and outcomes'));
  command.action(async (flags: HistoryFlags) => {
    // The filters first: a bad --since is a usage error before any database is looked for.
    const query = historyQuery(flags, new Date());
    const { config } = loadConfig(flags);
    const store = await openExistingStore(config.storage);
    try {
      const names = new Map((await store.listAgents()).map((a) => [a.id, a.name]));
      for await (const event of store.queryEvents(query)) {
        process.stdout.write(flags.json === true ? `${JSON.stringify(eventJson(event, names.get(event.record.agentId) ?? ''))}\n` : eventLine(event));
      }
      result.exitCode = EXIT.OK;
    } finally {
      await store.close();
    }
  });
  return command;
}

/** The JSON form of a history entry: the alert's `syscheck` shape plus what was decided. */
export function eventJson(event: StoredEvent, agentName: string): Record<string, unknown> {
  const r = event.record;
  return {
    id: event.id,
    timestamp: r.timestamp,
    agent: { id: r.agentId, name: agentName },
    outcome: r.outcome,
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.rule === undefined ? {} : { rule: r.rule }),
    ...(r.alertId === undefined ? {} : { alert_id: r.alertId }),
    known_hash: r.verdict,
    syscheck: r.diff === undefined ? syscheckFields(r.change) : { ...syscheckFields(r.change), diff: r.diff },
    full_log: buildFullLog(r.change),
    hash: event.hash,
  };
}

function eventLine(event: StoredEvent): string {
  const r = event.record;
  const changed = r.change.kind === 'modified' ? ` [${r.change.changedAttributes.join(',')}]` : '';
  const why = r.reason === undefined ? '' : ` (${r.reason})`;
  const rule = r.rule === undefined ? '' : ` rule ${r.rule.id}`;
  const line = `${r.timestamp} ${r.agentId} ${r.change.kind.padEnd(8)} ${displayPath(r.change.path)}${changed} -> ${r.outcome}${rule}${why}\n`;
  // The report_changes diff, indented under its event so the listing still reads one change per unindented line.
  return r.diff === undefined
    ? line
    : `${line}${r.diff
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n')}\n`;
}
