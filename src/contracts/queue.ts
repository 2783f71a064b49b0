import { z } from 'zod';
import { IdSchema } from './common.ts';
import { PrioritySchema } from './job.ts';

/** Long-polls wait at most this long. */
export const MAX_WAIT_MS = 30_000;

export const ClaimSchema = z
  .object({
    workerId: IdSchema,
    waitMs: z.number().int().min(0).max(MAX_WAIT_MS).default(0),
    /**
     * Claim only jobs these capabilities cover: a subset of the worker's registered ones (else
     * VALIDATION_FAILED); default all of them.
     */
    capabilities: z.array(z.string().min(1).max(128)).max(100).optional(),
  })
  .meta({ id: 'ClaimRequest' });

/** The seed's claim (`POST /api/v1/tasks/claim`): `queue.claim` with the worker id as `agentId`. */
export const TaskClaimSchema = z
  .object({
    /** The worker id: the caller's own worker (else 403 NOT_YOUR_WORKER). */
    agentId: IdSchema,
    waitMs: ClaimSchema.shape.waitMs,
    capabilities: ClaimSchema.shape.capabilities,
  })
  .strict()
  .meta({ id: 'TaskClaimRequest' });

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
