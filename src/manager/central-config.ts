import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The FIM configuration the manager serves an agent, like OSSEC's agent.conf: the first of
 * `DATA/shared/<agent name>.yml`, `DATA/shared/groups/<group>.yml` and `DATA/shared/default.yml` that exists, else
 * nothing (the agent keeps its local configuration). The version is the text's SHA-256, so an agent can tell when
 * it changed. Names and groups were validated at enrollment (no slashes, no leading dot), so they stay in `shared`.
 */
export function centralConfigFor(dataDir: string, agentName: string, group?: string): { yaml: string; version: string; source: string } | undefined {
  const candidates = [`${agentName}.yml`, ...(group === undefined ? [] : [join('groups', `${group}.yml`)]), 'default.yml'];
  for (const name of candidates) {
    try {
      const yaml = readFileSync(join(dataDir, 'shared', name), 'utf8');
      return { yaml, version: createHash('sha256').update(yaml).digest('hex'), source: name };
    } catch {
      // next candidate
    }
  }
  return undefined;
}
