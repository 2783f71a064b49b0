import { z } from 'zod';

export const WorkstreamStatus = {
  PLANNED: 'PLANNED',
  READY: 'READY',
  EXECUTING: 'EXECUTING',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELED: 'CANCELED',
} as const;
export type WorkstreamStatus = (typeof WorkstreamStatus)[keyof typeof WorkstreamStatus];
export const WorkstreamStatusSchema = z.enum(WorkstreamStatus).meta({ id: 'WorkstreamStatus' });

/** A workstream: a DAG of jobs created together from a definition. */
export const WorkstreamSchema = z
  .object({
    id: z.string(),
    workspaceId: z.string(),
    definitionId: z.string(),
    name: z.string(),
    status: WorkstreamStatusSchema,
    tasks: z.array(
      z.object({
        taskId: z.string(),
        jobId: z.string(),
        dependsOn: z.array(z.string()),
        estimateSeconds: z.number(),
      }),
    ),
    lastError: z.string().nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Workstream' });
export type Workstream = z.infer<typeof WorkstreamSchema>;

/** Filters of `workstreams.list`. */
export const WorkstreamListSchema = z
  .object({
    status: WorkstreamStatusSchema.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().min(1).max(128).optional(),
  })
  .strict()
  .meta({ id: 'WorkstreamListQuery' });
export type WorkstreamListQuery = z.input<typeof WorkstreamListSchema>;

/** A page of workstreams. */
export const WorkstreamPageSchema = z
  .object({ workstreams: z.array(WorkstreamSchema), nextCursor: z.string().nullable() })
  .meta({
    id: 'WorkstreamPage',
    description: 'A page of workstreams; pass `nextCursor` as `cursor` for the next one.',
  });

/** The plan of a workstream: topological order, parallel stages, and the critical path with its estimate. */
export const WorkstreamPlanSchema = z
  .object({
    order: z.array(z.object({ taskId: z.string(), jobId: z.string() })),
    stages: z.array(z.array(z.object({ taskId: z.string(), jobId: z.string() }))),
    criticalPath: z.object({
      tasks: z.array(z.object({ taskId: z.string(), jobId: z.string() })),
      estimateSeconds: z.number(),
    }),
  })
  .meta({ id: 'WorkstreamPlan' });
export type WorkstreamPlan = z.infer<typeof WorkstreamPlanSchema>;
