import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { CustosError } from '../core/custos-error.js';
import { hashPassword } from '../manager/console/password-hash.js';
import { actAsOwnerOf } from '../platform/act-as-owner.js';
import { CONSOLE_ROLES, type ConsoleRole } from '../storage/console-repository.js';
import { openSqliteConsole } from '../storage/sqlite/open-sqlite-console.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { actorName } from './actor-name.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { readNewPassword } from './read-password.js';

const USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** Runs `work` on the console storage of a manager's data directory (as its owner when run as root). */
async function withConsole<T>(data: string, work: (console: ReturnType<typeof openSqliteConsole>) => Promise<T>): Promise<T> {
  const dataDir = resolve(data);
  actAsOwnerOf(dataDir);
  // The store brings the schema (the console's tables included) up to date first.
  const store = SqliteStore.open(join(dataDir, 'custos.db'));
  const opened = openSqliteConsole(store.path);
  try {
    return await work(opened);
  } finally {
    opened.close();
    await store.close();
  }
}

/** `custos manager user add|list`: the web console's local accounts. */
export function managerUserCommand(result: CommandResult): Command {
  const user = new Command('user').description("the web console's accounts");
  user.addCommand(
    new Command('add')
      .description('create a console account, or set the role and password of an existing one (password on stdin or typed twice)')
      .argument('<name>')
      .requiredOption('--data <dir>', 'the manager data directory')
      .option('--role <role>', 'admin (may acknowledge, accept, revoke) or viewer (reads only)', 'viewer')
      .action(async (name: string, flags: { data: string; role: string }) => {
        if (!USER_NAME.test(name)) throw new CustosError('USAGE', `user name "${name}": use letters, digits, dot, dash, underscore and @ (at most 64)`);
        if (!(CONSOLE_ROLES as readonly string[]).includes(flags.role)) throw new CustosError('USAGE', `--role ${flags.role}: use admin or viewer`);
        const passwordHash = await hashPassword(await readNewPassword());
        const created = await withConsole(flags.data, async ({ repository }) => {
          const at = new Date().toISOString();
          const isNew = await repository.putUser({ name, role: flags.role as ConsoleRole, passwordHash }, at);
          // A changed password or role ends the account's sessions.
          if (!isNew) await repository.deleteSessionsOf(name);
          await repository.audit({
            ts: at,
            actor: actorName(),
            action: isNew ? 'user-add' : 'user-update',
            target: name,
            outcome: 'ok',
            details: { role: flags.role, via: 'cli' },
          });
          return isNew;
        });
        process.stdout.write(`${created ? 'created' : 'updated'} console user ${name} (${flags.role})\n`);
        result.exitCode = EXIT.OK;
      }),
  );
  user.addCommand(
    new Command('list')
      .description('list console accounts')
      .requiredOption('--data <dir>', 'the manager data directory')
      .action(async (flags: { data: string }) => {
        for (const u of await withConsole(flags.data, ({ repository }) => repository.listUsers())) process.stdout.write(`${u.name} ${u.role}\n`);
        result.exitCode = EXIT.OK;
      }),
  );
  return user;
}
