import { Command, CommanderError } from 'commander';
import { ConfigError, CustosError, formatConfigIssue } from '../core/custos-error.js';
import { agentCommand } from './agent-command.js';
import { alertsCommand } from './alerts-command.js';
import { scanCommand } from './check-command.js';
import { eventsCommand } from './events-command.js';
import { hashdbCommand } from './hashdb-command.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { initCommand } from './init-command.js';
import { maintenanceCommand } from './maintenance-command.js';
import { managerCommand } from './manager-command.js';
import { rulesCommand } from './rules-command.js';
import { verifyCommand } from './verify-command.js';

/**
 * The `custos` command line. A thin layer: each command parses its flags and calls the programmatic API.
 * Returns the exit status: 0 nothing alerted, 1 alerts raised, 2 bad usage or configuration, 3 runtime failure.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const result: CommandResult = { exitCode: EXIT.OK };
  const program = new Command('custos')
    .description('file integrity monitoring for Linux fleets')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const command of [
    initCommand(result),
    scanCommand('check', result),
    scanCommand('accept', result),
    eventsCommand(result),
    alertsCommand(result),
    verifyCommand(result),
    hashdbCommand(result),
    rulesCommand(result),
    maintenanceCommand(result),
    managerCommand(result),
    agentCommand(result),
  ]) {
    program.addCommand(command.exitOverride());
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.exitCode;
  } catch (error) {
    return exitStatusOf(error);
  }
}

function exitStatusOf(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version requests are not errors; commander already printed them.
    return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (error instanceof ConfigError) {
    for (const issue of error.issues) process.stderr.write(`custos: ${formatConfigIssue(issue)}\n`);
    return EXIT.USAGE;
  }
  if (error instanceof CustosError && (error.code === 'USAGE' || error.code === 'CONFIG_INVALID')) {
    process.stderr.write(`custos: ${error.message}\n`);
    return EXIT.USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`custos: ${message}\n`);
  if (process.env.CUSTOS_DEBUG !== undefined && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  return EXIT.FAILURE;
}
