import { z } from 'zod';

// The artifacts a workflow phase produces (issue 16). Agents submit them as JSON with snake_case fields, like the
// workflow file; each schema is published as `schemas/<name>.schema.json`.

const Text = z.string().min(1).max(10_000);
const ShortText = z.string().min(1).max(1_000);
/** A path relative to the job's root, `/`-separated. */
const RelativePath = z.string().min(1).max(1_024);
/** A git tree hash (SHA-1 or SHA-256, hex). */
export const TreeHashSchema = z
  .string()
  .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, 'a git tree hash is 40 or 64 lower-case hex digits')
  .meta({ id: 'TreeHash' });

/** PLAN's output: what will be done and how it will be judged. */
export const PlanArtifactSchema = z
  .object({
    summary: Text,
    /** What must hold when the job is done; the `plan_has_acceptance_criteria` gate wants ≥ 1, none blank. */
    acceptance_criteria: z.array(z.string().max(2_000)).max(200),
    steps: z.array(ShortText).max(200).optional(),
    risks: z.array(ShortText).max(100).optional(),
    out_of_scope: z.array(ShortText).max(100).optional(),
  })
  .meta({ id: 'PlanArtifact', title: 'plan', description: 'The plan: summary, acceptance criteria, steps.' });
export type PlanArtifact = z.infer<typeof PlanArtifactSchema>;

/** Which files the work will touch, and why. */
export const ScopeArtifactSchema = z
  .object({
    summary: Text.optional(),
    files: z
      .array(
        z.object({
          path: RelativePath,
          change: z.enum(['create', 'modify', 'delete']),
          reason: ShortText.optional(),
        }),
      )
      .min(1)
      .max(1_000),
    out_of_scope: z.array(ShortText).max(100).optional(),
  })
  .meta({
    id: 'ScopeArtifact',
    title: 'scope',
    description: 'The files the work will create, modify or delete.',
  });
export type ScopeArtifact = z.infer<typeof ScopeArtifactSchema>;

/** TDD's output: the tests written before the implementation, each tied to an acceptance criterion. */
export const TestsArtifactSchema = z
  .object({
    files: z.array(RelativePath).min(1).max(1_000),
    cases: z
      .array(
        z.object({
          name: ShortText,
          file: RelativePath,
          /** The acceptance criterion (its text or 0-based index in the plan) the case checks. */
          criterion: z.union([ShortText, z.number().int().min(0)]).optional(),
        }),
      )
      .min(1)
      .max(5_000),
    /** The command that runs them (a name from the node's command allowlist, or the command line). */
    command: ShortText.optional(),
  })
  .meta({ id: 'TestsArtifact', title: 'tests', description: 'The tests written in TDD, before the code.' });
export type TestsArtifact = z.infer<typeof TestsArtifactSchema>;

/** The status of one test case in a report. */
export const TestCaseStatusSchema = z
  .enum(['passed', 'failed', 'skipped', 'todo'])
  .meta({ id: 'TestCaseStatus' });
export type TestCaseStatus = z.infer<typeof TestCaseStatusSchema>;

/** One test case of a run. */
export const TestCaseResultSchema = z
  .object({
    name: z.string().max(2_000),
    /** The file the case is in, as the runner reported it (relative or absolute). */
    file: z.string().max(2_048).optional(),
    status: TestCaseStatusSchema,
    message: z.string().max(20_000).optional(),
    duration_ms: z.number().min(0).optional(),
  })
  .meta({ id: 'TestCaseResult' });
export type TestCaseResult = z.infer<typeof TestCaseResultSchema>;

/** The report formats the parsers read. */
export const TestReportFormatSchema = z.enum(['tap', 'junit', 'node-spec']).meta({
  id: 'TestReportFormat',
  description: 'TAP 13/14 (node --test, vitest tap), JUnit XML, node --test spec.',
});
export type TestReportFormat = z.infer<typeof TestReportFormatSchema>;

/** A test run: its format, exit code, counts and cases (what the report parsers produce, too). */
export const TestResultArtifactSchema = z
  .object({
    format: TestReportFormatSchema,
    command: ShortText.optional(),
    /** The runner's exit code; null when it was killed by a signal. */
    exit_code: z.number().int().nullable(),
    /** The tree the tests ran on (`all_tests_pass` compares it with the tree being moved). */
    tree_hash: TreeHashSchema.optional(),
    counts: z.object({
      total: z.number().int().min(0),
      passed: z.number().int().min(0),
      failed: z.number().int().min(0),
      skipped: z.number().int().min(0),
      todo: z.number().int().min(0),
    }),
    cases: z.array(TestCaseResultSchema).max(100_000),
  })
  .meta({
    id: 'TestResultArtifact',
    title: 'test_result',
    description: 'A test run: exit code, counts, cases.',
  });
export type TestResultArtifact = z.infer<typeof TestResultArtifactSchema>;

/** IMPL's output: what was changed. */
export const ImplementationArtifactSchema = z
  .object({
    summary: Text,
    files_changed: z.array(RelativePath).min(1).max(5_000),
    tree_hash: TreeHashSchema.optional(),
    notes: z.array(ShortText).max(100).optional(),
  })
  .meta({
    id: 'ImplementationArtifact',
    title: 'implementation',
    description: 'What the implementation changed.',
  });
export type ImplementationArtifact = z.infer<typeof ImplementationArtifactSchema>;

/** How bad a review issue is. */
export const ReviewSeveritySchema = z
  .enum(['critical', 'major', 'minor', 'nit'])
  .meta({ id: 'ReviewSeverity' });

/** One reviewer's verdict on one review round. */
export const ReviewArtifactSchema = z
  .object({
    reviewer: ShortText.optional(),
    /** The review round (1 = first time in REVIEW); `no_blocking_issues` reads the current round's reviews. */
    round: z.number().int().min(1),
    verdict: z.enum(['approve', 'changes_requested', 'comment']),
    summary: Text.optional(),
    issues: z
      .array(
        z.object({
          severity: ReviewSeveritySchema,
          /** Whether the issue must be fixed before the work can complete. */
          blocking: z.boolean(),
          description: Text,
          file: RelativePath.optional(),
          line: z.number().int().min(1).optional(),
        }),
      )
      .max(1_000),
  })
  .meta({
    id: 'ReviewArtifact',
    title: 'review',
    description: "A reviewer's verdict and issues for one round.",
  });
export type ReviewArtifact = z.infer<typeof ReviewArtifactSchema>;

/** COMPLETE's input: each acceptance criterion and whether it is met. */
export const CompletionArtifactSchema = z
  .object({
    summary: Text,
    acceptance: z
      .array(
        z.object({
          criterion: z.string().min(1).max(2_000),
          met: z.boolean(),
          evidence: ShortText.optional(),
        }),
      )
      .min(1)
      .max(200),
    tree_hash: TreeHashSchema.optional(),
    follow_ups: z.array(ShortText).max(100).optional(),
  })
  .meta({
    id: 'CompletionArtifact',
    title: 'completion',
    description: 'The acceptance criteria, each met or not.',
  });
export type CompletionArtifact = z.infer<typeof CompletionArtifactSchema>;

/** The built-in artifact schemas by artifact name (a workflow may name further schema files). */
export const builtinArtifactSchemas = {
  plan: PlanArtifactSchema,
  scope: ScopeArtifactSchema,
  tests: TestsArtifactSchema,
  test_result: TestResultArtifactSchema,
  implementation: ImplementationArtifactSchema,
  review: ReviewArtifactSchema,
  completion: CompletionArtifactSchema,
} as const;

/** The name of a built-in artifact. */
export type BuiltinArtifactName = keyof typeof builtinArtifactSchemas;

/** Whether an artifact name has a built-in schema. */
export const isBuiltinArtifact = (name: string): name is BuiltinArtifactName =>
  Object.prototype.hasOwnProperty.call(builtinArtifactSchemas, name);
