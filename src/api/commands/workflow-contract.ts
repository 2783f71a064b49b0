import type { z } from 'zod';
import { OverseerError } from '../../core/errors.ts';
import { builtinArtifactSchemas, isBuiltinArtifact } from '../../contracts/artifacts.ts';
import { ContractAnswerSchema, ContractQuerySchema } from '../../contracts/phase-commands.ts';
import { renderContract } from '../../domain/workflow/contract.ts';
import { query, type CommandContext } from '../command.ts';
import { checkReader } from '../ownership.ts';
import { idOnly } from '../route-input.ts';
import { jobAndPhase, tokenJob } from './workflow.ts';

/** The required top-level fields of a built-in artifact (as a sender writes it: fields with defaults are optional). */
const builtinRequired = new Map(
  Object.entries(builtinArtifactSchemas).map(([name, schema]) => [
    name,
    Object.entries(schema.shape as Record<string, z.ZodType>)
      .filter(([, field]) => !field.safeParse(undefined).success)
      .map(([field]) => field),
  ]),
);

/** A reader of every job (`jobs:read`, supervisors, admins) reads any contract; others only that of the job they hold. */
const READERS = ['admin', 'jobs:read', 'supervisor:read', 'supervisor:write'];

async function contract(ctx: CommandContext, input: { jobId: string }) {
  const claims = ctx.principal.phase;
  const jobId = claims ? tokenJob(claims, input.jobId) : input.jobId;
  const { job, phase } = await jobAndPhase(ctx, jobId);
  const c = job.context;
  if (!claims && !ctx.principal.scopes.some((s) => READERS.includes(s))) {
    if (c.workerId === null)
      throw new OverseerError(
        'NOT_YOUR_WORKER',
        `Job ${jobId} is held by no worker; only its lease holder reads its contract.`,
        {
          jobId,
        },
      );
    await checkReader(ctx.host, ctx.ws, ctx.principal, c.workerId, { job: 'jobId' }, input);
  }
  const ref = phase?.context.workflow ?? c.workflow;
  if (!ref) throw new OverseerError('WORKFLOW_NOT_FOUND', `Job ${jobId} follows no workflow.`, { jobId });
  const found = ctx.host.env.workflows.find(ctx.ws, ref.name, ref.version);
  if (!found)
    throw new OverseerError('WORKFLOW_NOT_FOUND', `Workflow ${ref.name}@${ref.version} is not registered.`, {
      name: ref.name,
      version: ref.version,
    });
  const current = phase?.context.phase ?? null;
  return {
    jobId,
    workflow: { name: ref.name, version: ref.version },
    phase: current,
    markdown: renderContract({
      workflow: found.workflow,
      jobId,
      phase: current,
      requiredFields: (name) => (isBuiltinArtifact(name) ? builtinRequired.get(name) : undefined),
    }),
  };
}

/** `workflow.contract`: the contract of a job's workflow as Markdown, for the prompt of the agent working it. */
export const workflowContractCommand = query({
  name: 'workflow.contract',
  summary:
    "The contract of a job's workflow as Markdown for an agent's prompt: phases, what each needs and allows, gates, how to call Overseer.",
  input: ContractQuerySchema,
  output: ContractAnswerSchema,
  scopes: ['jobs:read', 'queue:work', 'supervisor:read'],
  tokens: { phase: true, apiTokens: true },
  errors: ['PHASE_TOKEN_INVALID', 'NOT_YOUR_WORKER', 'WORKFLOW_NOT_FOUND'],
  http: [{ method: 'GET', path: '/api/v1/jobs/:id/contract', tag: 'workflow', input: idOnly('jobId') }],
  run: contract,
});
