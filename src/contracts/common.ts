import { z } from 'zod';

/** Workspace ids become NATS subject tokens and LMDB key prefixes (DESIGN §1). */
export const WorkspaceIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'workspace ids match ^[a-z0-9][a-z0-9_-]{0,62}$')
  .meta({ id: 'WorkspaceId' });

/** Free JSON metadata, at most 64 KiB serialized. */
export const MetadataSchema = z
  .record(z.string(), z.unknown())
  .refine((m) => JSON.stringify(m).length <= 64 * 1024, { message: 'metadata is at most 64 KiB serialized' })
  .meta({ id: 'Metadata' });

/** An id of an object addressed by a command. */
export const IdSchema = z.string().min(1).max(128);

/** Options of every list call. */
export const ListOptionsSchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: IdSchema.optional(),
  })
  .meta({ id: 'ListOptions' });
export type ListOptions = z.input<typeof ListOptionsSchema>;

/** Options of every state-changing call. */
export interface CommandOptions {
  /** Scoped by workspace, command and caller (the principal's `sub`): a replay returns the first answer. */
  idempotencyKey?: string;
}

export const IdempotencyKeySchema = z.string().min(1).max(255);
