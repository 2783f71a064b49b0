import type { ClaimAnswer } from '../../contracts/answers.ts';
import { OverseerError } from '../../core/errors.ts';
import type { Job } from '../../contracts/job.ts';
import { MAX_WAIT_MS } from '../../contracts/queue.ts';
import { hasCapabilities } from '../../domain/capabilities.ts';
import type { JobContext } from '../../machines/job.ts';
import type { ActorHost } from '../actor-host.ts';
import type { Tx } from '../tx.ts';
import { jobView } from '../views.ts';
import {
  dequeue,
  HEARTBEAT_TIMER,
  isFinalJob,
  JOB_TIMEOUT_TIMER,
  LEASE_TIMER,
  RETRY_TIMER,
  transitionJob,
} from '../work/lifecycle.ts';

/** Claims the first queued job the worker can run and whose resources can be allocated, or answers `{ job: null }`. */
export function claim(tx: Tx, workerId: string): ClaimAnswer {
  const worker = tx.get('worker', workerId);
  const probe = { type: 'CLAIMED' as const, at: tx.now, jobId: '', leaseToken: '' };
  if (!worker.can(probe)) {
    throw new OverseerError(
      'INVALID_STATE_TRANSITION',
      `The worker ${workerId} is ${String(worker.value)}; only an IDLE worker claims.`,
      {
        kind: 'worker',
        id: workerId,
        state: worker.value,
        event: 'CLAIMED',
      },
    );
  }
  const capabilities = worker.context.capabilities;
  // A claim is a sign of life: a worker parked in a long-poll must not go OFFLINE meanwhile. The deadline is
  // rounded up to the second, so a worker claiming many times a second moves its timer (two writes) once.
  const beat = tx.env.settings.heartbeatTimeoutMs;
  tx.setTimer(
    'worker',
    workerId,
    HEARTBEAT_TIMER,
    Math.ceil((tx.now + beat + MAX_WAIT_MS) / 1000) * 1000,
    { type: 'HEARTBEAT_TIMEOUT' },
    beat,
  );
  const work = tx.env.work.get(tx.ws);
  for (const entry of work.queue.scan((w) => tx.write(w))) {
    if (!hasCapabilities(entry.capabilities, capabilities)) continue;
    const request = {
      jobId: entry.jobId,
      depth: entry.depth,
      ancestors: entry.ancestors,
      running: true,
      workerSlots: entry.workerCount,
      resources: entry.resources,
    };
    if (!work.ledger.check(request).ok) continue;
    const c = tx.get('job', entry.jobId).context;
    const token = String(++work.fence);
    const expiresAt = tx.now + c.spec.leaseSeconds * 1000;
    tx.send([
      {
        kind: 'job',
        id: entry.jobId,
        event: { type: 'CLAIM', at: tx.now, workerId, leaseToken: token, leaseExpiresAt: expiresAt },
      },
      {
        kind: 'worker',
        id: workerId,
        event: { type: 'CLAIMED', at: tx.now, jobId: entry.jobId, leaseToken: token },
      },
    ]);
    dequeue(tx, entry.jobId, entry.rank);
    const change = work.ledger.allocate(request);
    tx.write(change.write);
    tx.onRevert(change.undo);
    tx.writeLatest('meta', ['fence', tx.ws], () => work.fence);
    armLease(tx, entry.jobId, token, expiresAt, c.spec.leaseSeconds);
    if (c.spec.execution.timeoutSeconds !== undefined) {
      tx.setTimer('job', entry.jobId, JOB_TIMEOUT_TIMER, tx.now + c.spec.execution.timeoutSeconds * 1000, {
        type: 'TIMEOUT',
        token,
      });
    }
    return {
      job: jobView(tx.get('job', entry.jobId)),
      lease: { token, expiresAt },
      workOrder: { jobId: entry.jobId, workerId, claimedAt: tx.now, retryCount: c.retryCount },
    };
  }
  return { job: null };
}

function armLease(tx: Tx, jobId: string, token: string, expiresAt: number, leaseSeconds: number): void {
  tx.setTimer('job', jobId, LEASE_TIMER, expiresAt, { type: 'LEASE_EXPIRED', token }, leaseSeconds * 1000);
}

/** The RUNNING job whose lease `token` is, or `LEASE_LOST` (changing nothing). */
function requireLease(tx: Tx, jobId: string, token: string): JobContext {
  const job = tx.get('job', jobId);
  const c = job.context;
  if (job.value !== 'RUNNING' || c.leaseToken !== token) {
    throw new OverseerError(
      'LEASE_LOST',
      `The lease ${token} of job ${jobId} is not current; the job is ${String(job.value)}.`,
      {
        jobId,
        state: job.value,
        leaseToken: token,
      },
    );
  }
  return c;
}

/** The worker reports its part of a job done; with `claimNext` the answer carries its next claim, in one commit. */
export function complete(
  tx: Tx,
  input: { jobId: string; leaseToken: string; result?: unknown; claimNext?: boolean },
): { job: Job; next?: ClaimAnswer } {
  const c = requireLease(tx, input.jobId, input.leaseToken);
  const workerId = c.workerId!;
  const openChildren = c.children.filter((id) => !isFinalJob(tx.get('job', id).value)).length;
  transitionJob(tx, input.jobId, { type: 'COMPLETE', at: tx.now, result: input.result, openChildren });
  const job = jobView(tx.get('job', input.jobId));
  if (!input.claimNext) return { job };
  const worker = tx.find('worker', workerId);
  const idle = worker?.value === 'IDLE';
  return { job, next: idle ? claim(tx, workerId) : { job: null } };
}

/** The worker reports the job failed: retried after a backoff while retries last (when `retryable`), else FAILED. */
export function fail(
  tx: Tx,
  input: { jobId: string; leaseToken: string; reason: string; retryable: boolean },
): { job: Job } {
  requireLease(tx, input.jobId, input.leaseToken);
  transitionJob(tx, input.jobId, {
    type: 'FAIL',
    at: tx.now,
    reason: input.reason,
    retryable: input.retryable,
  });
  return { job: jobView(tx.get('job', input.jobId)) };
}

/** Extends a live lease; answers the new expiry. */
export function extendLease(tx: Tx, jobId: string, token: string): number {
  const c = requireLease(tx, jobId, token);
  const expiresAt = tx.now + c.spec.leaseSeconds * 1000;
  tx.send([
    { kind: 'job', id: jobId, event: { type: 'EXTEND_LEASE', at: tx.now, leaseExpiresAt: expiresAt } },
  ]);
  armLease(tx, jobId, token, expiresAt, c.spec.leaseSeconds);
  return expiresAt;
}

/** Suspends the lease deadline of a paused worker's job. */
export function suspendLease(tx: Tx, jobId: string): void {
  tx.cancelTimer('job', jobId, LEASE_TIMER);
}

/** Re-arms the lease of a resumed worker's job from now. */
export function resumeLease(tx: Tx, jobId: string): void {
  const job = tx.find('job', jobId);
  const c = job?.context;
  if (job?.value !== 'RUNNING' || !c?.leaseToken) return;
  extendLease(tx, jobId, c.leaseToken);
}

/** What the job timers do when they fire: only against the lease they were armed for. */
export function registerJobTimers(host: ActorHost): void {
  host.onTimer(LEASE_TIMER, (tx, entry) => {
    const job = tx.find('job', entry.id);
    if (job?.value !== 'RUNNING' || job.context.leaseToken !== entry.event['token']) return;
    transitionJob(tx, entry.id, { type: 'LEASE_EXPIRED', at: tx.now });
  });
  host.onTimer(JOB_TIMEOUT_TIMER, (tx, entry) => {
    const job = tx.find('job', entry.id);
    if (job?.value !== 'RUNNING' || job.context.leaseToken !== entry.event['token']) return;
    transitionJob(tx, entry.id, { type: 'TIMEOUT', at: tx.now }, { revoked: true });
  });
  host.onTimer(RETRY_TIMER, (tx, entry) => {
    if (tx.find('job', entry.id)?.value !== 'RETRY_WAIT') return;
    transitionJob(tx, entry.id, { type: 'RETRY', at: tx.now });
  });
}
