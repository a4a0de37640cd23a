import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, CustosError, formatConfigIssue } from '../core/custos-error.js';
import { isCorruptionError } from '../storage/sqlite/corruption-error.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { packagePath } from '../platform/package-root.js';

/**
 * Each command, loaded only when it runs: a `custos check` from cron or an unchanged re-check should not pay for
 * compiling the manager's HTTPS server (fastify alone is ~150 ms of start-up on these machines).
 */
const COMMANDS: Readonly<Record<string, (result: CommandResult) => Promise<Command>>> = {
  init: async (r) => (await import('./init-command.js')).initCommand(r),
  check: async (r) => (await import('./check-command.js')).scanCommand('check', r),
  accept: async (r) => (await import('./check-command.js')).scanCommand('accept', r),
  events: async (r) => (await import('./events-command.js')).eventsCommand(r),
  alerts: async (r) => (await import('./alerts-command.js')).alertsCommand(r),
  diff: async (r) => (await import('./diff-command.js')).diffCommand(r),
  verify: async (r) => (await import('./verify-command.js')).verifyCommand(r),
  status: async (r) => (await import('./status-command.js')).statusCommand(r),
  config: async (r) => (await import('./config-command.js')).configCommand(r),
  hashdb: async (r) => (await import('./hashdb-command.js')).hashdbCommand(r),
  rules: async (r) => (await import('./rules-command.js')).rulesCommand(r),
  maintenance: async (r) => (await import('./maintenance-command.js')).maintenanceCommand(r),
  manager: async (r) => (await import('./manager-command.js')).managerCommand(r),
  agent: async (r) => (await import('./agent-command.js')).agentCommand(r),
};

/**
 * The `custos` command line. A thin layer: each command parses its flags and calls the programmatic API.
 * Returns the exit status: 0 nothing alerted, 1 alerts raised, 2 bad usage or configuration, 3 runtime failure.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const result: CommandResult = { exitCode: EXIT.OK };
  const program = new Command('custos')
    .description('file integrity monitoring for Linux fleets')
    .version(packageVersion())
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  // A known command name first loads just that command, a version request none; anything else (help, a typo)
  // loads them all, so help lists every command and a typo gets commander's suggestion.
  const first = argv[0];
  const names = first === '--version' || first === '-V' ? [] : first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  const commands = await Promise.all(names.map((name) => (COMMANDS[name] as (r: CommandResult) => Promise<Command>)(result)));
  for (const command of commands) program.addCommand(command);
  throwInsteadOfExiting(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.exitCode;
  } catch (error) {
    return exitStatusOf(error);
  }
}

/**
 * Commander exits the process itself (status 1, which means "alerts raised") on a usage error unless told to throw;
 * the setting is per command, so every nested subcommand (`hashdb apt-hook install`) gets it too.
 */
function throwInsteadOfExiting(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) throwInsteadOfExiting(sub);
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
  // Damage found mid-run (a page no open-time check reached): said as such, not as SQLite's bare words.
  if (isCorruptionError(error)) process.stderr.write(`custos: a database is damaged (${message}): restore it from a backup; custos verify names it\n`);
  else process.stderr.write(`custos: ${message}\n`);
  if (process.env.CUSTOS_DEBUG !== undefined && error instanceof Error) process.stderr.write(`${error.stack ?? ''}\n`);
  return EXIT.FAILURE;
}

/** The version in the package.json beside dist/ (the checkout's, or the installed package's under /opt/custos). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}
