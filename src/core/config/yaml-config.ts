import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { configIssue, type ConfigIssue } from '../custos-error.js';
import { err, type Result } from '../result.js';
import { validateConfigObject } from './config-schema.js';
import type { ConfigDefaults, LoadedConfig } from './custos-config.js';

/**
 * Parses `custos.yml` text. Every problem is reported at once, each with the file, line and dotted key; options
 * that parse but are not in effect yet come back as warnings.
 */
export function parseYamlConfig(text: string, file: string, defaults: ConfigDefaults): Result<LoadedConfig, readonly ConfigIssue[]> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return err(doc.errors.map((e) => configIssue(file, lineCounter.linePos(e.pos[0]).line, '', e.message.split('\n')[0] ?? '')));
  }
  let value: unknown;
  try {
    // The yaml library refuses an alias bomb (aliases expanding to millions of nodes) here.
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    return err([configIssue(file, firstAliasLine(text), '', `cannot be read: ${(error as Error).message}`)]);
  }
  return validateConfigObject(value, file, (path) => lineOf(doc, lineCounter, path), defaults);
}

/** The line of the first alias (`*name`) in the text, where an alias bomb starts to be expanded. */
function firstAliasLine(text: string): number | undefined {
  const match = /(^|[\s[{,:-])\*[^\s,\]}]+/m.exec(text);
  return match === null ? undefined : text.slice(0, match.index + (match[1] ?? '').length).split('\n').length;
}

function lineOf(doc: Document, lineCounter: LineCounter, path: readonly (string | number)[]): number | undefined {
  // Walk down as far as the document goes: a missing key is reported at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth);
    const last = prefix[prefix.length - 1];
    if (depth > 0 && typeof last === 'string') {
      const parent = prefix.length === 1 ? doc.contents : doc.getIn(prefix.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isNode(p.key) && (p.key as { value?: unknown }).value === last);
        const start = isNode(pair?.key) ? pair.key.range?.[0] : undefined;
        if (start !== undefined) return lineCounter.linePos(start).line;
      }
      continue;
    }
    const node = depth === 0 ? doc.contents : doc.getIn(prefix, true);
    if (isNode(node) && node.range !== undefined && node.range !== null) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}
