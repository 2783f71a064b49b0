/**
 * Task definitions v2: the workstream files users write (snake_case, as in the files). The runtime turns each
 * task into a job; `type` values outside feature|bugfix|test|docs|review|other become 'other' there, not here.
 */
import { z } from 'zod';
import { IdSchema } from './common.ts';
import { PrioritySchema, WorkdirSchema } from './job.ts';
import { WorkflowRefSchema } from './workflow-registry.ts';

/** The only schema version this contract accepts. */
export const TASK_DEFINITION_SCHEMA_VERSION = '2.0.0';

const V1_MESSAGE =
  'the task definitions v1 format (no schema_version) is not supported yet: ' +
  'add "schema_version": "2.0.0" and use the v2 fields';

/** How a task runs; mirrors the job's Execution, in snake_case. */
export const TaskExecutionSchema = z
  .object({
    command: z.string().max(16_384).optional(),
    timeout_seconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .optional(),
    max_retries: z.number().int().min(0).max(100).default(3),
    estimated_seconds: z.number().positive().finite().optional(),
    /** The task's working tree on the node (see the job's `execution.workdir`). */
    workdir: WorkdirSchema.optional(),
  })
  .meta({ id: 'TaskExecution' });
export type TaskExecutionInput = z.input<typeof TaskExecutionSchema>;
export type TaskExecution = z.output<typeof TaskExecutionSchema>;

/** What a worker must offer to run the task. */
export const WorkerRequirementsSchema = z
  .object({ capabilities: z.array(z.string().min(1).max(128)).max(100).default([]) })
  .meta({ id: 'WorkerRequirements' });

/** One task of a workstream. `dependencies` name other `task_id`s of the same workstream. */
export const TaskDefinitionSchema = z
  .object({
    task_id: IdSchema,
    name: z.string().min(1).max(500),
    description: z.string().max(100_000).optional(),
    /** Free text; the runtime maps unknown values to the job type 'other'. */
    type: z.string().min(1).max(128),
    priority: PrioritySchema.optional(),
    dependencies: z.array(IdSchema).max(1000).default([]),
    worker_requirements: WorkerRequirementsSchema.optional(),
    execution: TaskExecutionSchema.optional(),
    /** The workflow the task's job follows: `<name>` or `<name>@<version>` (see the job's `workflow`). */
    workflow: WorkflowRefSchema.optional(),
    /** Opaque JSON object or array, kept as written. */
    context_requirements: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
    /** Opaque JSON, kept as written. */
    validation_rules: z.unknown().optional(),
  })
  .meta({ id: 'TaskDefinition' });
export type TaskDefinitionInput = z.input<typeof TaskDefinitionSchema>;
export type TaskDefinition = z.output<typeof TaskDefinitionSchema>;

/**
 * A workstream definition, schema v2. Task ids are unique within it and every dependency names one of its
 * tasks; cycles are not checked here (the runtime reports DEPENDENCY_CYCLE).
 */
export const WorkstreamDefinitionSchema = z
  .object({
    schema_version: z.literal(TASK_DEFINITION_SCHEMA_VERSION, {
      error: (issue) =>
        issue.input === undefined
          ? V1_MESSAGE
          : `schema_version must be "${TASK_DEFINITION_SCHEMA_VERSION}" (the only version supported)`,
    }),
    workstream_id: IdSchema,
    name: z.string().min(1).max(500),
    description: z.string().max(100_000).optional(),
    tasks: z.array(TaskDefinitionSchema).min(1).max(1000),
  })
  .superRefine((def, ctx) => {
    const seen = new Set<string>();
    def.tasks.forEach((task, i) => {
      if (seen.has(task.task_id))
        ctx.addIssue({
          code: 'custom',
          path: ['tasks', i, 'task_id'],
          message: `duplicate task_id "${task.task_id}"`,
        });
      seen.add(task.task_id);
    });
    def.tasks.forEach((task, i) => {
      task.dependencies.forEach((dep, j) => {
        if (!seen.has(dep))
          ctx.addIssue({
            code: 'custom',
            path: ['tasks', i, 'dependencies', j],
            message: `task "${task.task_id}" depends on "${dep}", which is not a task_id of this workstream`,
          });
      });
    });
  })
  .meta({ id: 'WorkstreamDefinition' });
export type WorkstreamDefinitionInput = z.input<typeof WorkstreamDefinitionSchema>;
export type WorkstreamDefinition = z.output<typeof WorkstreamDefinitionSchema>;
