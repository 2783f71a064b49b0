import type { HeartbeatAnswer } from '../../contracts/answers.ts';
import { OverseerError } from '../../core/errors.ts';
import {
  FINAL_WORKER_STATUSES,
  type Directive,
  type Worker,
  type WorkerStatus,
} from '../../contracts/worker.ts';
import type { WorkerContext, WorkerEvent, WorkerInput } from '../../machines/worker.ts';
import type { Tx } from '../tx.ts';
import { workerView } from '../views.ts';
import { HEARTBEAT_TIMER, transitionJob } from '../work/lifecycle.ts';
import { leaseDigest } from '../work/lease-secret.ts';
import { extendLease, resumeLease, suspendLease } from './queue.ts';

export { HEARTBEAT_TIMER };

const isFinal = (status: WorkerStatus) => FINAL_WORKER_STATUSES.includes(status);

function armHeartbeat(tx: Tx, workerId: string): void {
  const ms = tx.env.settings.heartbeatTimeoutMs;
  tx.setTimer('worker', workerId, HEARTBEAT_TIMER, tx.now + ms, { type: 'HEARTBEAT_TIMEOUT' }, ms);
}

/** Keeps the heartbeat deadline in step with the worker's state: suspended while PAUSED, none when OFFLINE or final. */
function syncHeartbeat(tx: Tx, workerId: string): void {
  const status = tx.get('worker', workerId).value;
  if (status === 'PAUSED' || status === 'OFFLINE' || isFinal(status))
    tx.cancelTimer('worker', workerId, HEARTBEAT_TIMER);
  else armHeartbeat(tx, workerId);
}

function transition(tx: Tx, workerId: string, event: WorkerEvent): Worker {
  tx.send([{ kind: 'worker', id: workerId, event }]);
  syncHeartbeat(tx, workerId);
  return workerView(tx.get('worker', workerId));
}

export function registerWorker(
  tx: Tx,
  input: { name: string; capabilities: string[]; metadata?: Record<string, unknown> | undefined },
): Worker {
  const id = tx.mint('wrk');
  const workerInput: WorkerInput = {
    id,
    workspaceId: tx.ws,
    name: input.name,
    capabilities: [...new Set(input.capabilities)],
    ...(input.metadata ? { metadata: input.metadata } : {}),
    registeredBy: tx.principal,
    at: tx.now,
  };
  tx.create('worker', id, workerInput, { event: 'workers.register' });
  armHeartbeat(tx, id);
  return workerView(tx.get('worker', id));
}

/** The id of a worker that has not ended (a credential is minted only for one), else INVALID_STATE_TRANSITION. */
export function liveWorker(tx: Tx, workerId: string): string {
  const status = tx.get('worker', workerId).value;
  if (isFinal(status))
    throw new OverseerError(
      'INVALID_STATE_TRANSITION',
      `The worker ${workerId} is ${status}: it gets no credential.`,
      {
        kind: 'worker',
        id: workerId,
        state: status,
      },
    );
  return workerId;
}

/** Whether the job a worker holds still has a live lease. */
function leaseLive(tx: Tx, c: WorkerContext): boolean {
  if (c.jobId === null || c.leaseFence === null) return false;
  const job = tx.find('job', c.jobId);
  return job?.value === 'RUNNING' && job.context.leaseFence === c.leaseFence;
}

/**
 * Keeps a worker alive and, with a lease token (its secret), extends that lease. A worker in a final state, or a
 * lease revoked by CANCEL or TERMINATE, is sent to no chart: the answer is `terminate` or `cancel` (DESIGN §1). Any
 * other token that is not the secret of the worker's current lease answers `LEASE_LOST`.
 */
export function heartbeat(tx: Tx, workerId: string, leaseToken?: string): HeartbeatAnswer {
  const snapshot = tx.get('worker', workerId);
  const status = snapshot.value;
  const c = snapshot.context;
  if (isFinal(status)) return { directive: 'terminate', leaseExpiresAt: null };
  const digest = leaseToken === undefined ? undefined : leaseDigest(leaseToken);
  if (digest !== undefined && digest !== c.leaseDigest) {
    if (digest === c.revokedLeaseDigest) return { directive: 'cancel', leaseExpiresAt: null };
    throw new OverseerError('LEASE_LOST', `The lease presented is not the lease worker ${workerId} holds.`, {
      workerId,
    });
  }
  const pending = c.pendingDirective;
  const event: WorkerEvent = { type: 'HEARTBEAT', at: tx.now, leaseLive: leaseLive(tx, c) };
  if (snapshot.can(event)) transition(tx, workerId, event);
  const after = tx.get('worker', workerId);
  const ac = after.context;
  let leaseExpiresAt: number | null = null;
  if (leaseToken !== undefined && ac.jobId !== null && leaseLive(tx, ac)) {
    // A paused worker's lease stays suspended; its expiry is reported as it stands.
    leaseExpiresAt =
      after.value === 'PAUSED' ? tx.get('job', ac.jobId).context.leaseExpiresAt : extendLease(tx, ac.jobId);
  }
  return { directive: directiveFor(after.value, pending), leaseExpiresAt };
}

function directiveFor(status: WorkerStatus, pending: WorkerContext['pendingDirective']): Directive {
  if (isFinal(status)) return 'terminate';
  if (status === 'PAUSED') return 'pause';
  if (pending === 'resume') return 'resume';
  return 'continue';
}

/** PAUSE keeps the job RUNNING with its allocation and suspends the lease and heartbeat deadlines. */
export function pauseWorker(tx: Tx, id: string): Worker {
  const worker = transition(tx, id, { type: 'PAUSE', at: tx.now });
  if (worker.jobId !== null) suspendLease(tx, worker.jobId);
  return worker;
}

/** RESUME re-arms both deadlines from now. */
export function resumeWorker(tx: Tx, id: string): Worker {
  const worker = transition(tx, id, { type: 'RESUME', at: tx.now });
  if (worker.jobId !== null) resumeLease(tx, worker.jobId);
  return workerView(tx.get('worker', id));
}

/** TERMINATE revokes the lease and re-queues the job without spending a retry. */
export function terminateWorker(tx: Tx, id: string, reason?: string): Worker {
  const c = tx.get('worker', id).context;
  const worker = transition(tx, id, { type: 'TERMINATE', at: tx.now, ...(reason ? { reason } : {}) });
  if (c.jobId !== null) {
    const job = tx.find('job', c.jobId);
    const jc = job?.context;
    if (job?.value === 'RUNNING' && jc?.leaseFence === c.leaseFence && !jc.ownPartDone) {
      transitionJob(
        tx,
        c.jobId,
        { type: 'REQUEUE', at: tx.now, reason: `worker ${id} terminated` },
        { revoked: true },
      );
    }
  }
  return worker;
}

export const reportCrash = (tx: Tx, id: string, reason: string) =>
  transition(tx, id, { type: 'CRASH', at: tx.now, reason });
export const restartWorker = (tx: Tx, id: string) => transition(tx, id, { type: 'RESTART', at: tx.now });
/** Drains a worker: COMPLETED at once when it holds no job (whatever its state), else when its job ends. */
export const deregisterWorker = (tx: Tx, id: string) => transition(tx, id, { type: 'DRAIN', at: tx.now });
