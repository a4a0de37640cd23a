import type { FastifyReply } from 'fastify';
import { z } from 'zod';

/**
 * Every refusal's body: what was wrong, a stable code (`MALFORMED_INPUT`, `UNAUTHENTICATED`, `FORBIDDEN`,
 * `CONFLICT`, `NOT_FOUND`, `REFUSED`, `INTERNAL`), and on the batch route the sequence the manager holds.
 */
export const ErrorReply = z.object({ error: z.string(), code: z.string(), ack: z.number().int().min(0).optional() }).strict();

/**
 * The one shape of a 400 for input that does not decode: `{ error: "malformed <what>: <why>", code:
 * "MALFORMED_INPUT" }` plus any fields the route's answer always carries (a batch's `ack`).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- any route's reply, whatever its schema's status codes */
export function replyMalformed(reply: FastifyReply<any>, what: string, why: string | undefined, extra: Record<string, unknown> = {}): FastifyReply<any> {
  return reply.code(400).send({ error: why === undefined ? `malformed ${what}` : `malformed ${what}: ${why}`, code: 'MALFORMED_INPUT', ...extra });
}
/* eslint-enable @typescript-eslint/no-explicit-any */
