import { isOverseerError, OverseerError, type ErrorCode } from '../../core/errors.ts';
import {
  JobSubmitSchema,
  JobType,
  type Job,
  type JobSubmit,
  type JobType as JobTypeT,
} from '../../contracts/job.ts';
import type { WorkstreamDefinition } from '../../contracts/task-definition.ts';
import type { Workstream, WorkstreamPlan } from '../../contracts/workstream.ts';
import { DagCycleError, plan, topologicalOrder, type DagNode } from '../../domain/dag.ts';
import type { WorkstreamInput, WorkstreamTask } from '../../machines/workstream.ts';
import type { Tx } from '../tx.ts';
import type { Viewable } from '../views.ts';
import { cancelTree, isFinalJob } from '../work/lifecycle.ts';
import { release, submitJob, type JobOrigin } from './jobs.ts';

const JOB_TYPES = new Set<string>(Object.values(JobType));
/** What a task's own fields may be refused for: its workflow, its workdir. */
const TASK_REFUSALS: ReadonlySet<ErrorCode> = new Set(['WORKFLOW_NOT_FOUND', 'VALIDATION_FAILED']);

/** The public shape of a workstream. */
export function workstreamView(s: Viewable<'workstream'>): Workstream {
  const c = s.context;
  return {
    id: c.id,
    workspaceId: c.workspaceId,
    definitionId: c.definitionId,
    name: c.name,
    status: s.value as Workstream['status'],
    tasks: c.tasks,
    lastError: c.lastError,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/**
 * Creates a workstream and all its jobs in one commit (READY), then starts it (EXECUTING) unless `start` is
 * false: until then its jobs stay SUBMITTED. A dependency cycle answers `DEPENDENCY_CYCLE` with the cycle.
 */
export function submitWorkstream(tx: Tx, definition: WorkstreamDefinition, start: boolean): Workstream {
  const nodes: DagNode[] = definition.tasks.map((t) => ({
    id: t.task_id,
    dependsOn: t.dependencies,
    estimateSeconds: t.execution?.estimated_seconds ?? t.execution?.timeout_seconds ?? 0,
  }));
  let order: string[];
  try {
    order = topologicalOrder(nodes);
  } catch (err) {
    if (err instanceof DagCycleError)
      throw new OverseerError('DEPENDENCY_CYCLE', `The tasks form a cycle: ${err.cycle.join(' → ')}.`, {
        cycle: err.cycle,
      });
    throw err;
  }
  const ids = tx.env.work.get(tx.ws).workstreamIds;
  const existing = ids.get(definition.workstream_id);
  if (existing !== undefined)
    throw new OverseerError(
      'ALREADY_EXISTS',
      `A workstream ${definition.workstream_id} exists already (${existing}); submit it under another workstream_id.`,
      { workstreamId: existing, definitionId: definition.workstream_id },
    );
  const id = tx.mint('wst');
  tx.onRevert(ids.add(definition.workstream_id, id));
  tx.create(
    'workstream',
    id,
    {
      id,
      workspaceId: tx.ws,
      definitionId: definition.workstream_id,
      name: definition.name,
      at: tx.now,
    } satisfies WorkstreamInput,
    {
      event: 'workstreams.submit',
    },
  );
  const byTask = new Map(definition.tasks.map((t) => [t.task_id, t]));
  const jobOf = new Map<string, string>();
  const tasks: WorkstreamTask[] = [];
  for (const taskId of order) {
    const t = byTask.get(taskId)!;
    const type: JobTypeT = JOB_TYPES.has(t.type) ? (t.type as JobTypeT) : 'other';
    const metadata: Record<string, unknown> = {
      ...(type !== t.type ? { taskType: t.type } : {}),
      ...(t.execution?.estimated_seconds !== undefined
        ? { estimatedSeconds: t.execution.estimated_seconds }
        : {}),
      ...(t.context_requirements !== undefined ? { contextRequirements: t.context_requirements } : {}),
      ...(t.validation_rules !== undefined ? { validationRules: t.validation_rules } : {}),
    };
    const spec = JobSubmitSchema.parse({
      title: t.name,
      ...(t.description !== undefined ? { description: t.description } : {}),
      type,
      ...(t.priority ? { priority: t.priority } : {}),
      dependsOn: t.dependencies.map((dep) => jobOf.get(dep)!),
      capabilities: t.worker_requirements?.capabilities ?? [],
      execution: {
        ...(t.execution?.command !== undefined ? { command: t.execution.command } : {}),
        ...(t.execution?.timeout_seconds !== undefined
          ? { timeoutSeconds: t.execution.timeout_seconds }
          : {}),
        maxRetries: t.execution?.max_retries ?? 3,
        ...(t.execution?.workdir !== undefined ? { workdir: t.execution.workdir } : {}),
      },
      ...(t.workflow !== undefined ? { workflow: t.workflow } : {}),
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
      hold: true,
    });
    const job = submitTask(tx, spec, { taskId, workstreamId: id });
    jobOf.set(taskId, job.id);
    tasks.push({
      taskId,
      jobId: job.id,
      dependsOn: t.dependencies,
      estimateSeconds: nodes.find((n) => n.id === taskId)!.estimateSeconds,
    });
  }
  tx.send([{ kind: 'workstream', id, event: { type: 'JOBS_CREATED', at: tx.now, tasks } }]);
  if (start) startWorkstream(tx, id);
  return workstreamView(tx.get('workstream', id));
}

/** Submits a task's job; a workflow or workdir it may not have is refused naming the task. */
function submitTask(tx: Tx, spec: JobSubmit, origin: JobOrigin): Job {
  try {
    return submitJob(tx, spec, origin);
  } catch (err) {
    if (!isOverseerError(err) || !TASK_REFUSALS.has(err.code)) throw err;
    throw new OverseerError(err.code, `Task ${origin.taskId}: ${err.message}`, {
      ...err.details,
      taskId: origin.taskId,
    });
  }
}

/** Starts a READY workstream: its held jobs are released to PENDING/QUEUED. */
export function startWorkstream(tx: Tx, id: string): Workstream {
  tx.send([{ kind: 'workstream', id, event: { type: 'START', at: tx.now } }]);
  const { tasks } = tx.get('workstream', id).context;
  // A job that ended while the workstream was READY (canceled, say) fails it now; as when a job fails while it
  // is EXECUTING, the other jobs still run (its dependents were BLOCKED when it ended).
  const ended = tasks.find(
    (t) => isFinalJob(tx.get('job', t.jobId).value) && tx.get('job', t.jobId).value !== 'COMPLETED',
  );
  if (ended) {
    const status = String(tx.get('job', ended.jobId).value);
    tx.send([
      {
        kind: 'workstream',
        id,
        event: { type: 'JOB_FAILED', at: tx.now, reason: `job ${ended.jobId} is ${status}` },
      },
    ]);
  }
  for (const { jobId } of tasks) {
    if (tx.get('job', jobId).value === 'SUBMITTED') release(tx, jobId);
  }
  if (!ended && tasks.every((t) => tx.get('job', t.jobId).value === 'COMPLETED')) {
    tx.send([{ kind: 'workstream', id, event: { type: 'ALL_COMPLETED', at: tx.now } }]);
  }
  return workstreamView(tx.get('workstream', id));
}

/** Cancels a workstream and every non-final job of it. */
export function cancelWorkstream(tx: Tx, id: string, reason?: string): Workstream {
  tx.send([{ kind: 'workstream', id, event: { type: 'CANCEL', at: tx.now, ...(reason ? { reason } : {}) } }]);
  // Dependents first (reverse topological order), so none is BLOCKED by a dependency canceled before it.
  for (const { jobId } of [...tx.get('workstream', id).context.tasks].reverse()) {
    if (!isFinalJob(tx.get('job', jobId).value)) cancelTree(tx, jobId, reason ?? `workstream ${id} canceled`);
  }
  return workstreamView(tx.get('workstream', id));
}

/** The topological order, the parallel stages and the critical path (estimates: estimated_seconds, else timeout_seconds). */
export function planOf(view: Workstream): WorkstreamPlan {
  const jobOf = new Map(view.tasks.map((t) => [t.taskId, t.jobId]));
  const ref = (taskId: string) => ({ taskId, jobId: jobOf.get(taskId)! });
  const p = plan(
    view.tasks.map((t) => ({ id: t.taskId, dependsOn: t.dependsOn, estimateSeconds: t.estimateSeconds })),
  );
  return {
    order: p.order.map(ref),
    stages: p.stages.map((stage) => stage.map(ref)),
    criticalPath: { tasks: p.criticalPath.path.map(ref), estimateSeconds: p.criticalPath.estimateSeconds },
  };
}
