import type { ClaimAnswer, HeartbeatAnswer, IssuedToken } from '../contracts/answers.ts';
import type { CommandContext } from './command.ts';

/** The lease a token is issued under: its fencing number, expiry and holder. */
export interface LeaseGrant {
  jobId: string;
  workerId: string;
  fence: number;
  expiresAt: number;
}

/** How long a phase token of the job's workflow lives (`token_expiry_seconds`). */
function ttlOf(ctx: CommandContext, workflow: { name: string; version: number }): number {
  return (
    ctx.host.env.workflows.find(ctx.ws, workflow.name, workflow.version)?.workflow.token_expiry_seconds ??
    7200
  );
}

/**
 * A phase token for the job's current phase (read after the commit, from its phase actor), or undefined when the
 * job has no active phase actor (no workflow, or its workflow has ended).
 */
export async function mintPhaseToken(
  ctx: CommandContext,
  lease: LeaseGrant,
): Promise<{ token: IssuedToken; phase: string; epoch: number } | undefined> {
  const phase = await ctx.host.view(ctx.ws, 'phase', lease.jobId);
  if (phase?.value !== 'ACTIVE') return undefined;
  const { context: c } = phase;
  const token = await ctx.phaseTokens.mintPhaseToken({
    workspaceId: ctx.ws,
    jobId: lease.jobId,
    workerId: lease.workerId,
    phase: c.phase,
    epoch: c.epoch,
    fence: lease.fence,
    ttlSeconds: ttlOf(ctx, c.workflow),
  });
  return { token, phase: c.phase, epoch: c.epoch };
}

/** A check token for the lease, lapsing with it; undefined once the lease has lapsed. */
export async function mintCheckToken(
  ctx: CommandContext,
  lease: LeaseGrant,
): Promise<IssuedToken | undefined> {
  if (lease.expiresAt <= ctx.host.clock.now()) return undefined;
  return ctx.phaseTokens.mintCheckToken({
    workspaceId: ctx.ws,
    jobId: lease.jobId,
    fence: lease.fence,
    expiresAt: lease.expiresAt,
  });
}

/** A claim of a job under a workflow, with its phase and check tokens (minted after the commit, never stored). */
export async function withPhaseTokens(ctx: CommandContext, answer: ClaimAnswer): Promise<ClaimAnswer> {
  const { job, lease, workOrder } = answer;
  if (!job?.workflow || !lease || !workOrder) return answer;
  const grant = {
    jobId: job.id,
    workerId: workOrder.workerId,
    fence: lease.fence,
    expiresAt: lease.expiresAt,
  };
  const [phase, checkToken] = await Promise.all([mintPhaseToken(ctx, grant), mintCheckToken(ctx, grant)]);
  return {
    ...answer,
    ...(phase ? { phaseToken: phase.token } : {}),
    ...(checkToken ? { checkToken } : {}),
  };
}

/** A heartbeat that extended the lease of a job under a workflow carries a fresh check token for that lease. */
export async function withCheckToken(
  ctx: CommandContext,
  answer: HeartbeatAnswer,
  workerId: string,
): Promise<HeartbeatAnswer> {
  if (answer.leaseExpiresAt === null || answer.directive === 'terminate') return answer;
  const worker = await ctx.host.view(ctx.ws, 'worker', workerId);
  const jobId = worker?.context.jobId;
  if (!jobId) return answer;
  const job = await ctx.host.view(ctx.ws, 'job', jobId);
  const c = job?.context;
  if (job?.value !== 'RUNNING' || !c?.workflow || c.leaseFence === null || c.workerId !== workerId)
    return answer;
  const checkToken = await mintCheckToken(ctx, {
    jobId,
    workerId,
    fence: Number(c.leaseFence),
    expiresAt: answer.leaseExpiresAt,
  });
  return checkToken ? { ...answer, checkToken } : answer;
}
