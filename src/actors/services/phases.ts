import { compileArtifactSchema, type ArtifactValidator } from '../../domain/workflow/artifact-validation.ts';
import { OverseerError } from '../../core/errors.ts';
import type { Workflow } from '../../contracts/workflow.ts';
import type { PhaseFacts } from '../../domain/workflow/check-phase-claims.ts';
import type { JobContext } from '../../machines/job.ts';
import type { PhaseContext } from '../../machines/phase.ts';
import type { Tx } from '../tx.ts';

/** The workflow version a job follows, as registered in its workspace (WORKFLOW_NOT_FOUND if it vanished). */
export function workflowOf(tx: Pick<Tx, 'env' | 'ws'>, ref: { name: string; version: number }): Workflow {
  const found = tx.env.workflows.find(tx.ws, ref.name, ref.version);
  if (!found)
    throw new OverseerError(
      'WORKFLOW_NOT_FOUND',
      `Workflow ${ref.name}@${ref.version} is not registered in workspace ${tx.ws}.`,
      { name: ref.name, version: ref.version },
    );
  return found.workflow;
}

/** The compiled validators of each workflow version's own artifact schemas, by the version's digest. */
const compiledSchemas = new Map<string, Record<string, ArtifactValidator>>();

/**
 * The validators of a workflow version's own artifacts (`artifact_schemas`: name → the schema file it was put
 * with), compiled once per version (ajv); the built-in seven need none.
 */
export function artifactValidators(
  tx: Pick<Tx, 'env' | 'ws'>,
  ref: { name: string; version: number },
): Record<string, ArtifactValidator> {
  workflowOf(tx, ref);
  const found = tx.env.workflows.find(tx.ws, ref.name, ref.version)!;
  let validators = compiledSchemas.get(found.digest);
  if (!validators) {
    validators = {};
    for (const [name, path] of Object.entries(found.workflow.artifact_schemas)) {
      const document = found.schemas[path];
      if (document) validators[name] = compileArtifactSchema(name, document);
    }
    compiledSchemas.set(found.digest, validators);
  }
  return validators;
}

/** The first phase of a workflow: its `initial`, else the first listed. */
export const initialPhase = (w: Workflow): string => w.initial ?? w.phases[0]!.id;

/**
 * Creates the phase actor of a workflow job (id = the job id) on its first claim, in the claim's unit of work; a
 * later claim (after a lapse, a terminate, a retry) finds it and keeps its phase and artifacts. A job under no
 * workflow has none.
 */
export function startPhase(tx: Tx, jobId: string): void {
  const job = tx.get('job', jobId).context;
  if (!job.workflow || tx.find('phase', jobId)) return;
  const workflow = workflowOf(tx, job.workflow);
  tx.create(
    'phase',
    jobId,
    {
      jobId,
      workspaceId: tx.ws,
      workflow: job.workflow,
      phase: initialPhase(workflow),
      at: tx.now,
    },
    { event: 'START' },
  );
}

/** The facts a phase token is checked against, read in a unit of work: the job's phase and its lease. */
export function phaseFacts(tx: Tx, jobId: string): PhaseFacts {
  return phaseFactsOf(tx.ws, tx.get('job', jobId), tx.find('phase', jobId));
}

/** The facts a token is checked against, from the job's and its phase actor's snapshots (none: no phase yet). */
export function phaseFactsOf(
  ws: string,
  job: { value: unknown; context: JobContext },
  phase: { context: PhaseContext } | undefined,
): PhaseFacts {
  const c = job.context;
  return {
    workspaceId: ws,
    jobId: c.id,
    phase: phase?.context.phase ?? '',
    epoch: phase?.context.epoch ?? -1,
    fence: c.leaseFence === null ? undefined : Number(c.leaseFence),
    leaseLive: job.value === 'RUNNING' && c.leaseFence !== null,
    workerId: c.workerId ?? undefined,
  };
}
