import { RE2JS } from 're2js';

/**
 * OSSEC's regex flavour (OS_Regex, `<regex>` and `<field>` in rules), translated to a JavaScript RegExp. What it
 * supports, and its quirks, from OSSEC's own compiler and character maps:
 * - `\w` is `A-Z a-z 0-9 - @ _` (not the JS `\w`: it includes `-` and `@`); `\W` is anything else
 * - `\d` digits, `\D` anything else; `\s` a space only (never a tab), `\S` anything else; `\t` a tab
 * - `\p` punctuation `! " # $ % & ' ( ) * + , - . : ; < = > ? [ ] { | }` (not `/`, `\`, `@`, `^`, `_`, `~`)
 * - `\.` any character; a bare `.` is a literal dot
 * - `+` and `*` repeat only the backslash item before them; after a plain character they are literal
 * - `^` anchors an alternative only as its first character, `$` only as its last; elsewhere both are literal
 * - `|` separates alternatives; `(` `)` group (one level only, no `|` inside); escape `$ ( ) \ |` and `<` with
 *   a backslash to mean the character itself
 * - matching is case-insensitive; any other escape is an error
 * The translation runs on RE2's automaton (re2js), never on a backtracking engine: matching takes time linear in
 * the text, so a pattern like `\w*\w*\w*\w*\w*\w*\w*!$` against a long path an intruder created cannot stall the
 * analysis. OSSEC's own matcher does not backtrack either (it gives up after a few steps); RE2 finds every match a
 * backtracking engine would, so it can match a few contrived patterns OSSEC misses, never the other way round for
 * patterns OSSEC documents.
 */
export interface OsRegex {
  readonly source: string;
  test(text: string): boolean;
}

/** A pattern OSSEC would refuse to compile. */
export class OsRegexError extends Error {
  constructor(pattern: string, reason: string) {
    super(`invalid OSSEC regex ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'OsRegexError';
  }
}

const CLASSES: Readonly<Record<string, string>> = {
  w: '[A-Za-z0-9\\-@_]',
  W: '[^A-Za-z0-9\\-@_]',
  d: '[0-9]',
  D: '[^0-9]',
  s: ' ',
  S: '[^ ]',
  t: '\\t',
  p: '[!-.:-?\\[\\]{-}]',
  '.': '[\\s\\S]',
  '(': '\\(',
  ')': '\\)',
  '\\': '\\\\',
  $: '\\$',
  '|': '\\|',
  '<': '<',
};

/** Compiles an OSSEC regex; throws {@link OsRegexError} where OSSEC would refuse it. */
export function compileOsRegex(source: string): OsRegex {
  const alternatives = splitAlternatives(source);
  const translated = alternatives.map((alt) => translateAlternative(alt, source)).join('|');
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(translated, RE2JS.CASE_INSENSITIVE);
  } catch (error) {
    throw new OsRegexError(source, (error as Error).message);
  }
  return { source, test: (text) => regex.test(text) };
}

function splitAlternatives(source: string): string[] {
  const out: string[] = [];
  let current = '';
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '\\') {
      current += c + (source[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (depth > 1 || depth < 0) throw new OsRegexError(source, 'only one level of parentheses is allowed');
    if (c === '|') {
      if (depth !== 0) throw new OsRegexError(source, '"|" inside parentheses');
      out.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  if (depth !== 0) throw new OsRegexError(source, 'unbalanced parentheses');
  out.push(current);
  return out;
}

function translateAlternative(alt: string, source: string): string {
  let body = alt;
  let prefix = '';
  let suffix = '';
  if (body.startsWith('^')) {
    prefix = '^';
    body = body.slice(1);
  }
  // A trailing `$` anchors unless it is the escaped `\$` (an odd number of backslashes before it).
  const trailing = /(\\*)\$$/.exec(body);
  if (trailing !== null && (trailing[1] ?? '').length % 2 === 0) {
    suffix = '$';
    body = body.slice(0, -1);
  }
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '\\') {
      const next = body[i + 1];
      const cls = next === undefined ? undefined : CLASSES[next];
      if (cls === undefined) throw new OsRegexError(source, next === undefined ? 'a trailing backslash' : `unknown escape \\${next}`);
      out += cls;
      i++;
      const q = body[i + 1];
      if (q === '+' || q === '*') {
        out += q;
        i++;
      }
      continue;
    }
    if (c === '(') out += '(?:';
    else if (c === ')') out += ')';
    else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return `${prefix}${out}${suffix}`;
}
