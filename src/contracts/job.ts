import { z } from 'zod';
import { MetadataSchema, IdSchema } from './common.ts';
import { WorkflowIdSchema, WorkflowRefSchema } from './workflow-registry.ts';
import { PhaseViewSchema } from './phase-view.ts';

export const JobStatus = {
  SUBMITTED: 'SUBMITTED',
  PENDING: 'PENDING',
  QUEUED: 'QUEUED',
  RUNNING: 'RUNNING',
  RETRY_WAIT: 'RETRY_WAIT',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELED: 'CANCELED',
  BLOCKED: 'BLOCKED',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];
export const JobStatusSchema = z.enum(JobStatus).meta({ id: 'JobStatus' });
export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELED', 'BLOCKED'];

export const Priority = { HIGH: 'high', NORMAL: 'normal', LOW: 'low' } as const;
export type Priority = (typeof Priority)[keyof typeof Priority];
export const PrioritySchema = z.enum(Priority).meta({ id: 'Priority' });

export const JobType = {
  FEATURE: 'feature',
  BUGFIX: 'bugfix',
  TEST: 'test',
  DOCS: 'docs',
  /** A review spawned by a workflow's `spawn_reviews` trigger. */
  REVIEW: 'review',
  OTHER: 'other',
} as const;
export type JobType = (typeof JobType)[keyof typeof JobType];
export const JobTypeSchema = z.enum(JobType).meta({ id: 'JobType' });

export const ResourceRequestSchema = z
  .object({ name: z.string().min(1).max(256), count: z.number().int().min(1).max(1_000_000).optional() })
  .meta({ id: 'ResourceRequest' });
export type ResourceRequest = z.infer<typeof ResourceRequestSchema>;

/** An absolute path (POSIX, or a Windows drive path), without NUL bytes. */
export const WorkdirSchema = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => /^(\/|[A-Za-z]:[\\/])/.test(p), { message: 'a workdir is an absolute path' })
  .refine((p) => !p.includes('\0'), { message: 'a workdir has no NUL byte' });

export const ExecutionSchema = z
  .object({
    command: z.string().max(16_384).optional(),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .optional(),
    maxRetries: z.number().int().min(0).max(100).default(3),
    /**
     * The job's working tree on the node (absolute). It must lie under the node's `workflow.workdirRoots`; a job
     * under a workflow may name one only when roots are configured.
     */
    workdir: WorkdirSchema.optional(),
  })
  .meta({ id: 'Execution' });

/** What a caller may say about a new job. Server-owned fields are not part of it and are stripped. */
export const JobSubmitSchema = z
  .object({
    title: z.string().min(1).max(500),
    description: z.string().max(100_000).optional(),
    type: JobTypeSchema.default('other'),
    priority: PrioritySchema.default('normal'),
    repositoryUrl: z.string().max(2048).optional(),
    branchName: z.string().max(512).optional(),
    parentJobId: IdSchema.optional(),
    dependsOn: z.array(IdSchema).max(1000).default([]),
    capabilities: z.array(z.string().min(1).max(128)).max(100).default([]),
    resources: z.array(ResourceRequestSchema).max(100).default([]),
    workerCount: z.number().int().min(1).max(1000).default(1),
    execution: ExecutionSchema.default({ maxRetries: 3 }),
    leaseSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600)
      .default(30),
    failParentOnFailure: z.boolean().default(true),
    metadata: MetadataSchema.optional(),
    hold: z.boolean().default(false),
    /**
     * The workflow the job follows: `<name>` (its newest version) or `<name>@<version>`, resolved at submit to a
     * registered version that the job keeps (WORKFLOW_NOT_FOUND when none is).
     */
    workflow: WorkflowRefSchema.optional(),
  })
  .meta({ id: 'JobSubmit' });
export type JobSubmitInput = z.input<typeof JobSubmitSchema>;
export type JobSubmit = z.output<typeof JobSubmitSchema>;

export const JobSchema = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    status: JobStatusSchema,
    title: z.string(),
    description: z.string().optional(),
    type: JobTypeSchema,
    priority: PrioritySchema,
    repositoryUrl: z.string().optional(),
    branchName: z.string().optional(),
    parentJobId: z.string().nullable(),
    dependsOn: z.array(z.string()),
    capabilities: z.array(z.string()),
    resources: z.array(ResourceRequestSchema),
    workerCount: z.number(),
    execution: ExecutionSchema,
    leaseSeconds: z.number(),
    failParentOnFailure: z.boolean(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    depth: z.number(),
    /** The task and workstream of a job created from a workstream definition. */
    taskId: z.string().nullable(),
    workstreamId: z.string().nullable(),
    /** The workflow version the job follows (resolved at submit, never changed), or null. */
    workflow: WorkflowIdSchema.nullable(),
    /** `jobs.get` of a job under a workflow only: where it stands in its workflow (null until its first claim). */
    phase: PhaseViewSchema.nullable().exactOptional(),
    retryCount: z.number(),
    workerId: z.string().nullable(),
    leaseExpiresAt: z.number().nullable(),
    lastError: z.string().nullable(),
    result: z.unknown().optional(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof JobSchema>;

export const JobListSchema = z
  .object({
    status: JobStatusSchema.optional(),
    priority: PrioritySchema.optional(),
    parentJobId: IdSchema.optional(),
    workstreamId: IdSchema.optional(),
    type: JobTypeSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: IdSchema.optional(),
  })
  // An unknown filter is refused rather than silently ignored (it would list every job).
  .strict()
  .meta({ id: 'JobListQuery' });
export type JobListQuery = z.input<typeof JobListSchema>;
