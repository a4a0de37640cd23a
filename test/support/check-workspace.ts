import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

/**
 * A monitored tree, its config and its database, in a fresh temp dir: `extraYaml` follows the tree's directory
 * entry (more per-directory options, or other `syscheck` keys). `args` are what `check` needs to use them.
 */
export function checkWorkspace(extraYaml = ''): { dir: string; tree: string; args: string[] } {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  writeFileSync(join(dir, 'custos.yml'), `syscheck:\n  directories:\n    - path: ${tree}\n${extraYaml}`);
  return { dir, tree, args: ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db')] };
}
