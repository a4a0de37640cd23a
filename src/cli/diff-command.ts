import { Command } from 'commander';
import { displayPath, pathFromString } from '../core/path-bytes.js';
import type { StoredEvent } from '../storage/store.js';
import { eventJson } from './events-command.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { historyQuery, withHistoryOptions, type HistoryFlags } from './history-options.js';
import { loadConfig } from './load-config.js';
import { openExistingStore } from './open-store.js';

/**
 * `custos diff PATH`: the history of one file's changes, oldest first, each with the content diff recorded for it
 * (report_changes) or why there is none. Human text, or `--json` lines in the shape of `custos events --json`.
 */
export function diffCommand(result: CommandResult): Command {
  const command = withHistoryOptions(new Command('diff').description("show one file's recorded changes with their content diffs (report_changes)")).argument(
    '<path>',
    'the file',
  );
  command.action(async (path: string, flags: HistoryFlags) => {
    const query = historyQuery({ ...flags, path }, new Date());
    const wanted = pathFromString(path);
    const { config } = loadConfig(flags);
    const store = await openExistingStore(config.storage);
    try {
      const names = new Map((await store.listAgents()).map((a) => [a.id, a.name]));
      let shown = 0;
      for await (const event of store.queryEvents(query)) {
        // The query takes a subtree; this command is about the one file.
        if (!event.record.change.path.equals(wanted)) continue;
        shown++;
        process.stdout.write(flags.json === true ? `${JSON.stringify(eventJson(event, names.get(event.record.agentId) ?? ''))}\n` : diffBlock(event));
      }
      if (shown === 0 && flags.json !== true) process.stderr.write(`custos: no recorded changes of ${path}\n`);
      result.exitCode = EXIT.OK;
    } finally {
      await store.close();
    }
  });
  return command;
}

function diffBlock(event: StoredEvent): string {
  const r = event.record;
  const rule = r.rule === undefined ? '' : `, rule ${r.rule.id}`;
  const head = `${r.timestamp} agent ${r.agentId} ${r.change.kind} ${displayPath(r.change.path)} (${r.outcome}${rule})\n`;
  const body = r.diff ?? (r.change.kind === 'modified' ? 'no diff recorded (report_changes was off, or only attributes changed)' : '');
  return `${head}${body === '' ? '' : `${body}\n`}\n`;
}
