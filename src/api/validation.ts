import type { z } from 'zod';
import { OverseerError } from '../core/errors.ts';
import { WorkspaceIdSchema } from '../contracts/common.ts';

/** Payloads nest at most this deep (deeper ones would overflow the encoder's stack). */
export const MAX_JSON_DEPTH = 256;

/** The path of the first value nested deeper than `max`, or null (iterative: never overflows itself). */
function tooDeep(value: unknown, max: number): string | null {
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 0, path: '' }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return path || '(root)';
    for (const [k, child] of Object.entries(v))
      stack.push({ v: child, depth: depth + 1, path: path ? `${path}.${k}` : k });
  }
  return null;
}

/** Parses a payload with its contract schema, or answers `VALIDATION_FAILED` naming the offending paths. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const deep = tooDeep(value, MAX_JSON_DEPTH);
  if (deep !== null) {
    throw new OverseerError(
      'VALIDATION_FAILED',
      `The payload nests deeper than ${MAX_JSON_DEPTH} levels at ${deep}.`,
      {
        issues: [{ path: deep, message: `nested deeper than ${MAX_JSON_DEPTH} levels` }],
      },
    );
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: issueMessage(i) }));
  throw new OverseerError(
    'VALIDATION_FAILED',
    `Invalid ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}.`,
    { issues },
  );
}

/** One issue's own text; a payload that is not an object at all says so instead of naming a missing field. */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.path.length === 0 && issue.code === 'invalid_type' && issue.expected === 'object')
    return 'the payload must be a JSON object';
  return issue.message;
}

/** Checks a workspace id (it becomes an LMDB key prefix and a NATS subject token). */
export function parseWorkspaceId(value: unknown): string {
  const result = WorkspaceIdSchema.safeParse(value);
  if (result.success) return result.data;
  throw new OverseerError('VALIDATION_FAILED', 'Workspace ids match ^[a-z0-9][a-z0-9_-]{0,62}$.', {
    issues: [{ path: 'workspaceId', message: result.error.issues[0]?.message ?? 'invalid' }],
  });
}
