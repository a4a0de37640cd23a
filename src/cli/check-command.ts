import { lstatSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { CustosError } from '../core/custos-error.js';
import type { CommandResult } from './exit-codes.js';
import { loadConfig } from './load-config.js';
import type { CheckFlags } from './check-scan.js';
import { reportWarnings } from './report-warnings.js';
import { startScanWalk } from './scan-walk.js';

/**
 * `custos check [PATH...]` and `custos accept [PATH...]`: one standalone scan. `check` alerts on changes (exit 1
 * when it did); `accept` takes what is there as the new baseline, recording who accepted it.
 */
export function scanCommand(mode: 'check' | 'accept', result: CommandResult): Command {
  const command = new Command(mode)
    .description(
      mode === 'check'
        ? 'scan, compare with the baseline, record and alert on changes, advance the baseline (the first run builds it)'
        : 'take the current state as the new baseline without alerting; every change is recorded as accepted',
    )
    .argument('[paths...]', 'limit the scan to these paths (default: the configured directories)')
    .option('--config <file>', 'custos.yml or ossec.conf')
    .option('--ossec-root <dir>', 'the OSSEC/Wazuh install an ossec.conf belongs to (its rules/ and ruleset dirs), when it is not DIR/etc/ossec.conf')
    .option('--db <file>', 'SQLite baseline file (alerts.json and alerts.log go beside it)')
    .option('--json', 'print alerts as JSON lines')
    .option('--rehash', 'rehash every file, ignoring cached digests')
    .option('--root <dir>', 'monitor the file system mounted at DIR as if it were /')
    .option('--hashdb <file>', 'known-hash database (default: known_hashes.database, used when it exists)');
  command.action(async (given: string[], flags: CheckFlags) => {
    // Before anything is opened or created: a typo must not scan nothing and exit 0.
    const paths = commandLinePaths(given, flags.root);
    const loaded = loadConfig(flags);
    reportWarnings(loaded.warnings);
    const { config } = loaded;
    if (config.storage.historyRetentionMs !== undefined) {
      // Retention is the manager's periodic work; a standalone history is kept whole (its marker and seal expect it).
      reportWarnings([
        {
          file: flags.config ?? '(configuration)',
          key: 'database.history_retention',
          message: 'applies to the manager (custos manager start) only: custos check keeps its history whole',
        },
      ]);
    }
    // Walking needs nothing from the rules or the store: it starts now, while they are loaded, checked and opened
    // (runCheck stops it; should anything fail before, the thread does not hold the process open).
    const walk = config.syscheck.disabled ? undefined : startScanWalk(config, paths, flags.root);
    // The rules, the store, the sinks and the scan itself load now, while the walk thread walks.
    const { runScan } = await import('./check-scan.js');
    result.exitCode = await runScan({ mode, flags, config, paths, walk });
  });
  return command;
}

/**
 * The paths given on the command line, made absolute (`check .` and `check /abs/dir` are one baseline), each
 * checked to exist (under `--root` when given, which must be a directory): a missing one is a usage error naming it.
 */
function commandLinePaths(given: readonly string[], root: string | undefined): string[] {
  if (root !== undefined) {
    let isDirectory = false;
    try {
      isDirectory = statSync(root).isDirectory();
    } catch (error) {
      throw new CustosError('USAGE', `--root ${root}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
    }
    if (!isDirectory) throw new CustosError('USAGE', `--root ${root} is not a directory`);
  }
  return given.map((path) => {
    const absolute = resolve(path);
    const onHost = root === undefined ? absolute : join(root, absolute);
    try {
      lstatSync(onHost);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        throw new CustosError('USAGE', `${absolute}${root === undefined ? '' : ` (under --root ${root})`}: no such file or directory`);
      throw error;
    }
    return absolute;
  });
}
