import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describeThrottle } from '../agent/agent-footprint.js';
import { readAgentStatus, type AgentStatus } from '../agent/agent-status.js';
import { CustosError } from '../core/custos-error.js';
import { LAST_CHECK_META_KEY, parseLastCheck, type LastCheck } from '../core/last-check.js';
import { readStoreStatus, type StoreStatus } from '../storage/sqlite/read-store-status.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { configFileFor, loadConfig } from './load-config.js';
import { LOCAL_AGENT_ID } from './run-check.js';

interface StatusFlags {
  readonly config?: string;
  readonly db?: string;
  readonly data?: string;
  readonly json?: boolean;
}

/** The status of a standalone host: what is monitored, the last check, the baseline, the alerts, the chain. */
interface StandaloneStatus {
  readonly mode: 'standalone';
  readonly configuration: string;
  readonly database: string;
  readonly monitored: readonly { readonly path: string; readonly realtime: boolean }[];
  readonly lastCheck?: LastCheck;
  readonly store: Omit<StoreStatus, 'meta' | 'agents'>;
}

interface FleetAgentStatus extends AgentStatus {
  readonly mode: 'agent';
  readonly dataDir: string;
}

interface ManagerStatus {
  readonly mode: 'manager';
  readonly dataDir: string;
  readonly agents: number;
  readonly undeliveredAlerts: number;
}

/**
 * `custos status`: reads, never writes. Standalone (`--config`/`--db`): the configured directories, the last check
 * and its result, the baseline size, stored and undelivered alerts, the head of the history chain. `--data DIR`:
 * an agent's data directory (its manager, outbox depth, last scan) or a manager's (its agents, undelivered alerts).
 */
export function statusCommand(result: CommandResult): Command {
  const command = new Command('status')
    .description('what is monitored, the last scan and its result, the baseline, undelivered alerts, the chain head (fleet: the manager link and outbox)')
    .option('--config <file>', 'custos.yml or ossec.conf')
    .option('--db <file>', 'SQLite baseline file')
    .option('--data <dir>', "an agent's or a manager's data directory")
    .option('--json', 'print the status as one JSON object');
  command.action(async (flags: StatusFlags) => {
    const status = flags.data !== undefined && flags.db === undefined ? fleetStatus(flags.data) : standaloneStatus(flags);
    process.stdout.write(flags.json === true ? `${JSON.stringify(status)}\n` : describe(status));
    result.exitCode = EXIT.OK;
  });
  return command;
}

function fleetStatus(dataDir: string): FleetAgentStatus | ManagerStatus {
  if (!existsSync(dataDir)) throw new CustosError('NOT_FOUND', `no data directory ${dataDir}`);
  if (existsSync(join(dataDir, 'agent.json'))) return { mode: 'agent', dataDir, ...readAgentStatus(dataDir) };
  const store = readStoreStatus(join(dataDir, 'custos.db'), LOCAL_AGENT_ID, []);
  return { mode: 'manager', dataDir, agents: store.agents, undeliveredAlerts: store.undeliveredAlerts };
}

function standaloneStatus(flags: StatusFlags): StandaloneStatus {
  const { config } = loadConfig(flags);
  if (config.storage.engine !== 'sqlite') throw new CustosError('USAGE', 'status reads SQLite databases only');
  const { meta, agents: _agents, ...store } = readStoreStatus(config.storage.path, LOCAL_AGENT_ID, [LAST_CHECK_META_KEY]);
  const lastCheck = parseLastCheck(meta[LAST_CHECK_META_KEY]);
  return {
    mode: 'standalone',
    configuration: configFileFor(flags) ?? '(defaults)',
    database: config.storage.path,
    monitored: config.syscheck.directories.map((d) => ({ path: d.path, realtime: d.realtime })),
    ...(lastCheck === undefined ? {} : { lastCheck }),
    store,
  };
}

function describe(status: StandaloneStatus | FleetAgentStatus | ManagerStatus): string {
  const rows: [string, string][] = [];
  switch (status.mode) {
    case 'standalone': {
      const c = status.lastCheck;
      rows.push(
        ['configuration', status.configuration],
        ['database', status.database],
        ['monitored', status.monitored.map((d) => `${d.path}${d.realtime ? ' (realtime)' : ''}`).join(', ')],
        [
          'last check',
          c === undefined
            ? 'never (or before this version recorded it)'
            : `${c.at} ${c.mode}${c.paths.length > 0 ? ` of ${c.paths.join(', ')}` : ''}: ${c.entries} entries, ${c.added} added, ${c.modified} modified, ${c.deleted} deleted, ${c.alerts} alerts${c.notScanned > 0 ? `, ${c.notScanned} directories not scanned` : ''}${c.issues > 0 ? `, ${c.issues} files unreadable` : ''}`,
        ],
        ['baseline', `${status.store.baselineEntries} entries`],
        ['alerts', `${status.store.storedAlerts} stored, ${status.store.undeliveredAlerts} undelivered`],
        [
          'history',
          status.store.chainHead === undefined
            ? 'empty'
            : `${status.store.chainHead.length} records, head #${status.store.chainHead.lastEventId} ${status.store.chainHead.lastHash}`,
        ],
      );
      break;
    }
    case 'agent':
      rows.push(
        ['agent', `${status.agentId} (${status.name}), data in ${status.dataDir}`],
        [
          'manager',
          `${status.managerUrl}${status.alternates === undefined || status.alternates.length === 0 ? '' : ` (then ${status.alternates.join(', ')})`}`,
        ],
        ['outbox', `${status.outboxDepth} batches waiting${status.oldestQueued === undefined ? '' : `, oldest queued ${status.oldestQueued}`}`],
        ['last scan', status.lastScanEnd ?? 'never'],
        ['cached entries', String(status.cachedEntries)],
        ...(status.footprint === undefined
          ? []
          : ([
              ['memory', `${(status.footprint.rssBytes / 2 ** 20).toFixed(0)} MB resident, ${status.footprint.threads} threads (at ${status.footprint.at})`],
              ['scan throttle', describeThrottle(status.footprint.throttle)],
            ] as [string, string][])),
      );
      break;
    case 'manager':
      rows.push(['manager', `data in ${status.dataDir}`], ['agents', String(status.agents)], ['alerts', `${status.undeliveredAlerts} undelivered`]);
      break;
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}\n`).join('');
}
