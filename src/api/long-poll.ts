import { OverseerError } from '../core/errors.ts';
import type { Allocation } from '../contracts/resources.ts';
import type { Tx } from '../actors/tx.ts';
import type { ClaimAnswer } from '../actors/services/queue.ts';
import type { AllocateOutcome } from '../actors/services/resources.ts';
import type { WorkerContext } from '../machines/worker.ts';
import type { CommandContext } from './command.ts';

/** A parked caller: resolves when woken or when its time is up; `cancel` unparks it. */
interface Parked {
  promise: Promise<void>;
  cancel(): void;
}

function park<W extends { wake: () => void }>(
  ctx: CommandContext,
  list: W[],
  make: (wake: () => void) => W,
  ms: number,
): Parked {
  let done!: () => void;
  const promise = new Promise<void>((resolve) => (done = resolve));
  const waiter = make(() => done());
  list.push(waiter);
  const unlist = () => {
    const i = list.indexOf(waiter);
    if (i >= 0) list.splice(i, 1);
  };
  const timer = ctx.host.clock.setTimeout(() => {
    unlist();
    done();
  }, ms);
  // The runtime's own timers never keep a process alive, but a caller awaiting its answer must get it: a script
  // whose only pending work is `await ws.queue.claim({ waitMs })` would otherwise exit before the answer.
  (timer as { ref?: () => void }).ref?.();
  return {
    promise: promise.then(() => ctx.host.clock.clearTimeout(timer)),
    cancel: () => {
      unlist();
      ctx.host.clock.clearTimeout(timer);
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
  ctx: CommandContext,
  input: { workerId: string; waitMs: number },
  claim: (tx: Tx) => ClaimAnswer,
): Promise<ClaimAnswer> {
  const deadline = ctx.host.clock.now() + input.waitMs;
  for (;;) {
    // Looked up on every pass: a failed commit replaces the workspace's work state.
    const work = ctx.env.work.get(ctx.ws);
    let parked: Parked | null = null;
    const answer = await ctx.host.execute(
      {
        ws: ctx.ws,
        command: 'queue.claim',
        principal: ctx.principal,
        idempotencyKey: ctx.idempotencyKey,
        recordAnswer: () => parked === null,
        payload: input,
      },
      (tx) => {
        const result = claim(tx);
        const remaining = deadline - tx.now;
        if (result.job === null && remaining > 0 && !ctx.env.work.closing) {
          // Parked inside the unit of work, so no enqueue can slip between the empty answer and the parking.
          const capabilities = (tx.get('worker', input.workerId).context as WorkerContext).capabilities;
          parked = park(
            ctx,
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
    if (ctx.env.work.closing) return answer;
  }
}

/**
 * Wakes the parked claim of a worker whose state just changed (paused, terminated, draining): claiming again, it
 * answers at once (INVALID_STATE_TRANSITION with the new state) instead of at the end of its wait.
 */
export function wakeClaimOf(ctx: CommandContext, workerId: string): void {
  const waiters = ctx.env.work.get(ctx.ws).claimWaiters;
  for (let i = waiters.length - 1; i >= 0; i--) {
    // Out of the list first: a woken claim that fails must not take the next enqueue's wake from another worker.
    if (waiters[i]!.workerId === workerId) waiters.splice(i, 1)[0]!.wake();
  }
}

/**
 * An allocate that waits up to `waitMs` (FIFO) while what it asks for is busy; `QUOTA_EXCEEDED` when time is up,
 * `STORAGE_UNAVAILABLE` at once when the runtime starts closing (the job keeps what it held).
 */
export async function allocateWithWait(
  ctx: CommandContext,
  input: { jobId: string; waitMs?: number | undefined },
  allocate: (tx: Tx, mayWait: boolean) => AllocateOutcome,
): Promise<{ allocation: Allocation }> {
  const deadline = ctx.host.clock.now() + (input.waitMs ?? 0);
  for (;;) {
    const work = ctx.env.work.get(ctx.ws);
    let parked: Parked | null = null;
    const outcome = await ctx.host.execute(
      {
        ws: ctx.ws,
        command: 'resources.allocate',
        principal: ctx.principal,
        idempotencyKey: ctx.idempotencyKey,
        recordAnswer: () => parked === null,
        payload: input,
      },
      (tx) => {
        const remaining = deadline - tx.now;
        const result = allocate(tx, remaining > 0 && !ctx.env.work.closing);
        if (!result.granted) {
          const resources = result.busy.map((b) => b.resource);
          parked = park(
            ctx,
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
    if (ctx.env.work.closing)
      throw new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is closing; the allocation was not made.', {
        jobId: input.jobId,
      });
  }
}
