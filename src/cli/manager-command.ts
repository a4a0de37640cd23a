import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import type { AlertSink } from '../analysis/alert-sink.js';
import { loadRuleSet } from '../analysis/load-rule-set.js';
import { Md5Allowlist } from '../hashdb/md5-allowlist.js';
import { wazuhJsonContext } from '../analysis/sinks/wazuh-json-context.js';
import { JsonLinesAlertSink } from '../analysis/sinks/json-lines-alert-sink.js';
import { OssecLogAlertSink } from '../analysis/sinks/ossec-log-alert-sink.js';
import { SyslogAlertSink } from '../analysis/sinks/syslog-alert-sink.js';
import { WebhookAlertSink } from '../analysis/sinks/webhook-alert-sink.js';
import { splitHostPort } from '../core/config/config-schema.js';
import { parseDurationMs } from '../core/config/units.js';
import { CustosError } from '../core/custos-error.js';
import { isPostgresLocation, knownHashLocation, openKnownHashStore } from '../hashdb/open-known-hash-store.js';
import { SqliteKnownHashStore } from '../hashdb/sqlite-known-hash-store.js';
import { DebVerifier } from '../manager/deb-uploads.js';
import { createEnrollmentToken } from '../manager/enrollment-token.js';
import { ensureManagerPki } from '../manager/manager-pki.js';
import { startManager } from '../manager/manager-server.js';
import { managerContentDiffs } from './open-content-store.js';
import { actAsOwnerOf } from '../platform/act-as-owner.js';
import { hostName } from '../protocol/wire.js';
import { assertPrivatePath } from '../storage/private-path.js';
import { redactPostgresUrl } from '../storage/postgres/postgres-database.js';
import type { Store } from '../storage/store.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { loadConfig } from './load-config.js';
import { managerPkiCommand } from './manager-pki-command.js';
import { managerUserCommand } from './manager-user-command.js';
import { openEmailSink } from './open-email-sink.js';
import { openManagerStore, openStore } from './open-store.js';
import { serviceLogger } from './service-logger.js';

interface ManagerFlags {
  readonly data: string;
  readonly config?: string;
  /** `--store postgres://…`: the store on PostgreSQL (several managers may share it). */
  readonly store?: string;
  readonly listen?: string;
  readonly ttl?: string;
  readonly json?: boolean;
  readonly allowDuplicateName?: boolean;
}

/** The manager's configuration: `--config`, else `DATA/custos.yml` when present, else the defaults. */
function managerConfig(flags: ManagerFlags) {
  const dataDir = resolve(flags.data);
  actAsOwnerOf(dataDir);
  const config = flags.config ?? (existsSync(join(dataDir, 'custos.yml')) ? join(dataDir, 'custos.yml') : undefined);
  return {
    dataDir,
    loaded: loadConfig({ ...(config === undefined ? {} : { config }), data: dataDir, ...(flags.store === undefined ? {} : { store: flags.store }) }),
  };
}

/** Runs `work` on the manager's store (as the data directory's owner when run as root), closing it after. */
async function withManagerStore<T>(flags: ManagerFlags, work: (store: Store) => Promise<T>): Promise<T> {
  const { loaded } = managerConfig(flags);
  const store = await openStore(loaded.config.storage);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** `custos manager start|token|revoke|group|rename|agents`. */
export function managerCommand(result: CommandResult): Command {
  const manager = new Command('manager').description('the manager: keeps the trusted baselines of a fleet of agents');
  const withData = (c: Command): Command =>
    c
      .requiredOption('--data <dir>', 'the manager data directory')
      .option('--config <file>', 'custos.yml (default: DATA/custos.yml)')
      .option('--store <url>', 'keep baselines, history and alerts in PostgreSQL (postgres://…) instead of DATA/custos.db');

  manager.addCommand(
    withData(new Command('start'))
      .description('run the manager (HTTPS API for agents; alerts to DATA/alerts.json and DATA/alerts.log)')
      .option('--listen <host:port>', 'address to listen on (default: manager.listen, 0.0.0.0:1515)')
      .action(async (flags: ManagerFlags) => {
        const { dataDir, loaded } = managerConfig(flags);
        // Its alert files and baselines live there: nobody but the manager's user may write to it.
        assertPrivatePath(dataDir, 'data directory');
        const { config } = loaded;
        const logger = serviceLogger('custos-manager');
        for (const w of loaded.warnings) logger.warn({ file: w.file, line: w.line, key: w.key }, w.message);
        const [host, port] = flags.listen === undefined ? [config.manager.listenHost, String(config.manager.listenPort)] : splitHostPort(flags.listen);
        const rules = loadRuleSet(config.rules, (warnings) => {
          for (const w of warnings) logger.warn({ file: w.file, line: w.line, key: w.key }, w.message);
        });
        const { store, leadership } = await openManagerStore(config.storage, config.manager.alertLeaseMs);
        if (config.storage.engine === 'postgres') logger.info({ store: redactPostgresUrl(config.storage.url) }, 'store on PostgreSQL');
        // Always there (created when missing): it keeps what the agents' hosts report of their packages. With the store
        // on PostgreSQL and none configured, it is in that database, so what one manager imports every manager sees;
        // there each manager keeps Bloom filters in memory, rebuilt when another one imports. On SQLite it keeps the
        // filters and the digest index (issue 17: the verdict rates at 100M rows), saved beside the file and kept
        // current by every import's log; missing or stale ones are built by a thread of their own while SQLite
        // answers, so the manager listens at once (at 100M rows: 188 MB of filters and 64 MB of index directory in
        // memory, twice the filters while a build runs).
        const hashdbLocation = knownHashLocation(config, join(dataDir, 'hashdb.sqlite'));
        const knownHashes = await openKnownHashStore(hashdbLocation, { bloom: true, build: 'background' });
        if (knownHashes instanceof SqliteKnownHashStore) {
          // Said once the saved files are current (at once when they already were): until then verdicts come from SQL.
          void knownHashes.backgroundBuild().then(() => logger.info({ hashdb: hashdbLocation }, 'known-hash filters and digest index saved'));
        }
        if (isPostgresLocation(hashdbLocation)) logger.info({ hashdb: redactPostgresUrl(hashdbLocation) }, 'known-hash database on PostgreSQL');
        // A manager that kept its known hashes in DATA/hashdb.sqlite before they moved to PostgreSQL: what was imported
        // there is not carried over, and changes it explained would alert. Said at every start while the file is there.
        const oldHashdb = join(dataDir, 'hashdb.sqlite');
        if (isPostgresLocation(hashdbLocation) && hashdbLocation !== oldHashdb && existsSync(oldHashdb)) {
          logger.warn(
            { file: oldHashdb },
            'this known-hash database file is not used: the known-hash database is in PostgreSQL now, and what was imported into the file is not there; import the sources again with --hashdb postgres://…, or set known_hashes.database to the file to keep using it',
          );
        }
        const verify = config.manager.packages;
        const debVerifier =
          verify === undefined
            ? undefined
            : new DebVerifier(
                { keyring: verify.keyring, aptLists: verify.aptLists, maxBytes: verify.maxDebBytes, incomingDir: join(dataDir, 'incoming') },
                knownHashes,
              );
        const md5Allowlist = config.knownHashes.md5AllowlistPath === undefined ? undefined : Md5Allowlist.open(config.knownHashes.md5AllowlistPath);
        const sinkLog = (message: string): void => logger.warn({ component: 'sink' }, message);
        const wazuh = wazuhJsonContext(config.alerts.managerName ?? hostname(), config.email, hostname());
        const sinks: AlertSink[] = [
          new JsonLinesAlertSink(join(dataDir, 'alerts.json'), wazuh),
          new OssecLogAlertSink(join(dataDir, 'alerts.log'), hostname()),
        ];
        const s = config.manager.syslog;
        if (s !== undefined)
          sinks.push(
            new SyslogAlertSink(
              { host: s.host, port: s.port, protocol: s.protocol, ...(s.caFile === undefined ? {} : { ca: readFileSync(s.caFile, 'utf8') }) },
              sinkLog,
            ),
          );
        const w = config.manager.webhook;
        if (w !== undefined)
          sinks.push(
            new WebhookAlertSink({ url: w.url, headers: w.headers, ...(w.caFile === undefined ? {} : { ca: readFileSync(w.caFile, 'utf8') }) }, sinkLog),
          );
        const email = openEmailSink(config, store, hostname(), sinkLog, true);
        if (email !== undefined) sinks.push(email);
        const pki = await ensureManagerPki(dataDir);
        const content = managerContentDiffs(config, dataDir);
        const running = await startManager(
          {
            dataDir,
            config,
            store,
            ...(leadership === undefined ? {} : { leadership }),
            pki,
            rules,
            knownHashes,
            ...(debVerifier === undefined ? {} : { debVerifier }),
            ...(md5Allowlist === undefined ? {} : { md5Allowlist }),
            sinks,
            logger,
            now: () => new Date(),
            contentDiffs: content.diffs,
          },
          { host: host ?? '0.0.0.0', port: Number(port) },
        );
        // What an earlier run queued but did not mail (an outage, a crash) goes out now.
        email?.resume();
        // logrotate renames alerts.json/alerts.log and sends SIGHUP: the next alert goes to a new file by that name.
        const reopen = (): void => {
          for (const sink of sinks) sink.reopen?.();
          logger.info('alert files reopened');
        };
        process.on('SIGHUP', reopen);
        await new Promise<void>((resolveStop) => {
          const stop = (): void => resolveStop();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        logger.info('stopping');
        process.off('SIGHUP', reopen);
        await running.close();
        await Promise.all(sinks.map((sink) => sink.close()));
        await knownHashes.close();
        md5Allowlist?.close();
        await leadership?.close();
        content.close();
        await store.close();
        result.exitCode = EXIT.OK;
      }),
  );

  manager.addCommand(
    withData(new Command('token'))
      .description('print a single-use enrollment token')
      .option('--ttl <duration>', 'how long it stays valid (default: manager.token_ttl, 1h)')
      .action(async (flags: ManagerFlags) => {
        const { dataDir, loaded } = managerConfig(flags);
        const ttl = flags.ttl === undefined ? loaded.config.manager.tokenTtlMs : parseDurationMs(flags.ttl);
        if (ttl === undefined || ttl <= 0) throw new CustosError('USAGE', `--ttl "${flags.ttl ?? ''}" is not a duration`);
        const pki = await ensureManagerPki(dataDir);
        const { token, expiresAt } = await withManagerStore(flags, (store) => createEnrollmentToken(store, pki.caSha256, ttl, new Date()));
        process.stdout.write(`${token}\n`);
        process.stderr.write(`custos: single-use token, valid until ${expiresAt}\n`);
        result.exitCode = EXIT.OK;
      }),
  );

  manager.addCommand(
    withData(new Command('revoke'))
      .description('refuse an agent from now on')
      .argument('<agent-id>')
      .action(async (agentId: string, flags: ManagerFlags) => {
        const done = await withManagerStore(flags, (store) => store.revokeAgent(agentId, new Date().toISOString()));
        if (!done) throw new CustosError('USAGE', `no agent ${agentId} to revoke (or it already is)`);
        process.stdout.write(`revoked agent ${agentId}\n`);
        result.exitCode = EXIT.OK;
      }),
  );

  manager.addCommand(
    withData(new Command('group'))
      .description('put an agent in a configuration group (it then gets DATA/shared/groups/<group>.yml)')
      .argument('<agent-id>')
      .argument('[group]', 'the group; omit it to take the agent out of its group')
      .action(async (agentId: string, group: string | undefined, flags: ManagerFlags) => {
        if (group !== undefined && !hostName.safeParse(group).success)
          throw new CustosError('USAGE', `group "${group}": use letters, digits, dot, dash and underscore (at most 64, not starting with a dot)`);
        if (!(await withManagerStore(flags, (store) => store.setAgentGroup(agentId, group)))) throw new CustosError('USAGE', `no agent ${agentId}`);
        process.stdout.write(group === undefined ? `agent ${agentId} is in no group\n` : `agent ${agentId} is in group ${group}\n`);
        result.exitCode = EXIT.OK;
      }),
  );

  manager.addCommand(
    withData(new Command('rename'))
      .description('rename an agent: it keeps its id, baseline and history, and keeps reporting (no re-enrolment)')
      .argument('<agent-id>')
      .argument('<name>')
      .option('--allow-duplicate-name', 'rename even though another agent has this name')
      .action(async (agentId: string, name: string, flags: ManagerFlags) => {
        if (!hostName.safeParse(name).success)
          throw new CustosError('USAGE', `name "${name}": use letters, digits, dot, dash and underscore (at most 64, not starting with a dot)`);
        const outcome = await withManagerStore(flags, async (store) => {
          const agents = await store.listAgentInfos();
          const clash = agents.find((a) => a.name === name && a.id !== agentId && a.id !== '000' && a.revokedAt === undefined);
          if (clash !== undefined && flags.allowDuplicateName !== true)
            return `agent ${clash.id} is already named ${name} (--allow-duplicate-name to rename anyway)`;
          if (agentId === '000' || !(await store.renameAgent(agentId, name))) return `no agent ${agentId}`;
          return undefined;
        });
        if (outcome !== undefined) throw new CustosError('USAGE', outcome);
        process.stdout.write(`agent ${agentId} is now named ${name}\n`);
        result.exitCode = EXIT.OK;
      }),
  );

  manager.addCommand(
    withData(new Command('agents'))
      .description('list enrolled agents')
      .option('--json', 'print JSON lines')
      .action(async (flags: ManagerFlags) => {
        for (const a of await withManagerStore(flags, (store) => store.listAgentInfos())) {
          if (a.id === '000') continue;
          const status = a.revokedAt !== undefined ? 'revoked' : a.silentSince !== undefined ? 'silent' : 'active';
          process.stdout.write(
            flags.json === true
              ? `${JSON.stringify({ ...a, status })}\n`
              : `${a.id} ${a.name.padEnd(20)} ${status.padEnd(8)} ${(a.group ?? '-').padEnd(12)} last seen ${a.lastSeen ?? 'never'}\n`,
          );
        }
        result.exitCode = EXIT.OK;
      }),
  );
  manager.addCommand(managerUserCommand(result));
  manager.addCommand(managerPkiCommand(result));
  return manager;
}
