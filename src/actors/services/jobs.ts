import { sep } from 'node:path';
import { OverseerError } from '../../core/errors.ts';
import type { Job, JobStatus, JobSubmit, Priority } from '../../contracts/job.ts';
import { MAX_DEPTH } from '../../contracts/resources.ts';
import { findWaitCycle } from '../../domain/wait-for.ts';
import { workdirProblem } from '../../domain/workflow/workdir-policy.ts';
import type { JobInput, ReviewOf } from '../../machines/job.ts';
import type { Tx } from '../tx.ts';
import { jobView } from '../views.ts';
import { workdirFacts } from '../workdir-facts.ts';
import { cancelTree, dequeue, enqueue, isFinalJob, transitionJob } from '../work/lifecycle.ts';
import { PRIORITY_RANK } from '../work/queue-index.ts';
import { resolveWorkflow } from './workflows.ts';

const BLOCKING: readonly JobStatus[] = ['FAILED', 'CANCELED', 'BLOCKED'];

/** Where a job created from a workstream comes from. */
export interface JobOrigin {
  taskId: string;
  workstreamId: string;
}

/**
 * Creates a job under its parent (depth + 1, at most 5) with its dependencies linked, then releases it to
 * PENDING or QUEUED unless it is held. A dependency already FAILED, CANCELED or BLOCKED blocks it at once. A
 * `workflow` is resolved to the version the job keeps (`WORKFLOW_NOT_FOUND`), and a workdir must lie under the
 * node's roots (`VALIDATION_FAILED`), before anything changes. `review` marks a workflow's review job (the node's
 * own submits only).
 */
export function submitJob(tx: Tx, input: JobSubmit, origin?: JobOrigin, review?: ReviewOf): Job {
  const { hold, workflow: ref, ...spec } = input;
  const workdir = spec.execution.workdir;
  if (workdir !== undefined) checkWorkdir(tx, workdir, ref !== undefined);
  const workflow = ref === undefined ? null : resolveWorkflow(tx, ref);
  let depth = 0;
  let ancestors: string[] = [];
  if (spec.parentJobId !== undefined) {
    const parent = tx.get('job', spec.parentJobId);
    if (isFinalJob(parent.value)) {
      throw new OverseerError(
        'INVALID_STATE_TRANSITION',
        `The parent job ${spec.parentJobId} is ${String(parent.value)}; it takes no children.`,
        {
          kind: 'job',
          id: spec.parentJobId,
          state: parent.value,
          event: 'CHILD_ADDED',
        },
      );
    }
    const pc = parent.context;
    depth = pc.depth + 1;
    if (depth > MAX_DEPTH)
      throw new OverseerError('MAX_DEPTH_EXCEEDED', undefined, {
        parentJobId: spec.parentJobId,
        depth,
        maxDepth: MAX_DEPTH,
      });
    ancestors = [spec.parentJobId, ...pc.ancestors];
  }
  const dependsOn = [...new Set(spec.dependsOn)];
  const deps = dependsOn.map((id) => ({ id, status: tx.get('job', id).value }));
  if (ancestors.length > 0 && dependsOn.length > 0) refuseWaitOnAncestor(tx, dependsOn, ancestors);
  const id = tx.mint('job');
  const jobInput: JobInput = {
    id,
    workspaceId: tx.ws,
    spec: { ...spec, dependsOn },
    depth,
    ancestors,
    ...(origin ? { taskId: origin.taskId, workstreamId: origin.workstreamId } : {}),
    workflow,
    ...(review ? { review } : {}),
    at: tx.now,
  };
  tx.create('job', id, jobInput, { event: 'jobs.submit' });
  if (spec.parentJobId !== undefined)
    tx.send([{ kind: 'job', id: spec.parentJobId, event: { type: 'CHILD_ADDED', at: tx.now, childId: id } }]);
  for (const d of deps) {
    if (!isFinalJob(d.status))
      tx.send([{ kind: 'job', id: d.id, event: { type: 'DEPENDENT_ADDED', at: tx.now, dependentId: id } }]);
  }
  const failed = deps.find((d) => BLOCKING.includes(d.status));
  if (failed) {
    transitionJob(tx, id, {
      type: 'DEPENDENCY_FAILED',
      at: tx.now,
      reason: `dependency ${failed.id} is ${failed.status}`,
    });
  } else if (!hold) {
    release(tx, id);
  }
  return jobView(tx.get('job', id));
}

/** Refuses a workdir outside the node's roots (`VALIDATION_FAILED`, naming `execution.workdir`). */
function checkWorkdir(tx: Tx, workdir: string, workflowJob: boolean): void {
  const problem = workdirProblem({
    workdir,
    facts: workdirFacts(workdir),
    roots: tx.env.settings.workdirRoots,
    workflowJob,
    sep,
  });
  if (problem !== null)
    throw new OverseerError('VALIDATION_FAILED', `Invalid execution.workdir: ${problem}.`, {
      issues: [{ path: 'execution.workdir', message: problem }],
    });
}

/**
 * A job completes only after its descendants are final, so a descendant that waits (directly or through other
 * dependencies) for an ancestor to be COMPLETED would wait forever, and its ancestor with it: `DEPENDENCY_CYCLE`,
 * with the path from the new job's dependency to that ancestor. In the wait-for graph each non-final job waits
 * for its dependencies, and each ancestor for the new job; final jobs wait for nothing.
 */
function refuseWaitOnAncestor(tx: Tx, dependsOn: readonly string[], ancestors: readonly string[]): void {
  const NEW_JOB = '(new job)';
  const isAncestor = new Set(ancestors);
  const cycle = findWaitCycle(NEW_JOB, (id) => {
    if (id === NEW_JOB) return dependsOn;
    const job = tx.get('job', id);
    const edges = isAncestor.has(id) ? [NEW_JOB] : [];
    if (!isFinalJob(job.value)) edges.push(...job.context.spec.dependsOn);
    return edges;
  });
  if (cycle) {
    const path = cycle.slice(1, -1);
    const ancestor = path[path.length - 1]!;
    throw new OverseerError(
      'DEPENDENCY_CYCLE',
      `The job would wait for its ancestor ${ancestor}, which completes only after its descendants.`,
      { ancestor, path, cycle },
    );
  }
}

/** Releases a SUBMITTED job: PENDING while a dependency is unmet, else QUEUED (and into the queue). */
export function releaseJob(tx: Tx, jobId: string): Job {
  release(tx, jobId);
  return jobView(tx.get('job', jobId));
}

/** `releaseJob` without building the answer (submits build theirs once, at the end). */
export function release(tx: Tx, jobId: string): void {
  const c = tx.get('job', jobId).context;
  let unmet = 0;
  for (const id of c.spec.dependsOn) if (tx.get('job', id).value !== 'COMPLETED') unmet++;
  transitionJob(tx, jobId, { type: 'ENQUEUE', at: tx.now, unmetDependencies: unmet });
}

/** Cancels a non-final job and every non-final descendant. */
export function cancelJob(tx: Tx, jobId: string, reason?: string): Job {
  const job = tx.get('job', jobId);
  if (isFinalJob(job.value)) {
    throw new OverseerError(
      'INVALID_STATE_TRANSITION',
      `The job ${jobId} is ${String(job.value)}; it cannot be canceled.`,
      {
        kind: 'job',
        id: jobId,
        state: job.value,
        event: 'CANCEL',
      },
    );
  }
  cancelTree(tx, jobId, reason ?? 'canceled');
  return jobView(tx.get('job', jobId));
}

/** Edits a job that is not yet RUNNING (title, description, priority); a queued job moves to its new lane. */
export function updateJob(
  tx: Tx,
  jobId: string,
  patch: { title?: string | undefined; description?: string | undefined; priority?: Priority | undefined },
): Job {
  const clean = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const before = tx.get('job', jobId);
  tx.send([{ kind: 'job', id: jobId, event: { type: 'UPDATE', at: tx.now, patch: clean } }]);
  if (before.value === 'QUEUED' && clean['priority'] !== undefined) {
    // The job goes to the back of the lane of its (new) priority.
    dequeue(tx, jobId, PRIORITY_RANK[before.context.spec.priority]);
    enqueue(tx, jobId, false);
  }
  return jobView(tx.get('job', jobId));
}
