// custos(1), generated from the CLI's own help texts (see cli-help-tree.mjs).
import { allNodes } from './cli-help-tree.mjs';

/** Escapes text for roff: backslashes, and a leading dot or quote that would read as a request. */
function roff(text) {
  return text
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

/** The man page (roff, section 1) for the command tree `root`, at version `version`. */
export function manPage(root, version, date) {
  const out = [
    `.TH CUSTOS 1 "${date}" "custos ${version}" "User Commands"`,
    '.SH NAME',
    `custos \\- ${roff(root.summary)}`,
    '.SH SYNOPSIS',
    '.B custos',
    '.I command',
    '[options]',
    '.SH DESCRIPTION',
    'Custos records the trusted state of files (content digests, type, size, permissions, owner, group, mtime, inode,',
    'symlink target) and alerts on what changed since, standalone or as a fleet of agents reporting to a manager.',
    'The sections below are the help of each command, as printed by',
    '.BR "custos " [ command ] " \\-\\-help" .',
    '.SH COMMANDS',
  ];
  for (const node of allNodes(root).slice(1)) {
    out.push(`.SS "custos ${node.path.join(' ')}"`, '.nf', roff(node.help.trimEnd()), '.fi');
  }
  out.push(
    '.SH EXIT STATUS',
    '0 nothing alerted, 1 alerts raised (or a broken history chain), 2 bad usage or configuration, 3 runtime failure.',
    '.SH FILES',
    '.TP',
    '.I /etc/custos/custos.yml',
    'the configuration read when no \\-\\-config is given (or $CUSTOS_CONFIG)',
    '.TP',
    '.I /var/lib/custos',
    'the baseline, history and alerts (alerts.json, alerts.log) of standalone checks run as root',
    '.TP',
    '.I /var/lib/custos-agent, /var/lib/custos-manager',
    'the data directories of the custos-agent and custos-manager services',
    '.SH SEE ALSO',
    '.BR systemctl (1),',
    '.BR logrotate (8)',
    '',
  );
  return out.join('\n');
}
