/**
 * OSSEC's "sregex" (OSMatch), used by `<ignore type="sregex">`, `restrict` and `nodiff`: case-insensitive
 * substring matching where `|` separates alternatives, `^` anchors an alternative at the start and `$` at the
 * end, and a leading `!` negates the whole pattern. Every other character is literal.
 */
export interface OsMatch {
  readonly source: string;
  test(text: string): boolean;
}

/**
 * Compiles an OSMatch pattern, as one case-insensitive RegExp (V8 scans literal alternatives far faster than a
 * lower-cased copy of the text per pattern would allow).
 */
export function compileOsMatch(source: string): OsMatch {
  const negate = source.startsWith('!');
  const body = negate ? source.slice(1) : source;
  const alternatives = body.split('|').map((alt) => {
    const anchoredStart = alt.startsWith('^');
    const anchoredEnd = alt.endsWith('$') && alt.length > (anchoredStart ? 1 : 0);
    const literal = alt.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    return `${anchoredStart ? '^' : ''}${literal}${anchoredEnd ? '$' : ''}`;
  });
  const regex = new RegExp(alternatives.join('|'), 'i');
  return {
    source,
    test: (text: string): boolean => regex.test(text) !== negate,
  };
}
