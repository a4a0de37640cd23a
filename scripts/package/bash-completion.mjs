// Bash completion for custos, generated from the CLI's own help texts (see cli-help-tree.mjs).
import { allNodes } from './cli-help-tree.mjs';

/** A bash completion script for the command tree `root`: subcommands by position, then each command's options. */
export function bashCompletion(root) {
  const cases = allNodes(root).map((node) => {
    const key = node.path.join(' ');
    const words = [...node.children.map((c) => c.path.at(-1)), ...node.options, ...(node.children.length > 0 ? ['help'] : [])];
    return `    '${key}') words='${words.join(' ')}' ;;`;
  });
  return `# bash completion for custos (generated from \`custos --help\`)
_custos() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path='' candidate words i
  # The command path: the leading words that name subcommands, as far as they go.
  for ((i = 1; i < COMP_CWORD; i++)); do
    candidate="\${path:+\$path }\${COMP_WORDS[i]}"
    case "\$candidate" in
${cases
  .filter((c) => !c.startsWith("    ''"))
  .map((c) => c.replace(/\) words=.*$/, ') path="$candidate" ;;').replace(/^    /, '      '))
  .join('\n')}
      *) break ;;
    esac
  done
  case "\$prev" in
    --config|--db|--data|--hashdb|--root|--keyring|--apt-lists|--base|--cert|--key|--ca) COMPREPLY=(\$(compgen -f -- "\$cur")); return ;;
  esac
  case "\$path" in
${cases.join('\n')}
    *) words='' ;;
  esac
  COMPREPLY=(\$(compgen -W "\$words" -- "\$cur"))
  # Past the subcommands (PATH arguments, FILE operands): file names.
  if [[ \${#COMPREPLY[@]} -eq 0 && "\$cur" != -* ]]; then COMPREPLY=(\$(compgen -f -- "\$cur")); fi
}
complete -F _custos custos
`;
}
