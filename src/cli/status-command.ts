import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describeThrottle } from '../agent/agent-footprint.js';
import { readAgentStatus, type AgentStatus } from '../agent/agent-status.js';
import { CustosError } from '../core/custos-error.js';
import { LAST_CHECK_META_KEY, parseLastCheck, type LastCheck } from '../core/last-check.js';
import type { StorageConfig } from '../core/config/custos-config.js';
import { redactPostgresUrl } from '../storage/postgres/postgres-database.js';
import { readPostgresStoreStatus } from '../storage/postgres/read-store-status.js';
import { readStoreStatus } from '../storage/sqlite/read-store-status.js';
import type { StoreStatus } from '../storage/store-status.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { configFileFor, loadConfig } from './load-config.js';
import { LOCAL_AGENT_ID } from './run-check.js';

interface StatusFlags {
  readonly config?: string;
  readonly db?: string;
  readonly data?: string;
  readonly store?: string;
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
  /** The manager's data directory, when it was named. */
  readonly dataDir?: string;
  /** Where its store is: the SQLite file, or the PostgreSQL URL without its password. */
  readonly store: string;
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
    .option('--store <url>', "the manager's store on PostgreSQL (postgres://…; a hot standby will do)")
    .option('--json', 'print the status as one JSON object');
  command.action(async (flags: StatusFlags) => {
    const status =
      flags.data !== undefined && existsSync(join(flags.data, 'agent.json'))
        ? agentStatus(flags.data)
        : (flags.data !== undefined || flags.store !== undefined) && flags.db === undefined
          ? await managerStatus(flags)
          : await standaloneStatus(flags);
    process.stdout.write(flags.json === true ? `${JSON.stringify(status)}\n` : describe(status));
    result.exitCode = EXIT.OK;
  });
  return command;
}

function agentStatus(dataDir: string): FleetAgentStatus {
  return { mode: 'agent', dataDir, ...readAgentStatus(dataDir) };
}

/** A manager's store, on either engine: its agents and the alerts its sinks still wait for. */
async function managerStatus(flags: StatusFlags): Promise<ManagerStatus> {
  if (flags.data !== undefined && !existsSync(flags.data)) throw new CustosError('NOT_FOUND', `no data directory ${flags.data}`);
  const { config } = loadConfig(flags);
  const store = await readStatusOf(config.storage, []);
  return {
    mode: 'manager',
    ...(flags.data === undefined ? {} : { dataDir: flags.data }),
    store: storeName(config.storage),
    agents: store.agents,
    undeliveredAlerts: store.undeliveredAlerts,
  };
}

/** Reads a store's status without writing, on either engine (PostgreSQL: also on a hot standby). */
function readStatusOf(storage: StorageConfig, metaKeys: readonly string[]): Promise<StoreStatus> | StoreStatus {
  return storage.engine === 'sqlite' ? readStoreStatus(storage.path, LOCAL_AGENT_ID, metaKeys) : readPostgresStoreStatus(storage.url, LOCAL_AGENT_ID, metaKeys);
}

function storeName(storage: StorageConfig): string {
  return storage.engine === 'sqlite' ? storage.path : redactPostgresUrl(storage.url);
}

async function standaloneStatus(flags: StatusFlags): Promise<StandaloneStatus> {
  const { config } = loadConfig(flags);
  const { meta, agents: _agents, ...store } = await readStatusOf(config.storage, [LAST_CHECK_META_KEY]);
  const lastCheck = parseLastCheck(meta[LAST_CHECK_META_KEY]);
  return {
    mode: 'standalone',
    configuration: configFileFor(flags) ?? '(defaults)',
    database: storeName(config.storage),
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
      rows.push(
        ['manager', status.dataDir === undefined ? `store ${status.store}` : `data in ${status.dataDir}, store ${status.store}`],
        ['agents', String(status.agents)],
        ['alerts', `${status.undeliveredAlerts} undelivered`],
      );
      break;
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}\n`).join('');
}
