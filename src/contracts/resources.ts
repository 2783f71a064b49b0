import { z } from 'zod';
import { IdSchema } from './common.ts';
import { ResourceRequestSchema } from './job.ts';

/** Jobs nest 0–5 levels deep. */
export const MAX_DEPTH = 5;

/** Limits at one depth, or for a whole workspace. */
export const QuotaSchema = z
  .object({
    maxRunningJobs: z.number().int().min(0),
    maxWorkerSlots: z.number().int().min(0),
  })
  .meta({ id: 'Quota' });
export type Quota = z.infer<typeof QuotaSchema>;

const DEFAULT_DEPTH_QUOTA: Quota = { maxRunningJobs: 1000, maxWorkerSlots: 1000 };

/** Quotas per depth (index 0–5) and per workspace, and the sizes of counted pools. */
export const ResourceConfigSchema = z
  .object({
    depth: z
      .array(QuotaSchema)
      .length(MAX_DEPTH + 1)
      .default(Array.from({ length: MAX_DEPTH + 1 }, () => DEFAULT_DEPTH_QUOTA)),
    workspace: QuotaSchema.default({ maxRunningJobs: 10_000, maxWorkerSlots: 10_000 }),
    pools: z.record(z.string().min(1), z.number().int().min(1)).default({}),
  })
  .meta({ id: 'ResourceConfig' });
export type ResourceConfig = z.output<typeof ResourceConfigSchema>;

export const AllocateSchema = z
  .object({
    jobId: IdSchema,
    resources: z.array(ResourceRequestSchema).min(1).max(100),
    waitMs: z.number().int().min(0).max(30_000).optional(),
  })
  .meta({ id: 'AllocateRequest' });

export const ReleaseSchema = z
  .object({ jobId: IdSchema, resources: z.array(ResourceRequestSchema).min(1).max(100) })
  .meta({ id: 'ReleaseRequest' });

/** What a job holds. */
export const AllocationSchema = z
  .object({
    jobId: z.string(),
    depth: z.number(),
    /** Counts against its depth's (and workspace's) running-job quota. */
    running: z.boolean(),
    workerSlots: z.number(),
    locks: z.array(z.string()),
    pools: z.record(z.string(), z.number()),
  })
  .meta({ id: 'Allocation' });
export type Allocation = z.infer<typeof AllocationSchema>;

/** Usage of one depth or of a workspace. */
export const UsageSchema = z
  .object({ runningJobs: z.number(), workerSlots: z.number() })
  .meta({ id: 'Usage' });
export type Usage = z.infer<typeof UsageSchema>;
