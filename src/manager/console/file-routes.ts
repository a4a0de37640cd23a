import type { FastifyInstance } from 'fastify';
import type { FileState } from '../../core/file-state.js';
import { displayPath } from '../../core/path-bytes.js';
import { permissionString } from '../../core/permission-string.js';
import { isoFromNs } from '../../core/time-ns.js';
import type { FileHistoryEntry } from '../../storage/console-queries.js';
import { pathFromB64, pathView } from './api-views.js';
import { auditRequest, identityOf, requireAdmin, type ConsoleContext } from './console-context.js';

const AGENT = { type: 'string', pattern: '^[0-9]{3,10}$' } as const;
const PATH_B64 = { type: 'string', minLength: 1, maxLength: 6000 } as const;

/** A file state as a person reads it: octal and `rwx` mode, ISO times, display paths. */
export function stateView(state: FileState): Record<string, unknown> {
  return {
    type: state.type,
    size: state.size,
    mode: state.mode.toString(8).padStart(4, '0'),
    perm: permissionString(state.mode),
    uid: state.uid,
    gid: state.gid,
    ...(state.uname === undefined ? {} : { uname: state.uname }),
    ...(state.gname === undefined ? {} : { gname: state.gname }),
    mtime: isoFromNs(state.mtimeNs),
    inode: state.inode,
    links: state.nlink,
    ...(state.linkTarget === undefined ? {} : { linkTarget: displayPath(state.linkTarget) }),
    ...state.hashes,
    ...(state.inodeAttributes === undefined ? {} : { attributes: state.inodeAttributes }),
    ...(state.issues.length === 0 ? {} : { issues: state.issues }),
  };
}

function historyView(entry: FileHistoryEntry): Record<string, unknown> {
  const { record } = entry;
  const change = record.change;
  return {
    eventId: entry.eventId,
    ts: record.timestamp,
    event: change.kind,
    changed: change.changedAttributes,
    ...(change.kind === 'added' ? {} : { before: stateView(change.before) }),
    ...(change.kind === 'deleted' ? {} : { after: stateView(change.after) }),
    verdict: record.verdict,
    ...(record.rule === undefined ? {} : { rule: { id: record.rule.id, level: record.rule.level, description: record.rule.description } }),
    outcome: record.outcome,
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    ...(record.alertId === undefined ? {} : { alertId: record.alertId }),
    ...(entry.ack === undefined
      ? {}
      : { ack: { by: entry.ack.ackedBy, at: entry.ack.ackedAt, ...(entry.ack.note === undefined ? {} : { note: entry.ack.note }) } }),
  };
}

/** `GET /api/files` (one file's state and history on one agent), `POST /api/files/accept` (admin). */
export function fileRoutes(context: ConsoleContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { agent: string; pathB64: string; limit: number; before?: number } }>(
      '/files',
      {
        schema: {
          querystring: {
            type: 'object',
            required: ['agent', 'pathB64'],
            additionalProperties: false,
            properties: {
              agent: AGENT,
              pathB64: PATH_B64,
              limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
              before: { type: 'integer', minimum: 1 },
            },
          },
        },
      },
      async (request, reply) => {
        const { agent: agentId, limit, before } = request.query;
        const path = pathFromB64(request.query.pathB64);
        if (path === undefined) return reply.code(400).send({ error: 'pathB64 must be the base64 of an absolute path' });
        const agent = await context.store.getAgent(agentId);
        if (agent === undefined) return reply.code(404).send({ error: `no agent ${agentId}` });
        const [current, history, open] = await Promise.all([
          context.store.getBaselineState(agentId, path),
          context.queries.fileHistory(agentId, path, limit, before),
          context.queries.openAlertIdsFor(agentId, path),
        ]);
        const last = history.at(-1);
        return {
          agent: { id: agent.id, name: agent.name },
          ...pathView(path),
          ...(current === undefined ? {} : { current: stateView(current) }),
          openAlerts: open,
          history: history.map(historyView),
          ...(history.length === limit && last !== undefined ? { next: last.eventId } : {}),
        };
      },
    );

    app.post<{ Body: { agent: string; pathB64: string } }>(
      '/files/accept',
      {
        bodyLimit: 16 << 10,
        schema: { body: { type: 'object', required: ['agent', 'pathB64'], additionalProperties: false, properties: { agent: AGENT, pathB64: PATH_B64 } } },
      },
      async (request, reply) => {
        const { agent } = request.body;
        const path = pathFromB64(request.body.pathB64);
        if (path === undefined) return reply.code(400).send({ error: 'pathB64 must be the base64 of an absolute path' });
        const target = `${agent}:${displayPath(path)}`;
        if (!(await requireAdmin(context, request, reply, 'accept-baseline', target))) return reply;
        // The manager's baseline already holds what the agent last reported (every change advances it); accepting
        // is the review of that state: its open alerts are closed, by whom and when, and the audit log says so.
        const current = await context.store.getBaselineState(agent, path);
        const ids = await context.queries.openAlertIdsFor(agent, path);
        const acked = await context.repository.ackAlerts(ids, identityOf(request).user, context.now().toISOString(), 'accepted as baseline');
        await auditRequest(context, request, {
          action: 'accept-baseline',
          target,
          outcome: 'ok',
          details: {
            acknowledged: acked.length,
            ...(current?.hashes.sha256 === undefined ? {} : { sha256: current.hashes.sha256 }),
            ...(current === undefined ? { state: 'absent' } : {}),
          },
        });
        return { accepted: true, acknowledged: acked, ...(current === undefined ? {} : { current: stateView(current) }) };
      },
    );
  };
}
