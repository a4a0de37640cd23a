import { hostname } from 'node:os';
import { Command } from 'commander';
import { formatOssecAlert } from '../analysis/sinks/format-ossec-alert.js';
import { wazuhJsonContext } from '../analysis/sinks/wazuh-json-context.js';
import { wazuhAlertJson } from '../core/wazuh-alert-json.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { historyQuery, withHistoryOptions, type HistoryFlags } from './history-options.js';
import { loadConfig } from './load-config.js';
import { openExistingStore } from './open-store.js';

/** `custos alerts`: the stored alerts, oldest first, as JSON lines or in `alerts.log` layout. */
export function alertsCommand(result: CommandResult): Command {
  const command = withHistoryOptions(new Command('alerts').description('list stored alerts'));
  command.action(async (flags: HistoryFlags) => {
    // The filters first: a bad --since is a usage error before any database is looked for.
    const query = historyQuery(flags, new Date());
    const { config } = loadConfig(flags);
    const store = await openExistingStore(config.storage);
    const wazuh = wazuhJsonContext(config.alerts.managerName ?? hostname(), config.email, hostname());
    try {
      for await (const alert of store.queryAlerts(query)) {
        process.stdout.write(flags.json === true ? `${JSON.stringify(wazuhAlertJson(alert, wazuh))}\n` : formatOssecAlert(alert, hostname()));
      }
      result.exitCode = EXIT.OK;
    } finally {
      await store.close();
    }
  });
  return command;
}
