import { OverseerError } from '../../core/errors.ts';
import type { Allocation } from '../../contracts/resources.ts';
import type { ActorHost } from '../actor-host.ts';
import type { ClaimAnswer } from '../../contracts/answers.ts';
import type { AllocateOutcome } from '../services/resources.ts';
import type { Tx } from '../tx.ts';
import type { Principal } from '../../contracts/scopes.ts';
import { withoutLeaseSecret } from './lease-secret.ts';

/** A claimer parked until a matching job is enqueued (long-poll). */
export interface ClaimWaiter {
  /** The worker whose claim waits (pausing, terminating or draining it wakes the claim). */
  workerId: string;
  capabilities: readonly string[];
  wake: () => void;
}

/** An allocate request waiting (FIFO) for busy resources. */
export interface ResourceWaiter {
  jobId: string;
  /** Names of the resources it waits for: newcomers may not take them first. */
  resources: string[];
  /** Jobs it waits for (the holders of what it asked), for deadlock detection. */
  waitsFor: string[];
  wake: () => void;
}

/** A workspace's parked callers: the lists a long-poll parks on and a change of the work state wakes. */
export interface Waiters {
  readonly claimWaiters: ClaimWaiter[];
  readonly resourceWaiters: ResourceWaiter[];
}

/** Who parks: a command's caller in one workspace (a command context is one). */
export interface ParkingCall {
  host: ActorHost;
  ws: string;
  principal: Principal;
  idempotencyKey?: string | undefined;
}

// ── Waking ────────────────────────────────────────────────────────────────────

/**
 * Once the unit has merged, wakes the first parked claimer that could run a job with these capabilities: it claims
 * again in the same batch.
 */
export function wakeClaimer(tx: Tx, waiters: Waiters, capabilities: readonly string[]): void {
  tx.onMerged(() => {
    const i = waiters.claimWaiters.findIndex((w) =>
      capabilities.every((cap) => w.capabilities.includes(cap)),
    );
    if (i >= 0) waiters.claimWaiters.splice(i, 1)[0]!.wake();
  });
}

/** After resources are freed, waiting allocators retry in FIFO order (their own units of work). */
export function wakeAllocators(tx: Tx): void {
  const work = tx.env.work.get(tx.ws);
  if (work.resourceWaiters.length === 0) return;
  tx.onMerged(() => {
    for (const w of work.resourceWaiters.splice(0)) w.wake();
  });
}

/**
 * Wakes the parked claim of a worker whose state just changed (paused, terminated, draining): claiming again, it
 * answers at once (INVALID_STATE_TRANSITION with the new state) instead of at the end of its wait.
 */
export function wakeClaimOf(call: ParkingCall, workerId: string): void {
  const waiters = call.host.env.work.get(call.ws).claimWaiters;
  for (let i = waiters.length - 1; i >= 0; i--) {
    // Out of the list first: a woken claim that fails must not take the next enqueue's wake from another worker.
    if (waiters[i]!.workerId === workerId) waiters.splice(i, 1)[0]!.wake();
  }
}

/** Wakes every parked claim and allocate of a workspace (the runtime closes, or memory is rebuilt). */
export function wakeEveryWaiter(waiters: Waiters): void {
  for (const w of waiters.claimWaiters.splice(0)) w.wake();
  for (const w of waiters.resourceWaiters.splice(0)) w.wake();
}

// ── Parking ───────────────────────────────────────────────────────────────────

/** A parked caller: resolves when woken or when its time is up; `cancel` unparks it. */
interface Parked {
  promise: Promise<void>;
  cancel(): void;
}

function park<W extends { wake: () => void }>(
  call: ParkingCall,
  list: W[],
  make: (wake: () => void) => W,
  ms: number,
): Parked {
  const { clock } = call.host;
  let done!: () => void;
  const promise = new Promise<void>((resolve) => (done = resolve));
  const waiter = make(() => done());
  list.push(waiter);
  const unlist = () => {
    const i = list.indexOf(waiter);
    if (i >= 0) list.splice(i, 1);
  };
  const timer = clock.setTimeout(() => {
    unlist();
    done();
  }, ms);
  // The runtime's own timers never keep a process alive, but a caller awaiting its answer must get it: a script
  // whose only pending work is `await ws.queue.claim({ waitMs })` would otherwise exit before the answer.
  (timer as { ref?: () => void }).ref?.();
  return {
    promise: promise.then(() => clock.clearTimeout(timer)),
    cancel: () => {
      unlist();
      clock.clearTimeout(timer);
      done();
    },
  };
}

/**
 * A claim that waits up to `waitMs` for a matching job: it parks (no polling) and is woken by an enqueue of a job
 * it could run, then claims again in the batch of that enqueue. Answers `{ job: null }` when time is up, or at
 * once when the runtime starts closing (nothing was claimed for it).
 */
export async function claimWithWait(
  call: ParkingCall,
  input: { workerId: string; waitMs: number; capabilities?: readonly string[] | undefined },
  claim: (tx: Tx) => ClaimAnswer,
): Promise<ClaimAnswer> {
  const { host } = call;
  const deadline = host.clock.now() + input.waitMs;
  for (;;) {
    // Looked up on every pass: a failed commit replaces the workspace's work state.
    const work = host.env.work.get(call.ws);
    let parked: Parked | null = null;
    const answer = await host.execute(
      {
        ws: call.ws,
        command: 'queue.claim',
        principal: call.principal.sub,
        idempotencyKey: call.idempotencyKey,
        recordAnswer: () => parked === null,
        recordAs: withoutLeaseSecret,
        payload: input,
      },
      (tx) => {
        const result = claim(tx);
        const remaining = deadline - tx.now;
        if (result.job === null && remaining > 0 && !host.env.work.closing) {
          // Parked inside the unit of work, so no enqueue can slip between the empty answer and the parking.
          const capabilities = input.capabilities ?? tx.get('worker', input.workerId).context.capabilities;
          parked = park(
            call,
            work.claimWaiters,
            (wake) => ({ workerId: input.workerId, capabilities, wake }),
            remaining,
          );
        }
        return result;
      },
    );
    if (!parked) return answer;
    await (parked as Parked).promise;
    if (host.env.work.closing) return answer;
  }
}

/**
 * An allocate that waits up to `waitMs` (FIFO) while what it asks for is busy; `QUOTA_EXCEEDED` when time is up,
 * `STORAGE_UNAVAILABLE` at once when the runtime starts closing (the job keeps what it held).
 */
export async function allocateWithWait(
  call: ParkingCall,
  input: { jobId: string; waitMs?: number | undefined },
  allocate: (tx: Tx, mayWait: boolean) => AllocateOutcome,
): Promise<{ allocation: Allocation }> {
  const { host } = call;
  const deadline = host.clock.now() + (input.waitMs ?? 0);
  for (;;) {
    const work = host.env.work.get(call.ws);
    let parked: Parked | null = null;
    const outcome = await host.execute(
      {
        ws: call.ws,
        command: 'resources.allocate',
        principal: call.principal.sub,
        idempotencyKey: call.idempotencyKey,
        recordAnswer: () => parked === null,
        payload: input,
      },
      (tx) => {
        const remaining = deadline - tx.now;
        const result = allocate(tx, remaining > 0 && !host.env.work.closing);
        if (!result.granted) {
          const resources = result.busy.map((b) => b.resource);
          parked = park(
            call,
            work.resourceWaiters,
            (wake) => ({ jobId: input.jobId, resources, waitsFor: result.waitsFor, wake }),
            remaining,
          );
        }
        return result;
      },
    );
    if (outcome.granted) return { allocation: outcome.allocation };
    if (!parked)
      throw new OverseerError('QUOTA_EXCEEDED', undefined, { jobId: input.jobId, busy: outcome.busy });
    await (parked as Parked).promise;
    if (host.env.work.closing)
      throw new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is closing; the allocation was not made.', {
        jobId: input.jobId,
      });
  }
}
