import { z } from 'zod';
import { IdSchema } from './common.ts';
import { IssuedTokenSchema } from './answers.ts';
import { JobSchema, JobStatusSchema } from './job.ts';
import { ArtifactRecordSchema, GateSummarySchema, PhaseViewSchema } from './phase-view.ts';
import { PhaseToolPolicySchema } from './tool-policy.ts';
import {
  ArtifactNameSchema,
  EvidenceSchema,
  GateSpecSchema,
  PhaseIdSchema,
  TransitionBlockerSchema,
} from './workflow.ts';

// The commands an agent works a workflow job with: transition, snapshot, token refresh (issue 16).

/** `workflow.transition`: move the job of the phase token to another phase. */
export const TransitionRequestSchema = z
  .object({
    /** The job (default: the phase token's); when given it must be the token's. */
    jobId: IdSchema.optional(),
    /** The phase the caller believes the job is in: another answers 409 INVALID_STATE_TRANSITION. */
    currentPhase: PhaseIdSchema,
    targetPhase: PhaseIdSchema,
    /** Artifacts handed in with the move, by name, each the artifact's JSON (`plan`, `test_result`, …). */
    artifacts: z.record(ArtifactNameSchema, z.unknown()).default({}),
  })
  .strict()
  .meta({ id: 'TransitionRequest' });

/** What a transition answers: allowed with the new phase and its token, or refused with its blockers. */
export const TransitionAnswerSchema = z
  .object({
    allowed: z.boolean(),
    phase: z.string().exactOptional().describe('The phase the job is in now (allowed moves).'),
    epoch: z.number().int().exactOptional(),
    phaseToken: IssuedTokenSchema.exactOptional().describe(
      'The token of the new phase (none once the workflow ended: the job is complete).',
    ),
    blockers: z
      .array(TransitionBlockerSchema)
      .describe('What held the move back (or, in permissive mode, what it let through).'),
    warned: z.boolean().describe('Permissive mode let the move through despite its blockers.'),
  })
  .meta({ id: 'TransitionAnswer' });
export type TransitionAnswer = z.infer<typeof TransitionAnswerSchema>;

/** `state.snapshot`: the job of the token (phase or check token); `jobId`, when given, must be its job. */
export const SnapshotQuerySchema = z
  .object({ jobId: IdSchema.optional() })
  .strict()
  .meta({ id: 'SnapshotQuery' });

/** A transition out of the current phase, as the snapshot shows it. */
const AllowedTransitionSchema = z.object({
  to: z.string(),
  name: z.string().exactOptional(),
  gates: z.array(GateSpecSchema),
  artifacts: z.array(z.string()).describe("Artifacts the move requires (the phase's and the transition's)."),
  evidence: EvidenceSchema,
});

/** What an agent (or its hook) sees of its job: the task, the phase and what it allows, the work around it. */
export const StateSnapshotSchema = z
  .object({
    job: JobSchema,
    phase: PhaseViewSchema,
    allows: z.object({
      description: z.string(),
      tools: PhaseToolPolicySchema,
      transitions: z.array(AllowedTransitionSchema),
    }),
    dependencies: z.array(z.object({ id: z.string(), title: z.string(), status: JobStatusSchema })),
    completedTasks: z
      .array(z.object({ id: z.string(), title: z.string(), taskId: z.string().nullable() }))
      .describe('Completed jobs of the same workstream.'),
    blockers: z.array(GateSummarySchema).describe('The gates of the last move that did not pass.'),
    artifacts: z.record(z.string(), ArtifactRecordSchema),
  })
  .meta({ id: 'StateSnapshot' });
export type StateSnapshot = z.infer<typeof StateSnapshotSchema>;

/** `tokens.refresh`: with a phase token, nothing (its job); with the worker's credential, the job it holds. */
export const TokenRefreshSchema = z
  .object({ jobId: IdSchema.optional() })
  .strict()
  .meta({ id: 'TokenRefresh' });

/** A fresh phase token for the job's current phase, and a check token for its lease. */
export const TokenRefreshAnswerSchema = z
  .object({
    jobId: z.string(),
    phase: z.string(),
    epoch: z.number().int(),
    phaseToken: IssuedTokenSchema,
    checkToken: IssuedTokenSchema.exactOptional(),
  })
  .meta({ id: 'TokenRefreshAnswer' });
export type TokenRefreshAnswer = z.infer<typeof TokenRefreshAnswerSchema>;

/** `workflow.contract`: the contract of a job's workflow, for an agent's prompt. */
export const ContractQuerySchema = z.object({ jobId: IdSchema }).strict().meta({ id: 'ContractQuery' });

/** The contract of a job's workflow rendered as Markdown. */
export const ContractAnswerSchema = z
  .object({
    jobId: z.string(),
    workflow: z.object({ name: z.string(), version: z.number().int() }),
    phase: z.string().nullable().describe('The phase the job is in (null before its first claim).'),
    markdown: z
      .string()
      .describe(
        'The phases in order, what each must produce and allows, the gates of each move, how to call Overseer.',
      ),
  })
  .meta({ id: 'WorkflowContract' });
export type ContractAnswer = z.infer<typeof ContractAnswerSchema>;
