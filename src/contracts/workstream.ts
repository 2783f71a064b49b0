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
