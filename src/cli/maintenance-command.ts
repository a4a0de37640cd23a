import { Command, InvalidArgumentError } from 'commander';
import { parseDurationMs } from '../core/config/units.js';
import { actorName } from './actor-name.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { loadConfig } from './load-config.js';
import { openStore } from './open-store.js';

interface MaintenanceFlags {
  readonly config?: string;
  readonly db?: string;
  readonly data?: string;
  readonly store?: string;
  readonly agent?: string;
  readonly for?: number;
  readonly reason?: string;
  readonly json?: boolean;
}

/**
 * `custos maintenance start|stop|list`: a bounded window in which changes are recorded (with the window they fell
 * in) but not alerted, for a patch run; it ends by itself. Known-bad content still alerts.
 */
export function maintenanceCommand(result: CommandResult): Command {
  const command = new Command('maintenance').description('accept changes without alerts for a bounded time (patch windows)');
  const common = (c: Command): Command =>
    c
      .option('--config <file>', 'custos.yml or ossec.conf')
      .option('--db <file>', 'SQLite baseline file')
      .option('--data <dir>', "a manager's data directory (its custos.db)")
      .option('--store <url>', "the manager's store on PostgreSQL (postgres://…)")
      .option('--agent <id>', 'only this agent (default: every agent; standalone is 000)');
  command.addCommand(
    common(new Command('start'))
      .requiredOption('--for <duration>', 'how long, e.g. 30m, 2h (at most 7d)', parseWindow)
      .option('--reason <text>', 'why, kept with the window')
      .action(async (flags: MaintenanceFlags) => {
        const store = await openStore(loadConfig(flags).config.storage);
        try {
          const now = new Date();
          const window = await store.startMaintenance({
            ...(flags.agent === undefined ? {} : { agentId: flags.agent }),
            startsAt: now.toISOString(),
            endsAt: new Date(now.getTime() + (flags.for ?? 0)).toISOString(),
            startedBy: actorName(),
            ...(flags.reason === undefined ? {} : { reason: flags.reason }),
          });
          process.stdout.write(
            `maintenance window ${window.id} for ${flags.agent === undefined ? 'every agent' : `agent ${flags.agent}`} until ${window.endsAt}\n`,
          );
          result.exitCode = EXIT.OK;
        } finally {
          await store.close();
        }
      }),
  );
  command.addCommand(
    common(new Command('stop')).action(async (flags: MaintenanceFlags) => {
      const store = await openStore(loadConfig(flags).config.storage);
      try {
        const now = new Date().toISOString();
        const ended = await store.endMaintenance(flags.agent, now);
        const scope = flags.agent === undefined ? 'for every agent' : `for agent ${flags.agent}`;
        process.stdout.write(`ended ${ended} maintenance window${ended === 1 ? '' : 's'} ${scope}\n`);
        // Without --agent only the windows for every agent end: say which per-agent windows are still open.
        for (const w of await store.listMaintenance()) {
          if (w.endedAt === undefined && w.startsAt <= now && w.endsAt > now) {
            process.stdout.write(
              `still open: window ${w.id} for ${w.agentId === undefined ? 'every agent' : `agent ${w.agentId}`} until ${w.endsAt} (custos maintenance stop --agent ${w.agentId ?? ''})\n`,
            );
          }
        }
        result.exitCode = EXIT.OK;
      } finally {
        await store.close();
      }
    }),
  );
  command.addCommand(
    common(new Command('list'))
      .option('--json', 'print JSON lines')
      .action(async (flags: MaintenanceFlags) => {
        const store = await openStore(loadConfig(flags).config.storage);
        try {
          const now = new Date().toISOString();
          for (const w of await store.listMaintenance()) {
            const active = w.endedAt === undefined && w.startsAt <= now && w.endsAt > now;
            if (flags.json === true) process.stdout.write(`${JSON.stringify({ ...w, active })}\n`);
            else
              process.stdout.write(
                `${w.id} ${active ? 'ACTIVE' : 'done  '} ${w.agentId ?? '*'} ${w.startsAt} -> ${w.endedAt ?? w.endsAt} by ${w.startedBy}${w.reason === undefined ? '' : `: ${w.reason}`}\n`,
              );
          }
          result.exitCode = EXIT.OK;
        } finally {
          await store.close();
        }
      }),
  );
  return command;
}

function parseWindow(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0 || ms > 7 * 86_400_000) throw new InvalidArgumentError('expected a duration from 1s to 7d, e.g. 30m');
  return ms;
}
