import { Command } from 'commander';
import { exportCaBundle, importCaBundle } from '../manager/manager-pki-transfer.js';
import { EXIT, type CommandResult } from './exit-codes.js';

/**
 * `custos manager pki export|import`: several managers on one store share one CA, so an agent enrolled with any of
 * them is accepted by all; each has a server certificate of its own, issued at import for its own names.
 */
export function managerPkiCommand(result: CommandResult): Command {
  const pki = new Command('pki').description("share the manager's CA with another manager on the same store");
  pki.addCommand(
    new Command('export')
      .description("write this manager's CA (certificate and private key) to FILE, owner-only, for `manager pki import` on another manager")
      .requiredOption('--data <dir>', 'the manager data directory')
      .requiredOption('--out <file>', 'the bundle to write (must not exist; carry it over privately and delete it after the import)')
      .action((flags: { data: string; out: string }) => {
        const { caSha256 } = exportCaBundle(flags.data, flags.out);
        process.stdout.write(`CA sha256 ${caSha256} written to ${flags.out} (mode 0600: it holds the CA's private key)\n`);
        result.exitCode = EXIT.OK;
      }),
  );
  pki.addCommand(
    new Command('import')
      .description("install a CA exported from another manager into DATA/pki and issue this manager's own server certificate with it")
      .requiredOption('--data <dir>', 'the manager data directory')
      .requiredOption('--from <file>', 'the bundle written by `custos manager pki export`')
      .option('--name <host...>', "extra DNS names for this manager's server certificate (its host name and addresses are always in it)")
      .action(async (flags: { data: string; from: string; name?: string[] }) => {
        const imported = await importCaBundle(flags.data, flags.from, flags.name ?? []);
        process.stdout.write(
          `CA sha256 ${imported.caSha256} installed in ${flags.data}/pki, with a server certificate of this manager's own${imported.replacedServerCert ? ' (the one from the previous CA was replaced)' : ''}\n`,
        );
        result.exitCode = EXIT.OK;
      }),
  );
  return pki;
}
