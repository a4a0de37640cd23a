import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';

/**
 * Route schemas are the wire's own zod schemas (src/protocol): Fastify validates a request's params and body, and
 * checks a JSON reply, with the very decoder the agent uses, so there is one definition of the wire and no second,
 * looser JSON Schema copy to drift from it (`z.toJSONSchema` derives one for documentation when wanted). A body
 * that fails is a validation error (400, coded `MALFORMED_INPUT`); a reply that fails is a bug here (500).
 */
export function useZodSchemas(app: FastifyInstance): void {
  app.setValidatorCompiler(({ schema }) => {
    const zodSchema = schema as unknown as z.ZodType;
    return (data: unknown) => {
      const parsed = zodSchema.safeParse(data);
      return parsed.success ? { value: parsed.data } : { error: new Error(describeIssues(parsed.error.issues)) };
    };
  });
  app.setSerializerCompiler(({ schema, url, method }) => {
    const zodSchema = schema as unknown as z.ZodType;
    return (data: unknown) => {
      const checked = zodSchema.safeParse(data);
      if (!checked.success) throw new Error(`reply of ${method} ${url} breaks its schema: ${describeIssues(checked.error.issues)}`);
      return JSON.stringify(checked.data);
    };
  });
}

/** The first few issues: a 32 MB body with a bad field in every observation must not make a 32 MB reply. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map(describeIssue).join('; ');
  return issues.length > 3 ? `${shown}; and ${issues.length - 3} more` : shown;
}

/** `observations.3.p: expected base64`, short enough for a log line and a 400 reply. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join('.');
  return where === '' ? issue.message : `${where}: ${issue.message}`;
}
