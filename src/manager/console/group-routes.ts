import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parseYamlConfig } from '../../core/config/yaml-config.js';
import { formatConfigIssue } from '../../core/custos-error.js';
import { NO_QUERY } from './api-views.js';
import { auditRequest, requireAdmin, type ConsoleContext } from './console-context.js';
import type { ConsoleOperations } from './console-operations.js';

// As enrollment and `custos manager group` accept them: no slash, no leading dot, so the file stays in shared/groups.
const GROUP_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const MAX_CONFIG_BYTES = 256 << 10;

/** One group's central configuration file, if it has one. */
function readGroupConfig(dataDir: string, group: string): { yaml: string; version: string } | undefined {
  try {
    const yaml = readFileSync(join(dataDir, 'shared', 'groups', `${group}.yml`), 'utf8');
    // The version the agents see (see centralConfigFor): the text's SHA-256.
    return { yaml, version: createHash('sha256').update(yaml).digest('hex') };
  } catch {
    return undefined;
  }
}

/** The groups that have a configuration file (DATA/shared/groups/NAME.yml). */
function groupsWithFiles(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, 'shared', 'groups'))
      .filter((f) => f.endsWith('.yml') && new RegExp(GROUP_NAME).test(f.slice(0, -4)))
      .map((f) => f.slice(0, -4));
  } catch {
    return [];
  }
}

/**
 * `GET /api/groups` (each group: its agents and its central configuration) and `POST /api/groups/:name/config`
 * (admin): the new text is checked with the parser agents apply it with, and refused with that parser's errors.
 */
export function groupRoutes(context: ConsoleContext, operations: ConsoleOperations | undefined) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/groups', NO_QUERY, async () => {
      const agents = (await context.store.listAgentInfos()).filter((a) => a.id !== '000');
      const names = new Set([...agents.flatMap((a) => (a.group === undefined ? [] : [a.group])), ...(operations ? groupsWithFiles(operations.dataDir) : [])]);
      return {
        editable: operations !== undefined,
        groups: [...names].sort().map((name) => {
          const config = operations === undefined ? undefined : readGroupConfig(operations.dataDir, name);
          return {
            name,
            agents: agents.filter((a) => a.group === name).map((a) => ({ id: a.id, name: a.name })),
            ...(config === undefined ? {} : { config }),
          };
        }),
      };
    });

    app.post<{ Params: { name: string }; Body: { yaml: string } }>(
      '/groups/:name/config',
      {
        bodyLimit: MAX_CONFIG_BYTES + 1024,
        schema: {
          params: { type: 'object', properties: { name: { type: 'string', pattern: GROUP_NAME } }, required: ['name'] },
          body: { type: 'object', required: ['yaml'], additionalProperties: false, properties: { yaml: { type: 'string', maxLength: MAX_CONFIG_BYTES } } },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        if (!(await requireAdmin(context, request, reply, 'edit-group-config', name))) return reply;
        if (operations === undefined) return reply.code(503).send({ error: 'this console runs without the manager: no configuration files here' });
        const file = `shared/groups/${name}.yml`;
        // The agent parses what it gets with parseYamlConfig (see agent-command's parseCentral): the same here.
        const parsed = parseYamlConfig(request.body.yaml, file, { dataDir: operations.dataDir, hostname: 'central' });
        if (!parsed.ok) {
          const issues = parsed.error.map(formatConfigIssue);
          await auditRequest(context, request, { action: 'edit-group-config', target: name, outcome: 'invalid', details: { issues } });
          return reply.code(400).send({ error: `the configuration is refused:\n${issues.join('\n')}`, issues });
        }
        const dir = join(operations.dataDir, 'shared', 'groups');
        mkdirSync(dir, { recursive: true, mode: 0o750 });
        // Written aside and renamed: an agent polling meanwhile reads the old text or the new, never half of one.
        const temp = join(dir, `.${name}.yml.${process.pid}.tmp`);
        writeFileSync(temp, request.body.yaml, { mode: 0o640 });
        renameSync(temp, join(dir, `${name}.yml`));
        const version = createHash('sha256').update(request.body.yaml).digest('hex');
        await auditRequest(context, request, { action: 'edit-group-config', target: name, outcome: 'ok', details: { version } });
        return { name, version, warnings: parsed.value.warnings.map(formatConfigIssue) };
      },
    );
  };
}
