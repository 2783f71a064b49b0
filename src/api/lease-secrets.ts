import type { ClaimAnswer, CompleteAnswer } from '../contracts/answers.ts';
import { rekeyLease } from '../actors/services/queue.ts';
import { withoutLeaseSecret } from '../actors/work/lease-secret.ts';
import type { CommandContext, Secrets } from './command.ts';
import { checkOwner } from './ownership.ts';
import { withPhaseTokens } from './phase-grants.ts';

/**
 * A claim answer as its caller gets it (phase and check tokens too, for a job under a workflow; the idempotency
 * record never holds them): a fresh claim carries its secret already; one replayed from an idempotency
 * record (stored without it) gets a new secret in a unit of work of its own, checked like the claim itself.
 */
export async function revealLease(ctx: CommandContext, answer: ClaimAnswer): Promise<ClaimAnswer> {
  if (!answer.lease || answer.lease.token !== undefined || !answer.workOrder)
    return withPhaseTokens(ctx, answer);
  const workerId = answer.workOrder.workerId;
  const rekeyed = await ctx.host.execute(
    { ws: ctx.ws, command: 'queue.claim', principal: ctx.principal.sub },
    (tx) => {
      checkOwner(tx, ctx.principal, { worker: 'workerId' }, { workerId });
      return rekeyLease(tx, answer);
    },
  );
  return withPhaseTokens(ctx, rekeyed);
}

/** The secrets of a completion that claimed the next job (`claimNext`). */
export const completionSecrets: Secrets<CompleteAnswer> = {
  stored: (answer) => (answer.next ? { ...answer, next: withoutLeaseSecret(answer.next) } : answer),
  reveal: async (ctx, answer) =>
    answer.next ? { ...answer, next: await revealLease(ctx, answer.next) } : answer,
};
