import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CHECK_OPTIONS } from '../check-set.js';
import type { ConfigIssue } from '../custos-error.js';
import { err, ok, type Result } from '../result.js';
import { configIssue, dotted, validateConfigObject } from './config-schema.js';
import type { ConfigDefaults, LoadedConfig } from './custos-config.js';

const WRAP_OPEN = '<custos-root>';
const META: symbol = XMLParser.getMetaDataSymbol() as unknown as symbol;

/** `<syscheck>` children Custos reads, and how each maps onto the `custos.yml` shape. */
const SCALAR_OPTIONS = [
  'frequency',
  'scan_time',
  'scan_day',
  'scan_on_start',
  'alert_new_files',
  'skip_nfs',
  'skip_dev',
  'skip_proc',
  'skip_sys',
] as const;

const DIRECTORY_ATTRIBUTES = new Set<string>([
  ...CHECK_OPTIONS,
  'realtime',
  'report_changes',
  'restrict',
  'recursion_level',
  'follow_symbolic_link',
  'tags',
  'no_recurse',
]);

type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

interface Collected {
  readonly object: Record<string, unknown>;
  readonly lines: Map<string, number>;
  readonly warnings: ConfigIssue[];
}

/**
 * Reads the FIM settings of an OSSEC `ossec.conf` (its `<syscheck>` blocks, across any number of
 * `<ossec_config>` roots) into the same model as `custos.yml`, so OSSEC users bring their configuration unchanged.
 * Malformed XML and invalid values are errors with their line; tags and attributes Custos does not support are
 * warnings naming them, never silently dropped.
 */
export function parseOssecConfig(
  text: string,
  file: string,
  defaults: ConfigDefaults,
): Result<LoadedConfig, readonly ConfigIssue[]> {
  // Blank out the XML declaration instead of removing it, so offsets (and lines) stay those of the file.
  const body = text.replace(/^\s*<\?xml[^>]*\?>/, (decl) => ' '.repeat(decl.length));
  const wrapped = `${WRAP_OPEN}${body}</custos-root>`;
  const valid = XMLValidator.validate(wrapped);
  if (valid !== true) return err([configIssue(file, valid.err.line, '', `malformed XML: ${valid.err.msg}`)]);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    textNodeName: '#text',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    preserveOrder: true,
    captureMetaData: true,
  });
  const tree = parser.parse(wrapped) as XmlNode[];
  const lineOf = lineIndex(wrapped);
  const collected: Collected = { object: {}, lines: new Map(), warnings: [] };
  for (const rootNode of childrenOf(tree[0], 'custos-root')) {
    const rootName = tagOf(rootNode);
    if (rootName !== 'ossec_config') {
      if (rootName !== undefined) collected.warnings.push(configIssue(file, lineOf(rootNode), rootName, `unexpected root element <${rootName}>, ignored`));
      continue;
    }
    for (const section of childrenOf(rootNode, 'ossec_config')) {
      const name = tagOf(section);
      if (name === undefined) continue;
      if (name === 'syscheck') readSyscheck(section, collected, file, lineOf);
      else collected.warnings.push(configIssue(file, lineOf(section), name, `section <${name}> is not used by Custos, ignored`));
    }
  }
  const result = validateConfigObject(collected.object, file, (path) => locate(collected.lines, path), defaults);
  if (!result.ok) return result;
  return ok({ config: result.value.config, warnings: [...collected.warnings, ...result.value.warnings] });
}

function readSyscheck(section: XmlNode, c: Collected, file: string, lineOf: (n: XmlNode) => number | undefined): void {
  const syscheck = (c.object.syscheck ??= {}) as Record<string, unknown>;
  if (!c.lines.has('syscheck')) c.lines.set('syscheck', lineOf(section) ?? 0);
  for (const child of childrenOf(section, 'syscheck')) {
    const name = tagOf(child);
    if (name === undefined) continue;
    const attrs = child[':@'] ?? {};
    const value = textOf(child, name);
    const line = lineOf(child);
    if (name === 'directories') {
      const list = (syscheck.directories ??= []) as unknown[];
      if (list.length === 0) c.lines.set('syscheck.directories', line ?? 0);
      const key = `syscheck.directories[${list.length}]`;
      const entry: Record<string, unknown> = { path: value.split(',').map((p) => p.trim()).filter((p) => p !== '') };
      for (const [attr, attrValue] of Object.entries(attrs)) {
        if (!DIRECTORY_ATTRIBUTES.has(attr)) {
          c.warnings.push(configIssue(file, line, `${key}.${attr}`, `unsupported <directories> attribute "${attr}", ignored`));
        } else if (attr === 'no_recurse') {
          if (attrValue === 'yes') entry.recursion_level = 0;
        } else if (attr === 'recursion_level') {
          entry.recursion_level = /^\d+$/.test(attrValue) ? Number(attrValue) : attrValue;
        } else if (attr === 'tags') {
          entry.tags = attrValue.split(',').map((t) => t.trim()).filter((t) => t !== '');
        } else {
          entry[attr] = attrValue;
        }
        c.lines.set(`${key}.${attr === 'no_recurse' ? 'recursion_level' : attr}`, line ?? 0);
      }
      c.lines.set(key, line ?? 0);
      c.lines.set(`${key}.path`, line ?? 0);
      list.push(entry);
    } else if (name === 'ignore' || name === 'nodiff') {
      const list = (syscheck[name] ??= []) as unknown[];
      if (list.length === 0) c.lines.set(`syscheck.${name}`, line ?? 0);
      c.lines.set(`syscheck.${name}[${list.length}]`, line ?? 0);
      for (const attr of Object.keys(attrs)) {
        if (attr !== 'type') c.warnings.push(configIssue(file, line, `syscheck.${name}`, `unsupported attribute "${attr}", ignored`));
      }
      list.push(attrs.type === 'sregex' ? { sregex: value } : value);
    } else if (name === 'auto_ignore') {
      const entry: Record<string, unknown> = { enabled: value };
      if (attrs.frequency !== undefined) entry.frequency = /^\d+$/.test(attrs.frequency) ? Number(attrs.frequency) : attrs.frequency;
      if (attrs.timeframe !== undefined) entry.timeframe = attrs.timeframe;
      syscheck.auto_ignore = entry;
      for (const k of ['auto_ignore', 'auto_ignore.enabled', 'auto_ignore.frequency', 'auto_ignore.timeframe']) c.lines.set(`syscheck.${k}`, line ?? 0);
    } else if ((SCALAR_OPTIONS as readonly string[]).includes(name)) {
      syscheck[name] = value;
      c.lines.set(`syscheck.${name}`, line ?? 0);
    } else {
      c.warnings.push(configIssue(file, line, `syscheck.${name}`, `unsupported <syscheck> option <${name}>, ignored`));
    }
  }
}

function locate(lines: ReadonlyMap<string, number>, path: readonly (string | number)[]): number | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const line = lines.get(dotted(path.slice(0, depth)));
    if (line !== undefined && line > 0) return line;
  }
  return undefined;
}

function tagOf(node: XmlNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  return Object.keys(node).find((k) => k !== ':@' && k !== '#text');
}

function childrenOf(node: XmlNode | undefined, tag: string): XmlNode[] {
  const children = node?.[tag];
  return Array.isArray(children) ? (children as XmlNode[]).filter((c) => tagOf(c) !== undefined) : [];
}

function textOf(node: XmlNode, tag: string): string {
  const children = node[tag];
  if (!Array.isArray(children)) return '';
  return (children as XmlNode[])
    .map((c) => (typeof c['#text'] === 'string' || typeof c['#text'] === 'number' ? String(c['#text']) : ''))
    .join('')
    .trim();
}

function lineIndex(text: string): (node: XmlNode) => number | undefined {
  const starts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (node) => {
    const meta = (node as Record<symbol, { startIndex?: number } | undefined>)[META];
    const index = meta?.startIndex;
    if (index === undefined) return undefined;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}
