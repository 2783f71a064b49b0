import { OverseerError } from '../../core/errors.ts';
import {
  StateSnapshotSchema,
  SnapshotQuerySchema,
  TokenRefreshAnswerSchema,
  TokenRefreshSchema,
  TransitionAnswerSchema,
  TransitionRequestSchema,
  type StateSnapshot,
  type TransitionAnswer,
} from '../../contracts/phase-commands.ts';
import type { Job, JobStatus } from '../../contracts/job.ts';
import { phaseFactsOf } from '../../actors/services/phases.ts';
import { artifactKey, transitionPhase, type StoredArtifact } from '../../actors/services/transition.ts';
import { jobView, phaseView } from '../../actors/views.ts';
import type { SnapshotView } from '../../actors/actor-reads.ts';
import { checkCheckClaims, checkPhaseClaims } from '../../domain/workflow/check-phase-claims.ts';
import { findTransition } from '../../domain/workflow/plan-transition.ts';
import { defineCommand, query, type CommandContext } from '../command.ts';
import { checkOwner } from '../ownership.ts';
import { mintCheckToken, mintPhaseToken } from '../phase-grants.ts';
import { gatherEvidence } from '../transition-evidence.ts';
import { body, query as fromQuery } from '../route-input.ts';
import { EXAMPLE_JOB_ID } from './refs.ts';

/** The job a token acts on: its own; a `jobId` given must be that one (else PHASE_TOKEN_INVALID). */
export function tokenJob(claims: { job: string }, jobId: string | undefined): string {
  if (jobId !== undefined && jobId !== claims.job)
    throw new OverseerError('PHASE_TOKEN_INVALID', 'This token was issued for another job.', {
      reason: 'OTHER_JOB',
    });
  return claims.job;
}

/** The job and its phase actor, read after any pending change of them is durable (NOT_FOUND: no such job). */
export async function jobAndPhase(
  ctx: CommandContext,
  jobId: string,
): Promise<{ job: SnapshotView<'job'>; phase: SnapshotView<'phase'> | undefined }> {
  const [job, phase] = await Promise.all([
    ctx.host.view(ctx.ws, 'job', jobId),
    ctx.host.view(ctx.ws, 'phase', jobId),
  ]);
  if (!job)
    throw new OverseerError('NOT_FOUND', `No job ${jobId} in workspace ${ctx.ws}.`, {
      kind: 'job',
      id: jobId,
    });
  return { job, phase };
}

/** The bodies of the artifacts a job handed in so far, by name (from the `artifacts` store). */
function storedArtifacts(ctx: CommandContext, phase: SnapshotView<'phase'>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, rec] of Object.entries(phase.context.artifacts)) {
    const stored = ctx.host.store.get(
      'artifacts',
      artifactKey(ctx.ws, phase.context.jobId, name, rec.epoch),
    ) as StoredArtifact | undefined;
    if (stored) out[name] = stored.body;
  }
  return out;
}

/** The workflow a phase actor follows. */
function workflowOfPhase(ctx: CommandContext, phase: SnapshotView<'phase'>) {
  const { name, version } = phase.context.workflow;
  const found = ctx.host.env.workflows.find(ctx.ws, name, version);
  if (!found)
    throw new OverseerError('WORKFLOW_NOT_FOUND', `Workflow ${name}@${version} is not registered.`, {
      name,
      version,
    });
  return found.workflow;
}

async function transition(
  ctx: CommandContext,
  input: {
    jobId?: string | undefined;
    currentPhase: string;
    targetPhase: string;
    artifacts: Record<string, unknown>;
  },
): Promise<TransitionAnswer> {
  const claims = ctx.principal.phase!;
  const jobId = tokenJob(claims, input.jobId);
  const { job, phase } = await jobAndPhase(ctx, jobId);
  // Checked again in the unit of work; here so a stale token starts no test run. With an idempotency key the unit
  // of work decides: a replay of a move that was made answers it again (with a token for the current phase).
  let fresh = true;
  try {
    checkPhaseClaims(claims, phaseFactsOf(ctx.ws, job, phase));
  } catch (err) {
    if (ctx.idempotencyKey === undefined) throw err;
    fresh = false;
  }
  const stored = fresh && phase ? storedArtifacts(ctx, phase) : {};
  const evidence =
    fresh && phase && input.currentPhase === phase.context.phase
      ? await gatherEvidence(
          ctx,
          { id: jobId, workdir: job.context.spec.execution.workdir },
          workflowOfPhase(ctx, phase),
          phase.context,
          input.targetPhase,
          input.artifacts,
        )
      : {};
  const outcome = await ctx.host.execute(
    {
      ws: ctx.ws,
      command: 'workflow.transition',
      principal: ctx.principal.sub,
      idempotencyKey: ctx.idempotencyKey,
      payload: { ...input, jobId },
    },
    (tx) =>
      transitionPhase(tx, {
        claims,
        jobId,
        currentPhase: input.currentPhase,
        targetPhase: input.targetPhase,
        artifacts: input.artifacts,
        stored,
        evidence,
      }),
  );
  if (!outcome.allowed) return { allowed: false, blockers: outcome.blockers, warned: false };
  const minted = outcome.final
    ? undefined
    : await mintPhaseToken(ctx, { jobId, workerId: claims.wrk, fence: claims.fence, expiresAt: 0 });
  return {
    allowed: true,
    phase: outcome.phase!,
    epoch: outcome.epoch!,
    ...(minted ? { phaseToken: minted.token } : {}),
    blockers: outcome.blockers,
    warned: outcome.warned,
  };
}

/** The dependencies of a job with their status. */
async function dependencies(ctx: CommandContext, job: Job): Promise<StateSnapshot['dependencies']> {
  const views = await Promise.all(job.dependsOn.map((id) => ctx.host.view(ctx.ws, 'job', id)));
  return views.flatMap((v) =>
    v ? [{ id: v.context.id, title: v.context.spec.title, status: v.value as JobStatus }] : [],
  );
}

/** The completed jobs of the job's workstream (at most 200). */
async function completedTasks(ctx: CommandContext, job: Job): Promise<StateSnapshot['completedTasks']> {
  if (job.workstreamId === null) return [];
  const ws = await ctx.host.view(ctx.ws, 'workstream', job.workstreamId);
  const ids = (ws?.context.jobIds ?? []).filter((id) => id !== job.id).slice(0, 200);
  const views = await Promise.all(ids.map((id) => ctx.host.view(ctx.ws, 'job', id)));
  return views.flatMap((v) =>
    v?.value === 'COMPLETED'
      ? [{ id: v.context.id, title: v.context.spec.title, taskId: v.context.taskId }]
      : [],
  );
}

async function snapshot(ctx: CommandContext, input: { jobId?: string | undefined }): Promise<StateSnapshot> {
  const { phase: phaseClaims, check } = ctx.principal;
  const jobId = tokenJob((phaseClaims ?? check)!, input.jobId);
  const { job, phase } = await jobAndPhase(ctx, jobId);
  const facts = phaseFactsOf(ctx.ws, job, phase);
  if (phaseClaims) checkPhaseClaims(phaseClaims, facts);
  else checkCheckClaims(check!, facts);
  if (!phase) throw new OverseerError('PHASE_TOKEN_STALE', 'The job has no phase.', { reason: 'OLD_PHASE' });
  const workflow = workflowOfPhase(ctx, phase);
  const current = workflow.phases.find((p) => p.id === phase.context.phase)!;
  const view = jobView(job);
  const pv = phaseView(phase);
  return {
    job: view,
    phase: pv,
    allows: {
      description: current.description,
      tools: current.tools,
      transitions: workflow.transitions
        .filter((t) => t.from === current.id)
        .map((t) => {
          const declared = findTransition(workflow, t.from, t.to)!;
          return {
            to: t.to,
            ...(t.name !== undefined ? { name: t.name } : {}),
            gates: declared.gates,
            artifacts: [...new Set([...current.artifacts, ...declared.artifacts])],
            evidence: declared.evidence,
          };
        }),
    },
    dependencies: await dependencies(ctx, view),
    completedTasks: await completedTasks(ctx, view),
    blockers: pv.lastGates.filter((g) => g.outcome !== 'pass'),
    artifacts: pv.artifacts,
  };
}

async function refresh(ctx: CommandContext, input: { jobId?: string | undefined }) {
  const claims = ctx.principal.phase;
  let jobId: string;
  if (claims) jobId = tokenJob(claims, input.jobId);
  else if (input.jobId !== undefined) jobId = input.jobId;
  else
    throw new OverseerError('VALIDATION_FAILED', 'Name the job (jobId) whose tokens to refresh.', {
      field: 'jobId',
    });
  const { job, phase } = await jobAndPhase(ctx, jobId);
  const facts = phaseFactsOf(ctx.ws, job, phase);
  if (claims) checkPhaseClaims(claims, facts);
  // An idempotency key is checked against its payload (a replay mints fresh tokens); a credential or token other
  // than the phase token must own the job: the lease holder's own, the unbound token that registered it, a
  // supervisor's.
  await ctx.host.execute(
    {
      ws: ctx.ws,
      command: 'tokens.refresh',
      principal: ctx.principal.sub,
      idempotencyKey: ctx.idempotencyKey,
      payload: { jobId },
    },
    (tx) => {
      if (!claims) checkOwner(tx, ctx.principal, { job: 'jobId' }, { jobId });
      return null;
    },
  );
  if (!claims && !facts.leaseLive)
    throw new OverseerError('LEASE_LOST', `Job ${jobId} holds no live lease; claim it again.`, { jobId });
  const grant = {
    jobId,
    workerId: facts.workerId!,
    fence: facts.fence!,
    expiresAt: job.context.leaseExpiresAt ?? 0,
  };
  const [minted, checkToken] = await Promise.all([mintPhaseToken(ctx, grant), mintCheckToken(ctx, grant)]);
  if (!minted)
    throw new OverseerError('PHASE_TOKEN_STALE', `Job ${jobId} has no active phase.`, {
      reason: 'OLD_PHASE',
    });
  return {
    jobId,
    phase: minted.phase,
    epoch: minted.epoch,
    phaseToken: minted.token,
    ...(checkToken ? { checkToken } : {}),
  };
}

/** The workflow commands an agent works a job with: transition, snapshot, refresh (issue 16). */
export const workflowPhaseCommands = [
  defineCommand({
    name: 'workflow.transition',
    summary:
      "Move the phase token's job to another phase: allowed (the new phase and its token) or refused with blockers.",
    input: TransitionRequestSchema,
    output: TransitionAnswerSchema,
    scopes: [],
    mutates: true,
    tokens: { phase: true },
    errors: ['PHASE_TOKEN_INVALID', 'PHASE_TOKEN_STALE', 'INVALID_STATE_TRANSITION', 'WORKFLOW_NOT_FOUND'],
    example: {
      currentPhase: 'PLAN',
      targetPhase: 'TDD',
      artifacts: {
        plan: { summary: 'Add login.', acceptance_criteria: ['A user logs in with a password.'] },
        scope: { files: ['src/login.ts'] },
      },
    },
    http: [{ method: 'POST', path: '/api/v1/tasks/transition', tag: 'workflow', input: body }],
    run: transition,
  }),
  query({
    name: 'state.snapshot',
    summary:
      'The job of a phase or check token: its phase, what the phase allows, dependencies, completed tasks of its workstream, blockers, artifacts.',
    input: SnapshotQuerySchema,
    output: StateSnapshotSchema,
    scopes: [],
    tokens: { phase: true, check: true },
    errors: ['PHASE_TOKEN_INVALID', 'PHASE_TOKEN_STALE'],
    http: [{ method: 'GET', path: '/api/v1/state/snapshot', tag: 'workflow', input: fromQuery }],
    run: snapshot,
  }),
  defineCommand({
    name: 'tokens.refresh',
    mutates: true,
    summary:
      "A new phase token (and check token) for the job's current phase while its lease lives: with the phase token (expired or not) or the lease holder's credential.",
    input: TokenRefreshSchema,
    output: TokenRefreshAnswerSchema,
    scopes: ['queue:work', 'supervisor:write'],
    tokens: { phase: true, expiredPhase: true, apiTokens: true },
    errors: ['PHASE_TOKEN_INVALID', 'PHASE_TOKEN_STALE', 'NOT_YOUR_WORKER', 'LEASE_LOST'],
    example: { jobId: EXAMPLE_JOB_ID },
    http: [{ method: 'POST', path: '/api/v1/tokens/refresh', tag: 'workflow', input: body }],
    run: refresh,
  }),
] as const;
