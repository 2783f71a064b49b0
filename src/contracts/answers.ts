import { z } from 'zod';
import { JobSchema, JobStatusSchema } from './job.ts';
import { JournalRecordSchema } from './journal.ts';
import { AllocationSchema, QuotaSchema, UsageSchema } from './resources.ts';
import { ScopeSchema } from './scopes.ts';
import { DirectiveSchema, WorkerSchema, WorkerStatusSchema } from './worker.ts';

// The shapes commands answer: each command's `output` (OpenAPI's success schemas, the library's and the SDK's
// answer types, and what dispatch checks answers against in tests).

/**
 * A claim's lease: `token` is its secret (128 random bits; pass it as `leaseToken` to heartbeat, complete and
 * fail; never stored, only its digest), `fence` the monotonic fencing number (ordering only, not a credential),
 * and when it lapses without a heartbeat.
 */
export const LeaseSchema = z
  .object({
    token: z.string().describe("The lease's secret: send it as `leaseToken`."),
    fence: z.number().int().describe('The fencing number: grows with every claim of the workspace.'),
    expiresAt: z.number(),
  })
  .meta({ id: 'Lease' });

/** A worker's own credential: a bearer token bound to that worker, and when it lapses unless renewed. */
export const WorkerCredentialSchema = z
  .object({
    token: z.string().describe('Send as `Authorization: Bearer <token>`; it acts on this worker only.'),
    expiresAt: z.number().describe('Renewed by heartbeat answers before it lapses.'),
  })
  .meta({ id: 'WorkerCredential' });
/** A worker's own credential. */
export type WorkerCredential = z.infer<typeof WorkerCredentialSchema>;

/** Who holds a claimed job since when, and how often it was retried before. */
export const WorkOrderSchema = z.object({
  jobId: z.string(),
  workerId: z.string(),
  claimedAt: z.number(),
  retryCount: z.number(),
});

/** What registering a worker answers: the worker and its own credential. */
export const WorkerRegistrationSchema = WorkerSchema.extend({
  credential: WorkerCredentialSchema.describe(
    'A credential bound to this worker: it heartbeats, claims, completes and fails for this worker only.',
  ),
}).meta({ id: 'WorkerRegistration' });
/** What registering a worker answers. */
export type WorkerRegistration = z.infer<typeof WorkerRegistrationSchema>;

/** A phase or check token and when it lapses (ms since the epoch). */
export const IssuedTokenSchema = z
  .object({
    token: z.string().describe('Send as `Authorization: Bearer <token>`.'),
    expiresAt: z.number(),
  })
  .meta({ id: 'IssuedToken' });
/** A phase or check token and when it lapses. */
export type IssuedToken = z.infer<typeof IssuedTokenSchema>;

/** What a claim answers. */
export const ClaimAnswerSchema = z
  .object({
    job: JobSchema.nullable(),
    lease: LeaseSchema.exactOptional(),
    workOrder: WorkOrderSchema.exactOptional(),
    phaseToken: IssuedTokenSchema.exactOptional().describe(
      'For a job under a workflow: the token of its current phase (workflow.transition, state.snapshot, tokens.refresh).',
    ),
    checkToken: IssuedTokenSchema.exactOptional().describe(
      'For a job under a workflow: the check token a hook holds (state.snapshot, the tool check); it lapses with the lease.',
    ),
  })
  .meta({
    id: 'ClaimAnswer',
    description: 'The claimed job with its lease, or `{ job: null }` when none fits.',
  });
/** What a claim answers. */
export type ClaimAnswer = z.infer<typeof ClaimAnswerSchema>;

/** Counts by priority. */
export const PriorityCountsSchema = z
  .object({ high: z.number().int(), normal: z.number().int(), low: z.number().int() })
  .meta({ id: 'PriorityCounts' });

/** Jobs by status. */
export const JobCountsSchema = z
  .partialRecord(JobStatusSchema, z.number().int())
  .meta({ id: 'JobCounts', description: 'Jobs by status; statuses with none are left out.' });

/** Workers by status. */
export const WorkerCountsSchema = z
  .partialRecord(WorkerStatusSchema, z.number().int())
  .meta({ id: 'WorkerCounts', description: 'Workers by status; statuses with none are left out.' });

/**
 * What a heartbeat answers: what to do next, the extended lease's expiry (with a lease token), and, to a worker's
 * own credential past half its life, its renewal.
 */
export const HeartbeatAnswerSchema = z
  .object({
    directive: DirectiveSchema,
    leaseExpiresAt: z.number().nullable(),
    credential: WorkerCredentialSchema.exactOptional(),
    checkToken: IssuedTokenSchema.exactOptional().describe(
      'For a lease of a job under a workflow: a fresh check token, lapsing with the extended lease.',
    ),
  })
  .meta({ id: 'HeartbeatAnswer' });
/** What a heartbeat answers. */
export type HeartbeatAnswer = z.infer<typeof HeartbeatAnswerSchema>;

/** A page of jobs. */
export const JobPageSchema = z
  .object({ jobs: z.array(JobSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'JobPage', description: 'A page of jobs; pass `nextCursor` as `cursor` for the next one.' });

/** The jobs of one `jobs.submitMany`. */
export const JobBatchSchema = z.object({ jobs: z.array(JobSchema) }).meta({ id: 'JobBatch' });

/** Who a token is. */
export const WhoAmISchema = z
  .object({
    sub: z.string(),
    workspaceId: z.string(),
    scopes: z.array(ScopeSchema),
    workerId: z
      .string()
      .exactOptional()
      .describe("Set for a worker's own credential: the worker it is bound to."),
  })
  .meta({ id: 'WhoAmI', description: "The token's subject, scopes and the workspace its calls run in." });

/** What completing a job answers. */
export const CompleteAnswerSchema = z
  .object({ job: JobSchema, next: ClaimAnswerSchema.exactOptional() })
  .meta({ id: 'CompleteAnswer', description: 'The job; with `claimNext`, the next claim as `next`.' });
/** What completing a job answers. */
export type CompleteAnswer = z.infer<typeof CompleteAnswerSchema>;

/** Queue depth and job counts. */
export const QueueStatsSchema = z
  .object({ depth: PriorityCountsSchema, jobs: JobCountsSchema })
  .meta({ id: 'QueueStats' });

/** Quotas and pool sizes. */
export const QuotasSchema = z
  .object({
    depth: z.array(QuotaSchema),
    workspace: QuotaSchema,
    pools: z.record(z.string(), z.number().int()),
  })
  .meta({ id: 'Quotas', description: 'Quotas per depth (index 0–5) and per workspace, and pool sizes.' });

/** Resource usage. */
export const ResourceUsageSchema = z
  .object({
    byDepth: z.array(UsageSchema),
    workspace: UsageSchema,
    pools: z.record(z.string(), z.object({ size: z.number().int(), used: z.number().int() })),
    locks: z.record(z.string(), z.string()),
  })
  .meta({
    id: 'ResourceUsage',
    description: 'Usage per depth and per workspace, pools, and locks → holder.',
  });

/** What an allocation answers. */
export const AllocateAnswerSchema = z.object({ allocation: AllocationSchema }).meta({ id: 'AllocateAnswer' });

/** What a release answers. */
export const ReleaseAnswerSchema = z
  .object({ allocation: AllocationSchema.nullable() })
  .meta({ id: 'ReleaseAnswer' });

/** A page of workers. */
export const WorkerPageSchema = z
  .object({ workers: z.array(WorkerSchema), nextCursor: z.string().nullable() })
  .meta({
    id: 'WorkerPage',
    description: 'A page of workers; pass `nextCursor` as `cursor` for the next one.',
  });

/** The fleet's numbers. */
export const SupervisorMetricsSchema = z
  .object({
    workers: WorkerCountsSchema,
    jobs: JobCountsSchema,
    queueDepth: PriorityCountsSchema,
    resources: z.array(z.object({ depth: z.number().int() }).extend(UsageSchema.shape)),
    transitionsPerMinute: z.number().int(),
  })
  .meta({ id: 'SupervisorMetrics' });

/** A page of journal records. */
export const EventPageSchema = z
  .object({ events: z.array(JournalRecordSchema), nextCursor: z.number().int().nullable() })
  .meta({
    id: 'EventPage',
    description: 'Journal records; pass `nextCursor` as `afterSeq` for the next ones.',
  });
/** A page of journal records. */
export type EventPage = z.infer<typeof EventPageSchema>;
