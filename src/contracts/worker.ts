import { z } from 'zod';
import { IdSchema, MetadataSchema } from './common.ts';

export const WorkerStatus = {
  IDLE: 'IDLE',
  RUNNING: 'RUNNING',
  WAITING: 'WAITING',
  PAUSED: 'PAUSED',
  FAILED: 'FAILED',
  RETRYING: 'RETRYING',
  OFFLINE: 'OFFLINE',
  COMPLETED: 'COMPLETED',
  TERMINATED: 'TERMINATED',
} as const;
export type WorkerStatus = (typeof WorkerStatus)[keyof typeof WorkerStatus];
export const WorkerStatusSchema = z.enum(WorkerStatus).meta({ id: 'WorkerStatus' });
export const FINAL_WORKER_STATUSES: readonly WorkerStatus[] = ['COMPLETED', 'TERMINATED'];

/**
 * Worker ids as they may stand in a NATS subject token and a config string: `wrk_` and 1 to 64 letters or digits.
 * The ids the runtime mints (`wrk_` and 26 Crockford base-32 digits, see core/ids.ts) all match.
 */
export const WORKER_ID_PATTERN = /^wrk_[0-9A-Za-z]{1,64}$/;

/** What an agent learns from its heartbeat. */
export const Directive = {
  CONTINUE: 'continue',
  PAUSE: 'pause',
  RESUME: 'resume',
  CANCEL: 'cancel',
  TERMINATE: 'terminate',
} as const;
export type Directive = (typeof Directive)[keyof typeof Directive];
export const DirectiveSchema = z.enum(Directive).meta({ id: 'Directive' });

export const WorkerRegisterSchema = z
  .object({
    name: z.string().min(1).max(256),
    capabilities: z.array(z.string().min(1).max(128)).max(100).default([]),
    metadata: MetadataSchema.optional(),
  })
  .meta({ id: 'WorkerRegister' });
export type WorkerRegisterInput = z.input<typeof WorkerRegisterSchema>;

export const WorkerSchema = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    status: WorkerStatusSchema,
    name: z.string(),
    capabilities: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()).optional(),
    jobId: z.string().nullable(),
    draining: z.boolean(),
    lastHeartbeatAt: z.number(),
    lastError: z.string().nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Worker' });
export type Worker = z.infer<typeof WorkerSchema>;

export const WorkerListSchema = z
  .object({
    status: WorkerStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: IdSchema.optional(),
  })
  .strict()
  .meta({ id: 'WorkerListQuery' });
export type WorkerListQuery = z.input<typeof WorkerListSchema>;

export const HeartbeatSchema = z
  .object({ leaseToken: z.string().min(1).optional() })
  .meta({ id: 'Heartbeat' });
export const CrashReportSchema = z
  .object({ reason: z.string().min(1).max(10_000) })
  .meta({ id: 'CrashReport' });
