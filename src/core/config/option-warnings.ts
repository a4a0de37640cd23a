import type { ConfigIssue } from '../custos-error.js';
import type { LocateKey } from './custos-config.js';

/** The parts of the validated file shape that can carry options not yet in effect. */
interface WarnableConfig {
  readonly syscheck: {
    readonly directories?: readonly { readonly report_changes: boolean }[] | undefined;
    readonly nodiff: readonly unknown[];
  };
}

/**
 * Options that parse but have no effect (here, or in this version): each is named in a warning with its line, so a setting
 * is never silently dropped. Works on the validated file shape, so keys and indexes are those of the file.
 */
export function optionWarnings(data: WarnableConfig, file: string, locate: LocateKey): readonly ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  const warn = (path: readonly (string | number)[], key: string, message: string): void => {
    const line = locate(path);
    warnings.push(line === undefined ? { file, key, message } : { file, line, key, message });
  };
  const s = data.syscheck;
  // nodiff narrows report_changes: without any directory reporting changes it has nothing to narrow.
  if (s.nodiff.length > 0 && !(s.directories ?? []).some((d) => d.report_changes)) {
    warn(['syscheck', 'nodiff'], 'syscheck.nodiff', 'nodiff has no effect: no directory sets report_changes');
  }
  return warnings;
}
