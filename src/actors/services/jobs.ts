import { OverseerError } from '../../core/errors.ts';
import { FINAL_JOB_STATUSES, type Job, type JobStatus, type JobSubmit } from '../../contracts/job.ts';
import type { JobContext, JobInput } from '../../machines/job.ts';
import type { Tx } from '../tx.ts';
import { jobView } from '../views.ts';

/** Jobs nest at most this many levels below a root job (depth 0–5). */
export const MAX_DEPTH = 5;

const BLOCKING: readonly JobStatus[] = ['FAILED', 'CANCELED', 'BLOCKED'];

/** Creates a job, then releases it to PENDING/QUEUED unless it is held. */
export function submitJob(tx: Tx, input: JobSubmit): Job {
  const { hold, ...spec } = input;
  let depth = 0;
  if (spec.parentJobId !== undefined) {
    const parent = tx.get('job', spec.parentJobId);
    depth = (parent.context as JobContext).depth + 1;
    if (depth > MAX_DEPTH) {
      throw new OverseerError('MAX_DEPTH_EXCEEDED', undefined, {
        parentJobId: spec.parentJobId,
        depth,
        maxDepth: MAX_DEPTH,
      });
    }
  }
  const deps = [...new Set(spec.dependsOn)].map((id) => ({
    id,
    status: tx.get('job', id).value as JobStatus,
  }));
  const id = tx.mint('job');
  tx.create(
    'job',
    id,
    {
      id,
      workspaceId: tx.ws,
      spec: { ...spec, dependsOn: deps.map((d) => d.id) },
      depth,
      at: tx.now,
    } satisfies JobInput,
    {
      event: 'jobs.submit',
    },
  );
  const failed = deps.find((d) => BLOCKING.includes(d.status));
  if (failed) {
    tx.send([
      {
        kind: 'job',
        id,
        event: {
          type: 'DEPENDENCY_FAILED',
          at: tx.now,
          reason: `dependency ${failed.id} is ${failed.status}`,
        },
      },
    ]);
  } else if (!hold) {
    const unmet = deps.filter((d) => d.status !== 'COMPLETED').length;
    tx.send([{ kind: 'job', id, event: { type: 'ENQUEUE', at: tx.now, unmetDependencies: unmet } }]);
  }
  return jobView(tx.get('job', id));
}

/** Releases a held (SUBMITTED) job. */
export function enqueueJob(tx: Tx, jobId: string): Job {
  const job = tx.get('job', jobId);
  const deps = (job.context as JobContext).spec.dependsOn.map((id) => tx.get('job', id).value as JobStatus);
  const unmet = deps.filter((s) => s !== 'COMPLETED').length;
  tx.send([{ kind: 'job', id: jobId, event: { type: 'ENQUEUE', at: tx.now, unmetDependencies: unmet } }]);
  return jobView(tx.get('job', jobId));
}

/** Cancels a non-final job. */
export function cancelJob(tx: Tx, jobId: string, reason?: string): Job {
  const job = tx.get('job', jobId);
  if (FINAL_JOB_STATUSES.includes(job.value as JobStatus)) {
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
  tx.send([{ kind: 'job', id: jobId, event: { type: 'CANCEL', at: tx.now, ...(reason ? { reason } : {}) } }]);
  return jobView(tx.get('job', jobId));
}
