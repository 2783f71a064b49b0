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
import { leaseDigest, mintLeaseSecret } from '../work/lease-secret.ts';
import { startPhase } from './phases.ts';
import { checkReviewResult } from './reviews.ts';

/**
 * The capabilities a claim matches jobs with: the worker's, or the subset the claim names (VALIDATION_FAILED when
 * it names one the worker did not register).
 */
export function claimCapabilities(
  registered: readonly string[],
  only: readonly string[] | undefined,
  workerId: string,
): readonly string[] {
  if (only === undefined) return registered;
  const unknown = only.filter((cap) => !registered.includes(cap));
  if (unknown.length > 0)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `Invalid capabilities: worker ${workerId} did not register ${unknown.join(', ')}.`,
      { issues: [{ path: 'capabilities', message: `not registered by the worker: ${unknown.join(', ')}` }] },
    );
  return only;
}

/**
 * Claims the first queued job the worker can run (with `only`: those capabilities) and whose resources can be
 * allocated, or answers `{ job: null }`.
 */
export function claim(tx: Tx, workerId: string, only?: readonly string[]): ClaimAnswer {
  const worker = tx.get('worker', workerId);
  const probe = { type: 'CLAIMED' as const, at: tx.now, jobId: '', leaseFence: '', leaseDigest: '' };
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
  const capabilities = claimCapabilities(worker.context.capabilities, only, workerId);
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
    // The author's worker never reviews its own work.
    if (c.review?.excludedWorkerId === workerId) continue;
    const fence = ++work.fence;
    const leaseFence = String(fence);
    const secret = mintLeaseSecret();
    const expiresAt = tx.now + c.spec.leaseSeconds * 1000;
    tx.send([
      {
        kind: 'job',
        id: entry.jobId,
        event: {
          type: 'CLAIM',
          at: tx.now,
          workerId,
          leaseFence,
          leaseDigest: secret.digest,
          leaseExpiresAt: expiresAt,
        },
      },
      {
        kind: 'worker',
        id: workerId,
        event: { type: 'CLAIMED', at: tx.now, jobId: entry.jobId, leaseFence, leaseDigest: secret.digest },
      },
    ]);
    dequeue(tx, entry.jobId, entry.rank);
    const change = work.ledger.allocate(request);
    tx.write(change.write);
    tx.onRevert(change.undo);
    tx.writeLatest('meta', ['fence', tx.ws], () => work.fence);
    armLease(tx, entry.jobId, leaseFence, expiresAt, c.spec.leaseSeconds);
    startPhase(tx, entry.jobId);
    if (c.spec.execution.timeoutSeconds !== undefined) {
      tx.setTimer('job', entry.jobId, JOB_TIMEOUT_TIMER, tx.now + c.spec.execution.timeoutSeconds * 1000, {
        type: 'TIMEOUT',
        fence: leaseFence,
      });
    }
    return {
      job: jobView(tx.get('job', entry.jobId)),
      lease: { token: secret.token, fence, expiresAt },
      workOrder: { jobId: entry.jobId, workerId, claimedAt: tx.now, retryCount: c.retryCount },
    };
  }
  return { job: null };
}

/** Arms the lease deadline of the claim fenced `fence` (timers name the fence, never the secret). */
function armLease(tx: Tx, jobId: string, fence: string, expiresAt: number, leaseSeconds: number): void {
  tx.setTimer('job', jobId, LEASE_TIMER, expiresAt, { type: 'LEASE_EXPIRED', fence }, leaseSeconds * 1000);
}

/**
 * The RUNNING job whose lease's secret is `token`, or `LEASE_LOST` (changing nothing). A wrong secret and a stale
 * lease answer alike, and the answer never echoes the token.
 */
export function requireLease(tx: Tx, jobId: string, token: string): JobContext {
  const job = tx.get('job', jobId);
  const c = job.context;
  if (job.value !== 'RUNNING' || c.leaseDigest === null || c.leaseDigest !== leaseDigest(token)) {
    throw new OverseerError(
      'LEASE_LOST',
      `The lease presented for job ${jobId} is not its current lease; the job is ${String(job.value)}.`,
      { jobId, state: job.value },
    );
  }
  return c;
}

/**
 * A claim answered again (an idempotent replay): its lease gets a fresh secret and the previous one stops working,
 * if the claim's worker still holds it; otherwise the fresh secret opens nothing (LEASE_LOST, as the old one would).
 */
export function rekeyLease(tx: Tx, answer: ClaimAnswer): ClaimAnswer {
  const { lease, workOrder } = answer;
  if (!lease || !workOrder) return answer;
  const secret = mintLeaseSecret();
  const job = tx.find('job', workOrder.jobId);
  const c = job?.context;
  if (
    job?.value === 'RUNNING' &&
    c?.leaseFence === String(lease.fence) &&
    c.workerId === workOrder.workerId
  ) {
    const event = { type: 'REKEY_LEASE' as const, at: tx.now, leaseDigest: secret.digest };
    tx.send([
      { kind: 'job', id: workOrder.jobId, event },
      { kind: 'worker', id: workOrder.workerId, event },
    ]);
  }
  return { ...answer, lease: { ...lease, token: secret.token } };
}

/**
 * Completes a job whose lease the caller was found to hold (its worker's part done; the job completes when its
 * children are final). A workflow's final transition calls it in its own unit of work.
 */
export function completeHeld(tx: Tx, jobId: string, result?: unknown): Job {
  const c = tx.get('job', jobId).context;
  const openChildren = c.children.filter((id) => !isFinalJob(tx.get('job', id).value)).length;
  transitionJob(tx, jobId, {
    type: 'COMPLETE',
    at: tx.now,
    ...(result !== undefined ? { result } : {}),
    openChildren,
  });
  return jobView(tx.get('job', jobId));
}

/**
 * The worker reports its part of a job done; with `claimNext` the answer carries its next claim, in one commit. A
 * job under a workflow completes only by its move into the final phase: before that, WORKFLOW_INCOMPLETE. A review
 * job completes only with a valid `result.review` of its round (VALIDATION_FAILED).
 */
export function complete(
  tx: Tx,
  input: { jobId: string; leaseToken: string; result?: unknown; claimNext?: boolean },
): { job: Job; next?: ClaimAnswer } {
  const c = requireLease(tx, input.jobId, input.leaseToken);
  const workerId = c.workerId!;
  if (c.workflow !== null) {
    const phase = tx.find('phase', input.jobId);
    if (phase?.value !== 'COMPLETE')
      throw new OverseerError(
        'WORKFLOW_INCOMPLETE',
        `Job ${input.jobId} follows workflow ${c.workflow.name}@${c.workflow.version} and is in phase ${phase?.context.phase ?? '(not started)'}; it completes by workflow.transition into its final phase.`,
        { jobId: input.jobId, workflow: c.workflow, phase: phase?.context.phase ?? null },
      );
  }
  checkReviewResult(c, input.result);
  const job = completeHeld(tx, input.jobId, input.result);
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

/** Extends the live lease of a RUNNING job; answers the new expiry. */
export function extendLease(tx: Tx, jobId: string): number {
  const c = tx.get('job', jobId).context;
  const expiresAt = tx.now + c.spec.leaseSeconds * 1000;
  tx.send([
    { kind: 'job', id: jobId, event: { type: 'EXTEND_LEASE', at: tx.now, leaseExpiresAt: expiresAt } },
  ]);
  armLease(tx, jobId, c.leaseFence!, expiresAt, c.spec.leaseSeconds);
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
  if (job?.value !== 'RUNNING' || !c?.leaseFence) return;
  extendLease(tx, jobId);
}

/** The fence a lease timer was armed for (`token` in timers stored before leases had secrets). */
const fenceOf = (event: Record<string, unknown>): unknown => event['fence'] ?? event['token'];

/** What the job timers do when they fire: only against the lease they were armed for. */
export function registerJobTimers(host: ActorHost): void {
  host.onTimer(LEASE_TIMER, (tx, entry) => {
    const job = tx.find('job', entry.id);
    if (job?.value !== 'RUNNING' || job.context.leaseFence !== fenceOf(entry.event)) return;
    transitionJob(tx, entry.id, { type: 'LEASE_EXPIRED', at: tx.now });
  });
  host.onTimer(JOB_TIMEOUT_TIMER, (tx, entry) => {
    const job = tx.find('job', entry.id);
    if (job?.value !== 'RUNNING' || job.context.leaseFence !== fenceOf(entry.event)) return;
    transitionJob(tx, entry.id, { type: 'TIMEOUT', at: tx.now }, { revoked: true });
  });
  host.onTimer(RETRY_TIMER, (tx, entry) => {
    if (tx.find('job', entry.id)?.value !== 'RETRY_WAIT') return;
    transitionJob(tx, entry.id, { type: 'RETRY', at: tx.now });
  });
}
