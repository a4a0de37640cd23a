import { existsSync, readFileSync } from 'node:fs';
import { buildAgentAlert } from '../../src/core/agent-alerts.js';
import { buildAlert, type AnyAlert } from '../../src/core/build-alert.js';
import { BUILTIN_RULES, CUSTOS_RULES } from '../../src/core/builtin-rules.js';
import { CHECK_ALL } from '../../src/core/check-set.js';
import { diffFileStates } from '../../src/core/file-change.js';
import { UNKNOWN_VERDICT } from '../../src/core/known-hash-verdict.js';
import { fileState } from './file-states.js';

const agent = { id: '001', name: 'web1' };

/**
 * A realistic mix of alerts as the manager's sinks receive them: a modification (level 7) of a file whose name is
 * multi-byte UTF-8, an addition (level 5) of a non-UTF-8 path (escaped, with `path_bytes`), a known-bad match
 * (level 15) and an agent alert (level 12). Their full_log texts hold newlines.
 */
export function sampleAlerts(at = new Date('2026-11-27T19:00:00.000Z')): AnyAlert[] {
  const before = fileState({ path: Buffer.from('/etc/café/naïve.conf') });
  const after = fileState({ path: before.path, size: 181, mtimeNs: before.mtimeNs + 5n, hashes: { ...before.hashes, sha256: 'f'.repeat(64) } });
  const modified = diffFileStates(before, after, CHECK_ALL);
  const weird = Buffer.concat([Buffer.from('/tmp/x'), Buffer.from([0xff, 0x0a]), Buffer.from('y')]);
  const added = diffFileStates(undefined, fileState({ path: weird }), CHECK_ALL);
  if (modified === undefined || added === undefined) throw new Error('sample changes must differ');
  return [
    buildAlert({ id: `${at.getTime()}.1`, timestamp: at, agent, rule: BUILTIN_RULES.modified, change: modified, verdict: UNKNOWN_VERDICT }),
    buildAlert({ id: `${at.getTime()}.2`, timestamp: at, agent, rule: BUILTIN_RULES.added, change: added, verdict: UNKNOWN_VERDICT }),
    buildAlert({
      id: `${at.getTime()}.3`,
      timestamp: at,
      agent,
      rule: CUSTOS_RULES.knownBad,
      change: added,
      verdict: { verdict: 'known-bad', label: 'Mirai' },
    }),
    buildAgentAlert({
      id: `${at.getTime()}.4`,
      timestamp: at,
      agent,
      event: 'out-of-sync',
      details: { manager_digest: 'a'.repeat(64), agent_digest: 'b'.repeat(64) },
    }),
  ];
}

/**
 * The alerts in an alerts.json (JSON lines) that a running manager may be appending to: every complete line,
 * parsed; a last line without its newline is one the writer has not finished (a torn read), skipped until it is
 * whole. A complete line that does not parse is corruption, and throws: it is never skipped.
 */
export function readAlertsFile(path: string): AnyAlert[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as AnyAlert;
      } catch (error) {
        throw new Error(`${path}: line ${i + 1} is not JSON: ${line.slice(0, 120)}`, { cause: error });
      }
    });
}
