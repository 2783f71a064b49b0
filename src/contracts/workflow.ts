import { z } from 'zod';
import { PathGlobSchema, PhaseToolPolicySchema } from './tool-policy.ts';

// `agent_workflow.yaml` (issue 16): phases, transitions with gates and required artifacts, triggers, enforcement.
// Fields are snake_case, as in every file a user writes; published as `schemas/agent_workflow.schema.json`.

/** A phase id: upper-case by habit (`PLAN`, `TDD`), letters, digits, `_` and `-`. */
export const PhaseIdSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'a phase id is a letter, then up to 63 letters, digits, _ or -')
  .meta({ id: 'PhaseId' });

/** An artifact name: one of the built-in seven or a name given a schema file in `artifact_schemas`. */
export const ArtifactNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'an artifact name is lower-case letters, digits and _')
  .meta({ id: 'ArtifactName' });

/** Where a gate takes its test evidence from: a run the node made itself, or the agent's `test_result`. */
export const EvidenceSchema = z.enum(['verified', 'reported']).meta({ id: 'WorkflowEvidence' });
export type Evidence = z.infer<typeof EvidenceSchema>;

/** `strict` refuses a transition with blockers; `permissive` records them, warns and lets it through. */
export const EnforcementModeSchema = z.enum(['strict', 'permissive']).meta({ id: 'EnforcementMode' });
export type EnforcementMode = z.infer<typeof EnforcementModeSchema>;

/** The gates that take no parameters. */
export const SimpleGateNames = [
  'plan_has_acceptance_criteria',
  'tests_are_failing',
  'all_tests_pass',
  'no_blocking_issues',
  'changes_requested',
] as const;
/** Every gate a workflow may name. */
export const GateNames = [...SimpleGateNames, 'command'] as const;
export const GateNameSchema = z.enum(GateNames).meta({ id: 'GateName' });
export type GateName = z.infer<typeof GateNameSchema>;

const gateError = { error: `unknown gate: gates are ${GateNames.join(', ')}` };

/** A gate without parameters, as an object (`{ gate: all_tests_pass, evidence: verified }`). */
const SimpleGateSchema = z
  .object({
    gate: z.enum(SimpleGateNames, gateError),
    /** Overrides the transition's `evidence` for this gate. */
    evidence: EvidenceSchema.optional(),
  })
  .strict();

/** A `command` gate: a command named in the node's allowlist must exit 0 (`pass`) or non-zero (`fail`). */
const CommandGateSchema = z
  .object({
    gate: z.literal('command'),
    command: z.string().min(1).max(128),
    expect: z.enum(['pass', 'fail']).default('pass'),
  })
  .strict();

/** One gate of a transition: a bare name, or an object with its parameters. */
export const GateSpecSchema = z
  .union([z.enum(SimpleGateNames), SimpleGateSchema, CommandGateSchema], {
    error: `unknown gate or bad parameters: a gate is one of ${SimpleGateNames.join(', ')}, or { gate: command, command: NAME, expect: pass|fail }`,
  })
  .meta({ id: 'GateSpec', description: 'A gate name, or { gate, ... } with its parameters.' });
export type GateSpec = z.output<typeof GateSpecSchema>;

/** One phase of a workflow. */
export const PhaseSchema = z
  .object({
    id: PhaseIdSchema,
    description: z.string().max(2_000).default(''),
    /** Artifacts the phase must produce: every transition out of it requires them. */
    artifacts: z.array(ArtifactNameSchema).max(32).default([]),
    /** The phase's tool policy (enforced by the tool check; the default is to deny everything but reads). */
    tools: PhaseToolPolicySchema.default({
      allow: [],
      ask: [],
      deny: [],
      default: 'deny',
      read: { allow: ['**'], deny: [] },
      write: { allow: [], deny: [] },
      commands: { allow: [], deny: [] },
      mcp: [],
    }),
    /** Globs of the test files in this phase (`tests_are_failing` counts failures in changed files matching them). */
    test_files: z.array(PathGlobSchema).max(64).optional(),
    /** A final phase ends the workflow: it has no transitions out. */
    final: z.boolean().default(false),
  })
  .strict()
  .meta({ id: 'WorkflowPhase' });
export type Phase = z.output<typeof PhaseSchema>;

/** One allowed move between phases. */
export const TransitionSchema = z
  .object({
    from: PhaseIdSchema,
    to: PhaseIdSchema,
    /** A label for the move (`changes_requested`). */
    name: z.string().min(1).max(64).optional(),
    gates: z.array(GateSpecSchema).max(32).default([]),
    /** Artifacts required for this move, besides those the `from` phase must produce. */
    artifacts: z.array(ArtifactNameSchema).max(32).default([]),
    /** Where the test gates take their evidence: `verified` (the node ran the tests) or `reported`. */
    evidence: EvidenceSchema.default('reported'),
  })
  .strict()
  .meta({ id: 'WorkflowTransition' });
export type Transition = z.output<typeof TransitionSchema>;

/** Reviews to spawn when a phase is entered. */
export const SpawnReviewsSchema = z
  .object({
    count: z.number().int().min(1).max(16),
    capability: z.string().min(1).max(64).default('review'),
  })
  .strict()
  .meta({ id: 'SpawnReviews' });

/** What happens on entering a phase. */
export const TriggerSchema = z
  .object({
    on_enter: PhaseIdSchema,
    spawn_reviews: SpawnReviewsSchema,
  })
  .strict()
  .meta({ id: 'WorkflowTrigger' });
export type Trigger = z.output<typeof TriggerSchema>;

/** A workflow's name: `default`, `acme-review`. */
export const WorkflowNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a workflow name matches ^[a-z0-9][a-z0-9_-]{0,62}$');

/** The whole `agent_workflow.yaml`. */
export const WorkflowSchema = z
  .object({
    /** The workflow's name (`default`); jobs name the workflow they follow. */
    name: WorkflowNameSchema,
    /** The workflow's own version; a job keeps the version it started with. */
    version: z.number().int().min(1),
    description: z.string().max(4_000).default(''),
    enforcement: EnforcementModeSchema.default('strict'),
    /** How long a phase token lives. */
    token_expiry_seconds: z.number().int().min(60).max(604_800).default(7_200),
    /** How many times the work may enter a reviewing phase (one round each). */
    max_review_rounds: z.number().int().min(1).max(100).default(3),
    /** The command (a name in the node's allowlist) that runs the tests for verified evidence. */
    test_command: z.string().min(1).max(128).default('test'),
    /** Globs of test files, for phases that name none. */
    test_files: z
      .array(PathGlobSchema)
      .max(64)
      .default(['**/*.test.*', '**/*.spec.*', '**/test/**', '**/tests/**', '**/__tests__/**']),
    /** The first phase (default: the first listed). */
    initial: PhaseIdSchema.optional(),
    phases: z.array(PhaseSchema).min(1).max(64),
    transitions: z.array(TransitionSchema).max(512).default([]),
    triggers: z.array(TriggerSchema).max(64).default([]),
    /** JSON Schema files (relative to the workflow file) for artifacts beyond the built-in seven. */
    artifact_schemas: z.record(ArtifactNameSchema, z.string().min(1).max(1_024)).default({}),
  })
  .strict()
  .meta({
    id: 'AgentWorkflow',
    title: 'agent_workflow.yaml',
    description: 'Overseer workflow: phases, transitions with gates and artifacts, triggers, enforcement.',
  });
export type Workflow = z.output<typeof WorkflowSchema>;
export type WorkflowInput = z.input<typeof WorkflowSchema>;

/** What held a transition back: a gate, a missing or invalid artifact, or the transition itself. */
export const TransitionBlockerSchema = z
  .object({
    /** A gate name, or `artifact`, `transition` (not declared), `max_review_rounds`. */
    gate: z.string(),
    reason: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'TransitionBlocker' });
export type TransitionBlocker = z.infer<typeof TransitionBlockerSchema>;

/** The answer to a transition request: `{ allowed: false, blockers }` when refused. */
export const TransitionDecisionSchema = z
  .object({
    allowed: z.boolean(),
    blockers: z.array(TransitionBlockerSchema),
    /** Permissive mode let the transition through despite its blockers (journaled as a `warn` event). */
    warned: z.boolean(),
  })
  .meta({ id: 'TransitionDecision' });
export type TransitionDecision = z.infer<typeof TransitionDecisionSchema>;
