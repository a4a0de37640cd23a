import { CHECK_OPTIONS } from '../check-set.js';
import { configIssue, type ConfigIssue } from '../custos-error.js';
import { err, ok, type Result } from '../result.js';
import { childrenOf, parseXmlTree, tagOf, textOf, type XmlNode } from '../xml-tree.js';
import { dotted, validateConfigObject } from './config-schema.js';
import type { Collected } from './ossec-collected.js';
import { readEmailSection } from './ossec-email-config.js';
import type { ConfigDefaults, LoadedConfig } from './custos-config.js';
import { SCAN_THROTTLE_OSSEC_TAGS } from './scan-throttle-config.js';

/** `<syscheck>` children Custos reads, and how each maps onto the `custos.yml` shape. */
const SCALAR_OPTIONS = [
  'disabled',
  'frequency',
  'scan_time',
  'scan_day',
  'scan_on_start',
  'alert_new_files',
  'skip_nfs',
  'skip_dev',
  'skip_proc',
  'skip_sys',
  ...SCAN_THROTTLE_OSSEC_TAGS,
] as const;

const DIRECTORY_ATTRIBUTES = new Set<string>([
  ...CHECK_OPTIONS,
  'realtime',
  'report_changes',
  'diff_size_limit',
  'restrict',
  'recursion_level',
  'follow_symbolic_link',
  'tags',
  'no_recurse',
]);

/**
 * Reads the FIM settings of an OSSEC `ossec.conf` (its `<syscheck>` blocks, across any number of
 * `<ossec_config>` roots), its rule files and its email settings (`<global>`, `<alerts>`, `<email_alerts>`) into
 * the same model as `custos.yml`, so OSSEC users bring their configuration unchanged.
 * Malformed XML and invalid values are errors with their line; tags and attributes Custos does not support are
 * warnings naming them, never silently dropped.
 */
export function parseOssecConfig(text: string, file: string, defaults: ConfigDefaults): Result<LoadedConfig, readonly ConfigIssue[]> {
  const parsed = parseXmlTree(text);
  if (!parsed.ok) return err([configIssue(file, parsed.error.line, '', parsed.error.message)]);
  const { roots, lineOf } = parsed.value;
  const collected: Collected = { object: {}, lines: new Map(), warnings: [] };
  for (const rootNode of roots) {
    const rootName = tagOf(rootNode);
    if (rootName !== 'ossec_config') {
      if (rootName !== undefined) collected.warnings.push(configIssue(file, lineOf(rootNode), rootName, `unexpected root element <${rootName}>, ignored`));
      continue;
    }
    for (const section of childrenOf(rootNode, 'ossec_config')) {
      const name = tagOf(section);
      if (name === undefined) continue;
      if (name === 'syscheck') readSyscheck(section, collected, file, lineOf);
      else if (name === 'rules' || name === 'ruleset') readRules(section, name, collected, file, lineOf, defaults.ossecRoot);
      else if (name === 'global' || name === 'alerts' || name === 'email_alerts') readEmailSection(section, name, collected, file, lineOf);
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
    if (name === 'windows_registry' || name === 'registry_ignore') {
      c.warnings.push(configIssue(file, line, `syscheck.${name}`, `Windows registry key "${value}" skipped: there is no registry on Linux`));
    } else if (name === 'directories') {
      const list = (syscheck.directories ??= []) as unknown[];
      if (list.length === 0) c.lines.set('syscheck.directories', line ?? 0);
      const key = `syscheck.directories[${list.length}]`;
      const paths = value
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      const linuxPaths = paths.filter((p) => !skippedWindowsPath(p, file, line, `${key}.path`, c));
      if (paths.length > 0 && linuxPaths.length === 0) continue;
      const entry: Record<string, unknown> = { path: linuxPaths };
      for (const [attr, attrValue] of Object.entries(attrs)) {
        if (!DIRECTORY_ATTRIBUTES.has(attr)) {
          c.warnings.push(configIssue(file, line, `${key}.${attr}`, `unsupported <directories> attribute "${attr}", ignored`));
        } else if (attr === 'no_recurse') {
          if (attrValue === 'yes') entry.recursion_level = 0;
        } else if (attr === 'recursion_level') {
          entry.recursion_level = /^\d+$/.test(attrValue) ? Number(attrValue) : attrValue;
        } else if (attr === 'tags') {
          entry.tags = attrValue
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== '');
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
      if (attrs.type !== 'sregex' && skippedWindowsPath(value, file, line, `syscheck.${name}`, c)) continue;
      list.push(attrs.type === 'sregex' ? { sregex: value } : value);
    } else if (name === 'diff') {
      readDiff(child, c, file, lineOf);
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

/**
 * Wazuh's `<diff>` block: `<disk_quota>` and `<file_size>` (each `<enabled>` and `<limit>`), and `<nodiff>`
 * entries, which join `<syscheck><nodiff>`.
 */
function readDiff(section: XmlNode, c: Collected, file: string, lineOf: (n: XmlNode) => number | undefined): void {
  const syscheck = c.object.syscheck as Record<string, unknown>;
  const diff = (syscheck.diff ??= {}) as Record<string, unknown>;
  c.lines.set('syscheck.diff', lineOf(section) ?? 0);
  for (const child of childrenOf(section, 'diff')) {
    const name = tagOf(child);
    if (name === undefined) continue;
    const line = lineOf(child) ?? 0;
    if (name === 'disk_quota' || name === 'file_size') {
      const block: Record<string, string> = {};
      for (const part of childrenOf(child, name)) {
        const partName = tagOf(part);
        if (partName === 'enabled' || partName === 'limit') block[partName] = textOf(part, partName);
        else if (partName !== undefined)
          c.warnings.push(configIssue(file, lineOf(part), `syscheck.diff.${name}.${partName}`, `unsupported option <${partName}>, ignored`));
      }
      diff[name] = block;
      for (const k of ['', '.enabled', '.limit']) c.lines.set(`syscheck.diff.${name}${k}`, line);
    } else if (name === 'nodiff') {
      const list = (syscheck.nodiff ??= []) as unknown[];
      c.lines.set(`syscheck.nodiff[${list.length}]`, line);
      const attrs = child[':@'] ?? {};
      const value = textOf(child, name);
      list.push(attrs.type === 'sregex' ? { sregex: value } : value);
    } else {
      c.warnings.push(configIssue(file, line, `syscheck.diff.${name}`, `unsupported <diff> option <${name}>, ignored`));
    }
  }
}

/**
 * `<rules>` (OSSEC) or `<ruleset>` (Wazuh): the rule files to load, found where each product finds them. The
 * install's root is the directory above the configuration's `etc/` (`/var/ossec/etc/ossec.conf`: `/var/ossec`):
 * OSSEC's `<include>` names a file in `<root>/rules/` (or beside the configuration), Wazuh's `<rule_dir>`,
 * `<rule_include>` and `<rule_exclude>` are relative to the root. The root can be given instead (`givenRoot`,
 * `--ossec-root`), for a configuration kept elsewhere. Lists are read when a rule names them; decoders are not
 * needed for FIM events.
 */
function readRules(section: XmlNode, tag: string, c: Collected, file: string, lineOf: (n: XmlNode) => number | undefined, givenRoot?: string): void {
  const rules = (c.object.rules ??= { files: [], directories: [], exclude: [] }) as { files: string[]; directories: string[]; exclude: string[] };
  const root = givenRoot ?? installRoot(file);
  const fromRoot = (path: string): string => (path.startsWith('/') || root === undefined ? path : `${root}/${path}`);
  for (const child of childrenOf(section, tag)) {
    const name = tagOf(child);
    const value = textOf(child, name ?? '');
    if (name === 'include') {
      c.lines.set(`rules.files[${rules.files.length}]`, lineOf(child) ?? 0);
      // With the install named (--ossec-root), OSSEC's own place for it: <root>/rules/NAME.
      rules.files.push(givenRoot === undefined || value.startsWith('/') ? value : `${givenRoot}/rules/${value}`);
    } else if (name === 'rule_include') {
      c.lines.set(`rules.files[${rules.files.length}]`, lineOf(child) ?? 0);
      rules.files.push(fromRoot(value));
    } else if (name === 'rule_dir') {
      c.lines.set(`rules.directories[${rules.directories.length}]`, lineOf(child) ?? 0);
      rules.directories.push(fromRoot(value));
    } else if (name === 'rule_exclude') {
      c.lines.set(`rules.exclude[${rules.exclude.length}]`, lineOf(child) ?? 0);
      rules.exclude.push(value.slice(value.lastIndexOf('/') + 1));
    } else if (name === 'decoder_dir' || name === 'decoder_include' || name === 'decoder_exclude' || name === 'decoder' || name === 'list') {
      // FIM events need no decoders; lists are read when a rule names them.
    } else if (name !== undefined) {
      c.warnings.push(configIssue(file, lineOf(child), `${tag}.${name}`, `<${name}> is not used by Custos, ignored`));
    }
  }
}

/** The install directory of an `<root>/etc/ossec.conf`, or undefined when the configuration is elsewhere. */
function installRoot(file: string): string | undefined {
  const parts = file.split('/');
  if (parts.length < 3 || parts[parts.length - 2] !== 'etc') return undefined;
  const root = parts.slice(0, -2).join('/');
  return root === '' ? '/' : root;
}

/**
 * A Windows path (`C:\\Windows`, `%WINDIR%\\win.ini`) in a Linux configuration: real configurations shared
 * between platforms carry them, so each is a warning and skipped, never a reason to refuse the whole file.
 */
function skippedWindowsPath(path: string, file: string, line: number | undefined, key: string, c: Collected): boolean {
  if (!/^(?:[A-Za-z]:[\\/]|%[A-Za-z_]+%|\\\\)/.test(path)) return false;
  c.warnings.push(configIssue(file, line, key, `Windows path "${path}" skipped: it cannot exist on Linux`));
  return true;
}

function locate(lines: ReadonlyMap<string, number>, path: readonly (string | number)[]): number | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const line = lines.get(dotted(path.slice(0, depth)));
    if (line !== undefined && line > 0) return line;
  }
  return undefined;
}
