/**
 * Parses Debian control-file text (deb822: `/var/lib/dpkg/status`, `Packages`, `Release`, a .deb's `control`):
 * stanzas separated by blank lines, `Field: value` lines, continuation lines starting with a space or tab.
 * Field names are kept as written; continuation lines are joined with newlines (without their leading space).
 */
export function* parseDeb822(text: string): Generator<Map<string, string>, void, undefined> {
  let stanza = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (stanza.size > 0) yield stanza;
      stanza = new Map();
      last = undefined;
      continue;
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      stanza.set(last, `${stanza.get(last) ?? ''}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon);
    stanza.set(last, line.slice(colon + 1).trim());
  }
  if (stanza.size > 0) yield stanza;
}
