import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { err, ok, type Result } from './result.js';

/** One element of an XML tree in document order (fast-xml-parser's `preserveOrder` shape). */
export type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

/** A parsed document: its synthetic root's children, and the line each element starts on. */
export interface XmlTree {
  readonly roots: readonly XmlNode[];
  readonly lineOf: (node: XmlNode) => number | undefined;
}

const ROOT = 'xml-tree-root';
const META: symbol = XMLParser.getMetaDataSymbol() as unknown as symbol;

/**
 * Parses XML that may have several top-level elements (OSSEC's ossec.conf has several `<ossec_config>`), keeping
 * element order, attributes, text and line numbers. Tag values stay strings: `0644` keeps its zero.
 */
export function parseXmlTree(text: string): Result<XmlTree, { readonly line: number; readonly message: string }> {
  // The declaration is blanked rather than removed, so offsets (and lines) stay those of the file.
  // No DTDs: OSSEC's files never need one, and entities are how XXE and billion-laughs files attack a parser.
  const doctype = /<!DOCTYPE|<!ENTITY/i.exec(text);
  if (doctype !== null) return err({ line: text.slice(0, doctype.index).split('\n').length, message: 'DOCTYPE and ENTITY declarations are not allowed' });
  const body = text.replace(/^\s*<\?xml[^>]*\?>/, (decl) => ' '.repeat(decl.length));
  const wrapped = `<${ROOT}>${body}</${ROOT}>`;
  const valid = XMLValidator.validate(wrapped);
  if (valid !== true) return err({ line: valid.err.line, message: `malformed XML: ${valid.err.msg}` });
  const parsed = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    textNodeName: '#text',
    commentPropName: '#comment',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    preserveOrder: true,
    captureMetaData: true,
  }).parse(wrapped) as XmlNode[];
  const starts: number[] = [0];
  for (let i = 0; i < wrapped.length; i++) if (wrapped.charCodeAt(i) === 10) starts.push(i + 1);
  const lineOf = (node: XmlNode): number | undefined => {
    const index = (node as Record<symbol, { startIndex?: number } | undefined>)[META]?.startIndex;
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
  return ok({ roots: childrenOf(parsed[0], ROOT), lineOf });
}

/** The element name of a node (not its attributes, text or comments). */
export function tagOf(node: XmlNode | undefined): string | undefined {
  return node === undefined ? undefined : Object.keys(node).find((k) => k !== ':@' && k !== '#text' && k !== '#comment');
}

/** The child elements of a node whose tag is `tag`. */
export function childrenOf(node: XmlNode | undefined, tag: string): XmlNode[] {
  const list = node?.[tag];
  return Array.isArray(list) ? (list as XmlNode[]).filter((c) => tagOf(c) !== undefined) : [];
}

/** The text content of a node, trimmed. */
export function textOf(node: XmlNode, tag: string): string {
  const list = node[tag];
  if (!Array.isArray(list)) return '';
  return (list as XmlNode[])
    .map((c) => {
      const t = c['#text'];
      return typeof t === 'string' || typeof t === 'number' || typeof t === 'boolean' ? String(t) : '';
    })
    .join('')
    .trim();
}
