import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { CustosError } from '../core/custos-error.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { STARTER_CONFIG } from './starter-config.js';

interface InitFlags {
  readonly force?: boolean;
}

/** `custos init [FILE]`: writes a commented starter custos.yml (never over an existing file without --force). */
export function initCommand(result: CommandResult): Command {
  const command = new Command('init')
    .description('write a commented starter custos.yml')
    .argument('[file]', 'where to write it', 'custos.yml')
    .option('--force', 'overwrite an existing file');
  command.action(async (file: string, flags: InitFlags) => {
    try {
      writeFileSync(file, STARTER_CONFIG, { flag: flags.force === true ? 'w' : 'wx', mode: 0o644 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CustosError('USAGE', `${file} already exists; use --force to overwrite it`);
      throw error;
    }
    process.stdout.write(`wrote ${file}; run: custos check --config ${file}\n`);
    result.exitCode = EXIT.OK;
  });
  return command;
}
