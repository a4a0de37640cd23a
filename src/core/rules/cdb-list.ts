/**
 * Parses an OSSEC/Wazuh CDB list source: one `key:value` per line (the value may be empty or absent; a key that
 * holds a colon is written in double quotes), `#` comments. Keys are kept lower-case and compared lower-case, so
 * hash lists match whatever case a feed used.
 */
export function parseCdbList(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let key: string;
    let rest: string;
    if (line.startsWith('"')) {
      const end = line.indexOf('"', 1);
      key = end < 0 ? line.slice(1) : line.slice(1, end);
      rest = end < 0 ? '' : line.slice(end + 1).replace(/^:/, '');
    } else {
      const colon = line.indexOf(':');
      key = colon < 0 ? line : line.slice(0, colon);
      rest = colon < 0 ? '' : line.slice(colon + 1);
    }
    entries.set(key.toLowerCase(), rest);
  }
  return entries;
}
