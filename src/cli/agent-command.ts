import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { startAgent } from '../agent/agent-runner.js';
import { enrollAgent, loadAgentIdentity, readMachineId } from '../agent/enroll-agent.js';
import { parseDurationMs } from '../core/config/units.js';
import { parseYamlConfig } from '../core/config/yaml-config.js';
import { ConfigError, CustosError } from '../core/custos-error.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { loadConfig } from './load-config.js';
import { reportWarnings } from './report-warnings.js';
import { serviceLogger } from './service-logger.js';

interface AgentFlags {
  readonly data: string;
  readonly manager?: readonly string[];
  readonly token?: string;
  readonly name?: string;
  readonly group?: string;
  readonly config?: string;
  readonly keepalive?: string;
  readonly replace?: string;
  readonly allowDuplicateName?: boolean;
}

/** Collects a repeatable `--manager URL` (each may also be a comma-separated list), checking each is an https URL. */
function collectManager(value: string, previous: readonly string[] | undefined): readonly string[] {
  const urls = value
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  for (const url of urls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed?.protocol !== 'https:') throw new CustosError('USAGE', `--manager "${url}" is not an https:// URL (e.g. https://manager.example:1515)`);
  }
  return [...(previous ?? []), ...urls];
}

/** `custos agent enroll|start`. */
export function agentCommand(result: CommandResult): Command {
  const agent = new Command('agent').description('the agent: scans this host and reports to the manager');
  agent.addCommand(
    new Command('enroll')
      .description('enroll this host with a manager, using a token from `custos manager token`')
      .requiredOption(
        '--manager <url>',
        "the manager, e.g. https://manager.example:1515; repeat it (or separate with commas) for the fleet's other managers, tried in order when one cannot be reached",
        collectManager,
      )
      .requiredOption('--token <token>', 'a single-use enrollment token')
      .requiredOption('--data <dir>', 'the agent data directory')
      .option('--name <name>', 'how this host appears in alerts', hostname())
      .option('--group <group>', 'the configuration group to join (the manager serves DATA/shared/groups/<group>.yml)')
      .option('--replace <agent-id>', 'this host replaces that agent (a reinstall): take over its identity and baseline')
      .option('--allow-duplicate-name', 'enrol even though another agent has this name')
      .action(async (flags: AgentFlags) => {
        if (flags.replace !== undefined && !/^\d{3,9}$/.test(flags.replace))
          throw new CustosError('USAGE', `--replace "${flags.replace}" is not an agent id (e.g. 001)`);
        const machineId = readMachineId();
        const identity = await enrollAgent({
          managerUrl: flags.manager?.[0] ?? '',
          ...((flags.manager?.length ?? 0) > 1 ? { alternates: flags.manager?.slice(1) ?? [] } : {}),
          token: flags.token ?? '',
          name: flags.name ?? hostname(),
          ...(flags.group === undefined ? {} : { group: flags.group }),
          dataDir: resolve(flags.data),
          ...(machineId === undefined ? {} : { machineId }),
          ...(flags.replace === undefined ? {} : { replace: flags.replace }),
          ...(flags.allowDuplicateName === true ? { allowDuplicateName: true } : {}),
        });
        process.stdout.write(
          `enrolled as agent ${identity.agentId} (${identity.name}) with ${identity.managerUrl}${identity.inherited === true ? ' (it keeps its baseline: its first scan is compared with it)' : ''}\n`,
        );
        result.exitCode = EXIT.OK;
      }),
  );
  agent.addCommand(
    new Command('start')
      .description('run the agent: scheduled and realtime scans, reported to the manager')
      .requiredOption('--data <dir>', 'the agent data directory')
      .option('--config <file>', "custos.yml or ossec.conf (the manager's central configuration replaces its syscheck part)")
      .option('--keepalive <duration>', 'how often to tell the manager it is alive (default: agent.keepalive, 1m)')
      .option(
        '--manager <url>',
        'managers to report to, tried in order (repeat or separate with commas); default: agent.managers, else those given at enrollment',
        collectManager,
      )
      .option('--package-root <dir>', "the host's package database is under DIR (an agent in a container with the host mounted there)", '/')
      .action(async (flags: AgentFlags & { packageRoot: string }) => {
        const dataDir = resolve(flags.data);
        const loaded = loadConfig({ ...(flags.config === undefined ? {} : { config: flags.config }), db: `${dataDir}/unused.db` });
        reportWarnings(loaded.warnings);
        const keepaliveMs = flags.keepalive === undefined ? loaded.config.keepaliveMs : parseDurationMs(flags.keepalive);
        if (keepaliveMs === undefined || keepaliveMs <= 0) throw new CustosError('USAGE', `--keepalive "${flags.keepalive ?? ''}" is not a duration`);
        const { identity, endpoint } = loadAgentIdentity(dataDir, flags.manager ?? loaded.config.agentManagers);
        const logger = serviceLogger('custos-agent');
        const running = await startAgent({
          dataDir,
          identity,
          endpoint,
          syscheck: loaded.config.syscheck,
          parseCentral: (yaml) => {
            const parsed = parseYamlConfig(yaml, 'central configuration', { dataDir, hostname: identity.name });
            if (!parsed.ok) throw new ConfigError(parsed.error);
            return parsed.value.config.syscheck;
          },
          keepaliveMs,
          logger,
          packageRoot: resolve(flags.packageRoot),
        });
        await new Promise<void>((stop) => {
          process.once('SIGINT', () => stop());
          process.once('SIGTERM', () => stop());
        });
        await running.close();
        result.exitCode = EXIT.OK;
      }),
  );
  return agent;
}
