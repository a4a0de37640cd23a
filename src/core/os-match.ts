/**
 * OSSEC's "sregex" (OSMatch), used by `<ignore type="sregex">`, `restrict` and `nodiff`: case-insensitive
 * substring matching where `|` separates alternatives, `^` anchors an alternative at the start and `$` at the
 * end, and a leading `!` negates the whole pattern. Every other character is literal.
 */
export interface OsMatch {
  readonly source: string;
  test(text: string): boolean;
}

/** Compiles an OSMatch pattern. */
export function compileOsMatch(source: string): OsMatch {
  const negate = source.startsWith('!');
  const body = negate ? source.slice(1) : source;
  const alternatives = body.split('|').map((alt) => {
    const anchoredStart = alt.startsWith('^');
    const anchoredEnd = alt.endsWith('$') && alt.length > (anchoredStart ? 1 : 0);
    const literal = alt.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined).toLowerCase();
    return { anchoredStart, anchoredEnd, literal };
  });
  return {
    source,
    test(text: string): boolean {
      const t = text.toLowerCase();
      const hit = alternatives.some(({ anchoredStart, anchoredEnd, literal }) => {
        if (anchoredStart && anchoredEnd) return t === literal;
        if (anchoredStart) return t.startsWith(literal);
        if (anchoredEnd) return t.endsWith(literal);
        return t.includes(literal);
      });
      return negate ? !hit : hit;
    },
  };
}
