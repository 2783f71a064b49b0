import { z } from 'zod';
import { IdSchema, MetadataSchema } from './common.ts';

export const SessionStatus = { ACTIVE: 'ACTIVE', IDLE: 'IDLE', TERMINATED: 'TERMINATED' } as const;
export type SessionStatus = (typeof SessionStatus)[keyof typeof SessionStatus];
export const SessionStatusSchema = z.enum(SessionStatus).meta({ id: 'SessionStatus' });

export const SessionOpenSchema = z
  .object({
    workerId: IdSchema,
    jobId: IdSchema.optional(),
    externalId: z.string().min(1).max(256).optional(),
    metadata: MetadataSchema.optional(),
  })
  .meta({ id: 'SessionOpen' });
export type SessionOpenInput = z.input<typeof SessionOpenSchema>;

export const SessionSchema = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    status: SessionStatusSchema,
    workerId: z.string(),
    jobId: z.string().nullable(),
    externalId: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    lastActivityAt: z.number(),
    endedReason: z.string().nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Session' });
export type Session = z.infer<typeof SessionSchema>;
