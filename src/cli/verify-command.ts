import { Command } from 'commander';
import { EXIT, type CommandResult } from './exit-codes.js';
import { loadConfig } from './load-config.js';
import { openExistingStore } from './open-store.js';

interface VerifyFlags {
  readonly config?: string;
  readonly db?: string;
  readonly data?: string;
  readonly json?: boolean;
  readonly agent?: string;
}

/** `custos verify`: checks the history's hash chain; exit 1 and the first broken record when it does not hold. */
export function verifyCommand(result: CommandResult): Command {
  const command = new Command('verify')
    .description("check the history's hash chain and report the first broken record")
    .option('--config <file>', 'custos.yml or ossec.conf')
    .option('--db <file>', 'SQLite baseline file')
    .option('--data <dir>', "a manager's data directory (its custos.db)")
    .option('--agent <id>', 'only this agent')
    .option('--json', 'print the report as JSON');
  command.action(async (flags: VerifyFlags) => {
    const { config } = loadConfig(flags);
    const store = openExistingStore(config.storage);
    try {
      const report = await store.verifyChain(flags.agent);
      if (flags.json === true) process.stdout.write(`${JSON.stringify(report)}\n`);
      else if (report.ok) process.stdout.write(`history intact: ${report.checked} records verified\n`);
      else {
        const b = report.firstBroken;
        process.stdout.write(`history BROKEN at record ${b?.eventId ?? '?'} of agent ${b?.agentId ?? '?'}: ${b?.reason ?? ''} (${report.checked} records verified before it)\n`);
      }
      result.exitCode = report.ok ? EXIT.OK : EXIT.ALERTS;
    } finally {
      await store.close();
    }
  });
  return command;
}
