// Walks the built CLI's own help, command by command, so the man page and the bash completion say exactly what
// `custos ... --help` says (nothing is written twice by hand, nothing drifts).
import { execFileSync } from 'node:child_process';

/**
 * @typedef {{ path: string[], help: string, summary: string, options: string[], children: HelpNode[] }} HelpNode
 */

/** Runs `node CLI ...path --help` and returns its text (commander prints help on stdout and exits 0). */
function helpText(cli, path) {
  return execFileSync(process.execPath, [cli, ...path, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '80' } });
}

/** The lines of one section ("Options:", "Commands:") of a help text, without the heading. */
function section(help, heading) {
  const lines = help.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) return [];
  const out = [];
  for (const line of lines.slice(start + 1)) {
    if (line === '' || !line.startsWith(' ')) break;
    out.push(line);
  }
  return out;
}

/** The subcommand names a help text lists (an entry starts two spaces in; continuation lines start further in). */
function commandNames(help) {
  return section(help, 'Commands:')
    .filter((line) => /^ {2}\S/.test(line))
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name) => name !== 'help');
}

/** The long options a help text lists. */
function optionNames(help) {
  return section(help, 'Options:')
    .filter((line) => /^ {2}-/.test(line))
    .flatMap(
      (line) =>
        line
          .trim()
          .split(/\s{2,}/)[0]
          .match(/--[a-z][a-z0-9-]*/g) ?? [],
    );
}

/** The whole command tree of the CLI at `cli` (a path to bin/custos.js), from its help texts. */
export function helpTree(cli, path = []) {
  const help = helpText(cli, path);
  const summary =
    help
      .split('\n\n')[1]
      ?.replace(/\s*\n\s*/g, ' ')
      .trim() ?? '';
  return {
    path,
    help,
    summary,
    options: optionNames(help),
    children: commandNames(help).map((name) => helpTree(cli, [...path, name])),
  };
}

/** Every node of the tree, depth first. */
export function allNodes(node) {
  return [node, ...node.children.flatMap(allNodes)];
}
