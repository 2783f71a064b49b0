import { OverseerError } from '../../core/errors.ts';
import type { ResourceRequest } from '../../contracts/job.ts';
import type { Allocation } from '../../contracts/resources.ts';
import { resourceKind } from '../../domain/resources.ts';
import { findWaitCycle } from '../../domain/wait-for.ts';
import type { JobContext } from '../../machines/job.ts';
import type { Tx } from '../tx.ts';
import type { Busy } from '../work/ledger.ts';
import { isFinalJob } from '../work/lifecycle.ts';
import { wakeAllocators } from '../work/parking.ts';

/** An allocate that could not be granted now: what is busy and whom it would wait for. */
export interface AllocateBusy {
  granted: false;
  busy: Busy[];
  waitsFor: string[];
}

export type AllocateOutcome = { granted: true; allocation: Allocation } | AllocateBusy;

function requireRunning(tx: Tx, jobId: string): JobContext {
  const job = tx.get('job', jobId);
  if (job.value !== 'RUNNING') {
    throw new OverseerError(
      'INVALID_STATE_TRANSITION',
      `The job ${jobId} is ${String(job.value)}; only a RUNNING job allocates.`,
      {
        kind: 'job',
        id: jobId,
        state: job.value,
        event: 'ALLOCATE',
      },
    );
  }
  return job.context;
}

/**
 * Adds named resources to a RUNNING job's allocation, all or none. A request that can never fit answers
 * `QUOTA_EXCEEDED`; one that would wait for a job that (transitively) waits for it answers `DEADLOCK_DETECTED`
 * with the cycle; otherwise a busy request is reported so the caller may wait (FIFO) or give up.
 */
export function allocate(
  tx: Tx,
  input: { jobId: string; resources: ResourceRequest[] },
  mayWait: boolean,
): AllocateOutcome {
  const c = requireRunning(tx, input.jobId);
  const work = tx.env.work.get(tx.ws);
  const request = {
    jobId: input.jobId,
    depth: c.depth,
    ancestors: c.ancestors,
    running: false,
    workerSlots: 0,
    resources: input.resources,
  };
  const check = work.ledger.check(request);
  // Waiting allocators go first: a newcomer may not take what an earlier waiter is waiting for.
  const queuedAhead = work.resourceWaiters.filter((w) => w.jobId !== input.jobId).flatMap((w) => w.resources);
  const contended = input.resources.filter((r) => queuedAhead.includes(r.name)).map((r) => r.name);
  if (check.ok && contended.length === 0) {
    const change = work.ledger.allocate(request);
    tx.write(change.write);
    tx.onRevert(change.undo);
    return { granted: true, allocation: work.ledger.allocations.get(input.jobId)! };
  }
  const busy = check.ok
    ? contended.map((name): Busy => ({
        resource: name,
        reason: resourceKind(name, tx.env.settings.resources.pools) === 'pool' ? 'pool' : 'lock',
        holders: work.ledger.holdersOf(name),
        never: false,
        detail: { queued: true },
      }))
    : check.busy;
  if (!check.ok && check.never) {
    throw new OverseerError(
      'QUOTA_EXCEEDED',
      `The request can never fit: ${busy
        .filter((b) => b.never)
        .map((b) => b.resource)
        .join(', ')}.`,
      { jobId: input.jobId, busy, never: true },
    );
  }
  const waitsFor = [...new Set(busy.flatMap((b) => b.holders))].filter((id) => id !== input.jobId);
  const cycle = findWaitCycle(input.jobId, (id) => (id === input.jobId ? waitsFor : waitEdges(tx, id)));
  if (cycle) {
    throw new OverseerError('DEADLOCK_DETECTED', `Waiting would close the cycle ${cycle.join(' → ')}.`, {
      jobId: input.jobId,
      cycle,
      busy,
    });
  }
  if (!mayWait)
    throw new OverseerError('QUOTA_EXCEEDED', `Busy: ${busy.map((b) => b.resource).join(', ')}.`, {
      jobId: input.jobId,
      busy,
    });
  return { granted: false, busy, waitsFor };
}

/** The edges of the wait-for graph out of one job: what its parked allocations wait for, and its open children. */
function waitEdges(tx: Tx, jobId: string): string[] {
  const work = tx.env.work.get(tx.ws);
  const edges = work.resourceWaiters.filter((w) => w.jobId === jobId).flatMap((w) => w.waitsFor);
  const job = tx.find('job', jobId);
  if (job)
    for (const child of job.context.children)
      if (!isFinalJob(tx.find('job', child)?.value)) edges.push(child);
  return edges;
}

/** Frees part of a job's allocation early. */
export function release(
  tx: Tx,
  input: { jobId: string; resources: ResourceRequest[] },
): { allocation: Allocation | null } {
  tx.get('job', input.jobId);
  const work = tx.env.work.get(tx.ws);
  const change = work.ledger.releasePart(input.jobId, input.resources);
  if (change) {
    tx.write(change.write);
    tx.onRevert(change.undo);
    wakeAllocators(tx);
  }
  return { allocation: work.ledger.allocations.get(input.jobId) ?? null };
}
