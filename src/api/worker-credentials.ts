import type { HeartbeatAnswer } from '../contracts/answers.ts';
import type { Worker } from '../contracts/worker.ts';
import { WORKER_CREDENTIAL_TTL_SECONDS, type WorkerCredential } from './auth.ts';
import type { CommandContext, Secrets } from './command.ts';
import { withCheckToken } from './phase-grants.ts';

/** A registered worker with its own credential (minted after the commit; never stored). */
export type WorkerRegistration = Worker & { credential: WorkerCredential };

/** Registering a worker answers it with a fresh credential bound to it (a replay mints another). */
export const registrationSecrets: Secrets<Worker, WorkerRegistration> = {
  reveal: async (ctx, worker) => ({
    ...worker,
    credential: await ctx.credentials.mintWorkerCredential(ctx.ws, worker.id),
  }),
};

/** Whether a worker's own credential is past half its life: its heartbeat answer then carries a renewal. */
function renewalDue(ctx: CommandContext): boolean {
  const { workerId, expiresAt } = ctx.principal;
  if (workerId === undefined || expiresAt === undefined) return false;
  return expiresAt - ctx.host.clock.now() < (WORKER_CREDENTIAL_TTL_SECONDS * 1000) / 2;
}

/**
 * A heartbeat under a worker's own credential renews that credential before it lapses (never once terminated); one
 * that extended the lease of a job under a workflow carries a fresh check token for it.
 */
export const heartbeatSecrets: Secrets<HeartbeatAnswer> = {
  reveal: async (ctx, answer, input) => {
    const renewed =
      answer.directive !== 'terminate' && renewalDue(ctx)
        ? {
            ...answer,
            credential: await ctx.credentials.mintWorkerCredential(ctx.ws, ctx.principal.workerId!),
          }
        : answer;
    return withCheckToken(ctx, renewed, (input as { workerId: string }).workerId);
  },
};
