import { FINAL_JOB_STATUSES, type JobStatus } from '../../contracts/job.ts';
import { retryDelayMs } from '../../domain/backoff.ts';
import type { JobContext, JobEvent } from '../../machines/job.ts';
import type { Tx } from '../tx.ts';
import { wakeAllocators, wakeClaimer } from './parking.ts';
import { PRIORITY_RANK } from './queue-index.ts';

/** Durable timers of a job. */
export const LEASE_TIMER = 'lease';
export const JOB_TIMEOUT_TIMER = 'job-timeout';
export const RETRY_TIMER = 'retry';
/** The durable timer that turns a silent worker OFFLINE. */
export const HEARTBEAT_TIMER = 'heartbeat';

export const isFinalJob = (status: unknown): boolean => FINAL_JOB_STATUSES.includes(status as JobStatus);
export const jobContext = (tx: Tx, id: string): JobContext => tx.get('job', id).context;

/** Puts a QUEUED job into its workspace's queue and (unless told not to) wakes a parked claimer that could take it. */
export function enqueue(tx: Tx, jobId: string, wake = true): void {
  const work = tx.env.work.get(tx.ws);
  if (work.queue.has(jobId)) return;
  const c = jobContext(tx, jobId);
  const { entry, write } = work.queue.add({
    jobId,
    rank: PRIORITY_RANK[c.spec.priority],
    capabilities: c.spec.capabilities,
    resources: c.spec.resources,
    depth: c.depth,
    workerCount: c.spec.workerCount,
    ancestors: c.ancestors,
  });
  tx.write(write);
  tx.onRevert(() => work.queue.unadd(entry));
  if (wake) wakeClaimer(tx, work, entry.capabilities);
}

/**
 * Takes a QUEUED job out of its lane (`rank`, from the priority it was queued with): claimed, canceled, failed
 * or re-prioritized. Only for a job that is QUEUED: the queue may not have read its entry yet.
 */
export function dequeue(tx: Tx, jobId: string, rank: number): void {
  const work = tx.env.work.get(tx.ws);
  const removed = work.queue.remove(jobId, rank);
  if (!removed) return;
  tx.write(removed.write);
  tx.onRevert(removed.undo);
}

/** Frees everything a job holds and wakes waiting allocators. */
export function releaseAll(tx: Tx, jobId: string): void {
  const work = tx.env.work.get(tx.ws);
  const change = work.ledger.release(jobId);
  if (!change) return;
  tx.write(change.write);
  tx.onRevert(change.undo);
  wakeAllocators(tx);
}

function cancelJobTimers(tx: Tx, jobId: string): void {
  tx.cancelTimer('job', jobId, LEASE_TIMER);
  tx.cancelTimer('job', jobId, JOB_TIMEOUT_TIMER);
}

/**
 * Sends an event to a job and carries out what its new state means: a job that lets go of its lease releases
 * its worker (JOB_ENDED, `revoked` for CANCEL/TIMEOUT/TERMINATE) and its lease timers; a re-queued job frees its
 * allocation and goes back into the queue; RETRY_WAIT arms the backoff timer; a final job is settled.
 */
export function transitionJob(
  tx: Tx,
  jobId: string,
  event: JobEvent,
  opts: { revoked?: boolean } = {},
): JobStatus {
  const before = tx.get('job', jobId);
  const heldBy = before.context.workerId;
  tx.send([{ kind: 'job', id: jobId, event }]);
  const after = tx.get('job', jobId);
  const status = after.value;
  const c = after.context;
  if (before.value === 'QUEUED' && status !== 'QUEUED')
    dequeue(tx, jobId, PRIORITY_RANK[before.context.spec.priority]);
  if (before.value === 'RUNNING' && heldBy !== null && c.workerId === null) {
    endWorkerJob(tx, heldBy, jobId, opts.revoked ?? false);
    cancelJobTimers(tx, jobId);
    if (status === 'RUNNING') {
      const work = tx.env.work.get(tx.ws);
      const change = work.ledger.releaseWorkerSlots(jobId);
      if (change) {
        tx.write(change.write);
        tx.onRevert(change.undo);
      }
    }
  }
  if (status === before.value) return status;
  // A parent that leaves RUNNING without completing takes its subtree with it: its children relied on its
  // (re-entrant) locks, which it is about to give up, and a new attempt submits its children again.
  if (before.value === 'RUNNING' && status !== 'COMPLETED' && c.children.length > 0) {
    cancelDescendants(tx, jobId, `parent ${jobId} is ${status}`);
  }
  if (status === 'QUEUED') {
    releaseAll(tx, jobId);
    enqueue(tx, jobId);
  } else if (status === 'RETRY_WAIT') {
    releaseAll(tx, jobId);
    const delay = retryDelayMs(c.retryCount, tx.env.random());
    tx.setTimer('job', jobId, RETRY_TIMER, tx.now + delay, { type: 'RETRY' });
  } else if (isFinalJob(status)) {
    settle(tx, jobId);
  }
  return status;
}

/** Tells the worker holding a job that the job ended (if it still holds it). */
export function endWorkerJob(tx: Tx, workerId: string, jobId: string, revoked: boolean): void {
  const worker = tx.find('worker', workerId);
  if (!worker || worker.context.jobId !== jobId) return;
  const event = { type: 'JOB_ENDED' as const, at: tx.now, ...(revoked ? { revoked: true } : {}) };
  if (!worker.can(event)) return;
  tx.send([{ kind: 'worker', id: workerId, event }]);
  // A draining worker completes with its job: it has no deadline any more.
  if (tx.get('worker', workerId).value === 'COMPLETED') tx.cancelTimer('worker', workerId, HEARTBEAT_TIMER);
}

const settling = new WeakMap<Tx, string[]>();

/**
 * Carries out what a job's final state means, breadth-first over everything it sets off: frees its allocation,
 * takes it out of the queue, cancels its timers; releases or blocks its dependents; completes or fails its
 * parent; moves its workstream.
 */
export function settle(tx: Tx, jobId: string): void {
  const active = settling.get(tx);
  if (active) {
    active.push(jobId);
    return;
  }
  const pending = [jobId];
  settling.set(tx, pending);
  try {
    for (let id = pending.shift(); id !== undefined; id = pending.shift()) settleOne(tx, id);
  } finally {
    settling.delete(tx);
  }
}

function settleOne(tx: Tx, jobId: string): void {
  const snapshot = tx.get('job', jobId);
  const status = snapshot.value;
  const c = snapshot.context;
  // A job that left QUEUED was taken out of the queue by transitionJob already.
  releaseAll(tx, jobId);
  cancelJobTimers(tx, jobId);
  tx.cancelTimer('job', jobId, RETRY_TIMER);
  // A workflow job that ends otherwise than through its final phase ends its phase too (its tokens go stale).
  const phase = status === 'COMPLETED' ? undefined : tx.find('phase', jobId);
  if (phase?.value === 'ACTIVE')
    tx.send([
      { kind: 'phase', id: jobId, event: { type: 'CANCEL', at: tx.now, reason: `the job is ${status}` } },
    ]);

  for (const depId of c.dependents) {
    const dep = tx.find('job', depId);
    if (!dep || isFinalJob(dep.value)) continue;
    if (status === 'COMPLETED') {
      const allMet = dep.context.spec.dependsOn.every((id) => tx.get('job', id).value === 'COMPLETED');
      if (dep.value === 'PENDING' && allMet)
        transitionJob(tx, depId, { type: 'DEPENDENCIES_MET', at: tx.now });
    } else if (dep.value === 'PENDING' || dep.value === 'SUBMITTED') {
      transitionJob(tx, depId, {
        type: 'DEPENDENCY_FAILED',
        at: tx.now,
        reason: `dependency ${jobId} is ${status}`,
      });
    }
  }

  const parentId = c.spec.parentJobId;
  if (parentId !== undefined) {
    const parent = tx.find('job', parentId);
    if (parent && !isFinalJob(parent.value)) {
      if (status === 'FAILED' && c.spec.failParentOnFailure) {
        cancelDescendants(tx, parentId, `sibling ${jobId} failed`);
        transitionJob(
          tx,
          parentId,
          { type: 'CHILD_FAILED', at: tx.now, reason: `child ${jobId} failed: ${c.lastError ?? 'failed'}` },
          { revoked: true },
        );
      } else {
        tx.env.childEnded?.(tx, jobId);
        const settled = tx.get('job', parentId).context;
        if (settled.ownPartDone && settled.children.every((id) => isFinalJob(tx.get('job', id).value)))
          transitionJob(tx, parentId, { type: 'CHILDREN_SETTLED', at: tx.now });
      }
    }
  }

  if (c.workstreamId !== null) settleWorkstreamJob(tx, c.workstreamId, jobId, status);
}

/** Cancels a job and every non-final descendant, revoking leases and freeing what they hold. */
export function cancelTree(tx: Tx, jobId: string, reason: string): void {
  transitionJob(tx, jobId, { type: 'CANCEL', at: tx.now, reason }, { revoked: true });
  cancelDescendants(tx, jobId, reason);
}

/** Cancels every non-final descendant of a job (not the job itself). */
export function cancelDescendants(tx: Tx, jobId: string, reason: string): void {
  const stack = [...jobContext(tx, jobId).children];
  while (stack.length > 0) {
    const id = stack.pop()!;
    const snapshot = tx.get('job', id);
    stack.push(...snapshot.context.children);
    if (!isFinalJob(snapshot.value))
      transitionJob(tx, id, { type: 'CANCEL', at: tx.now, reason }, { revoked: true });
  }
}

/** A workstream completes when all its jobs have, and fails when one of them ends otherwise. */
function settleWorkstreamJob(tx: Tx, workstreamId: string, jobId: string, status: JobStatus): void {
  const ws = tx.find('workstream', workstreamId);
  if (!ws || ws.value !== 'EXECUTING') return;
  if (status !== 'COMPLETED') {
    tx.send([
      {
        kind: 'workstream',
        id: workstreamId,
        event: { type: 'JOB_FAILED', at: tx.now, reason: `job ${jobId} is ${status}` },
      },
    ]);
    return;
  }
  const { jobIds } = ws.context;
  if (jobIds.every((id) => tx.get('job', id).value === 'COMPLETED')) {
    tx.send([{ kind: 'workstream', id: workstreamId, event: { type: 'ALL_COMPLETED', at: tx.now } }]);
  }
}
