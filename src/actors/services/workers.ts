import {
  FINAL_WORKER_STATUSES,
  type Directive,
  type Worker,
  type WorkerRegisterInput,
  type WorkerStatus,
} from '../../contracts/worker.ts';
import type { WorkerContext, WorkerEvent, WorkerInput } from '../../machines/worker.ts';
import type { RuntimeSettings } from '../settings.ts';
import type { Tx } from '../tx.ts';
import { workerView } from '../views.ts';

/** The durable timer that turns a silent worker OFFLINE. */
export const HEARTBEAT_TIMER = 'heartbeat';

const isFinal = (status: WorkerStatus) => FINAL_WORKER_STATUSES.includes(status);

function armHeartbeat(tx: Tx, workerId: string, settings: RuntimeSettings): void {
  tx.setTimer(
    'worker',
    workerId,
    HEARTBEAT_TIMER,
    tx.now + settings.heartbeatTimeoutMs,
    { type: 'HEARTBEAT_TIMEOUT' },
    settings.heartbeatTimeoutMs,
  );
}

/** Sends one event to a worker and keeps its heartbeat deadline in step with its new state. */
function transition(tx: Tx, workerId: string, event: WorkerEvent, settings: RuntimeSettings): Worker {
  tx.send([{ kind: 'worker', id: workerId, event }]);
  const status = tx.get('worker', workerId).value as WorkerStatus;
  // A paused worker's deadlines are suspended; an offline or final one has none.
  if (status === 'PAUSED' || status === 'OFFLINE' || isFinal(status))
    tx.cancelTimer('worker', workerId, HEARTBEAT_TIMER);
  else armHeartbeat(tx, workerId, settings);
  return workerView(tx.get('worker', workerId));
}

export function registerWorker(
  tx: Tx,
  input: Required<Pick<WorkerRegisterInput, 'name' | 'capabilities'>> & Pick<WorkerRegisterInput, 'metadata'>,
  settings: RuntimeSettings,
): Worker {
  const id = tx.mint('wrk');
  const workerInput: WorkerInput = {
    id,
    workspaceId: tx.ws,
    name: input.name,
    capabilities: [...new Set(input.capabilities)],
    ...(input.metadata ? { metadata: input.metadata } : {}),
    at: tx.now,
  };
  tx.create('worker', id, workerInput, { event: 'workers.register' });
  armHeartbeat(tx, id, settings);
  return workerView(tx.get('worker', id));
}

/** The answer to a heartbeat. */
export interface HeartbeatAnswer {
  directive: Directive;
  leaseExpiresAt: number | null;
}

/**
 * Keeps a worker alive and tells it what to do. A worker in a final state is sent to no chart and told to
 * terminate (DESIGN §1).
 */
export function heartbeat(tx: Tx, workerId: string, settings: RuntimeSettings): HeartbeatAnswer {
  const snapshot = tx.get('worker', workerId);
  const status = snapshot.value as WorkerStatus;
  if (isFinal(status)) return { directive: 'terminate', leaseExpiresAt: null };
  const pending = (snapshot.context as WorkerContext).pendingDirective;
  const event: WorkerEvent = { type: 'HEARTBEAT', at: tx.now, leaseLive: false };
  if (!snapshot.can(event)) return { directive: directiveFor(status, pending), leaseExpiresAt: null };
  const after = transition(tx, workerId, event, settings);
  return { directive: directiveFor(after.status, pending), leaseExpiresAt: null };
}

function directiveFor(status: WorkerStatus, pending: WorkerContext['pendingDirective']): Directive {
  if (isFinal(status)) return 'terminate';
  if (status === 'PAUSED') return 'pause';
  if (pending === 'resume') return 'resume';
  return 'continue';
}

export const pauseWorker = (tx: Tx, id: string, s: RuntimeSettings) =>
  transition(tx, id, { type: 'PAUSE', at: tx.now }, s);
export const resumeWorker = (tx: Tx, id: string, s: RuntimeSettings) =>
  transition(tx, id, { type: 'RESUME', at: tx.now }, s);
export const terminateWorker = (tx: Tx, id: string, s: RuntimeSettings, reason?: string) =>
  transition(tx, id, { type: 'TERMINATE', at: tx.now, ...(reason ? { reason } : {}) }, s);
export const reportCrash = (tx: Tx, id: string, reason: string, s: RuntimeSettings) =>
  transition(tx, id, { type: 'CRASH', at: tx.now, reason }, s);
export const restartWorker = (tx: Tx, id: string, s: RuntimeSettings) =>
  transition(tx, id, { type: 'RESTART', at: tx.now }, s);
/** Drains a worker: COMPLETED at once when idle, else when its job ends. */
export const deregisterWorker = (tx: Tx, id: string, s: RuntimeSettings) =>
  transition(tx, id, { type: 'DRAIN', at: tx.now }, s);
