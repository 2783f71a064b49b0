import { z } from 'zod';
import { IdSchema } from './common.ts';
import { PrioritySchema } from './job.ts';

/** Long-polls wait at most this long. */
export const MAX_WAIT_MS = 30_000;

export const ClaimSchema = z
  .object({ workerId: IdSchema, waitMs: z.number().int().min(0).max(MAX_WAIT_MS).default(0) })
  .meta({ id: 'ClaimRequest' });

export const CompleteSchema = z
  .object({
    jobId: IdSchema,
    leaseToken: z.string().min(1),
    result: z.unknown().optional(),
    /** Claim the worker's next job in the same commit; the answer carries it as `next`. */
    claimNext: z.boolean().default(false),
  })
  .meta({ id: 'CompleteRequest' });

export const FailSchema = z
  .object({
    jobId: IdSchema,
    leaseToken: z.string().min(1),
    reason: z.string().min(1).max(10_000),
    /** Retried after a backoff while retries last (default); `false` fails the job at once. */
    retryable: z.boolean().default(true),
  })
  .meta({ id: 'FailRequest' });

export const EnqueueSchema = z.object({ jobId: IdSchema }).meta({ id: 'EnqueueRequest' });

export const JobUpdateSchema = z
  .object({
    jobId: IdSchema,
    title: z.string().min(1).max(500).optional(),
    description: z.string().max(100_000).optional(),
    priority: PrioritySchema.optional(),
  })
  .meta({ id: 'JobUpdate' });
