import type { ConfigIssue } from '../custos-error.js';
import type { CustosConfig } from './custos-config.js';

/**
 * Options that parse but have no effect in this version: each is named in a warning, so a setting is never
 * silently dropped.
 */
export function optionWarnings(config: CustosConfig, file: string): readonly ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  const warn = (key: string, message: string): void => {
    warnings.push({ file, key, message });
  };
  config.syscheck.directories.forEach((d, i) => {
    if (d.reportChanges) warn(`syscheck.directories[${i}].report_changes`, 'content diffs are not supported yet; changes are reported without a diff');
  });
  if (config.syscheck.nodiff.length > 0) warn('syscheck.nodiff', 'content diffs are not supported yet, so nodiff has no effect');
  if (config.syscheck.autoIgnore.enabled) {
    warn('syscheck.auto_ignore', 'auto_ignore is not supported yet; every change keeps alerting');
  }
  return warnings;
}
