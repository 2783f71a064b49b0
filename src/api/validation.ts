import type { z } from 'zod';
import { OverseerError } from '../core/errors.ts';
import { WorkspaceIdSchema } from '../contracts/common.ts';

/** Parses a payload with its contract schema, or answers `VALIDATION_FAILED` naming the offending paths. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const paths = issues.map((i) => i.path || '(root)');
  throw new OverseerError(
    'VALIDATION_FAILED',
    `Invalid ${paths.join(', ')}: ${issues[0]?.message ?? 'invalid'}.`,
    { issues },
  );
}

/** Checks a workspace id (it becomes an LMDB key prefix and a NATS subject token). */
export function parseWorkspaceId(value: unknown): string {
  const result = WorkspaceIdSchema.safeParse(value);
  if (result.success) return result.data;
  throw new OverseerError('VALIDATION_FAILED', 'Workspace ids match ^[a-z0-9][a-z0-9_-]{0,62}$.', {
    issues: [{ path: 'workspaceId', message: result.error.issues[0]?.message ?? 'invalid' }],
  });
}
