import {
  PlanArtifactSchema,
  ReviewArtifactSchema,
  TestResultArtifactSchema,
  type ReviewArtifact,
  type TestResultArtifact,
} from '../../contracts/artifacts.ts';
import type { Evidence, GateSpec, Phase, Workflow } from '../../contracts/workflow.ts';
import { formatPath } from './format-path.ts';
import { matchAnyGlob } from '../tool-policy/glob.ts';
import type { ParsedTestReport } from './parse-test-report.ts';

/** A test run the node made itself (verified evidence): its parsed report and the tree it ran on. */
export interface TestRunEvidence {
  report: ParsedTestReport;
  treeHash?: string;
}

/** A review slot of the current round that can hand in no review: its job and its replacement were lost. */
export interface LostReview {
  slot: number;
  jobs: readonly string[];
  reason: string;
}

/** The facts gates judge besides the artifacts, gathered by the caller (git, runners, the review store). */
export interface WorkflowEvidence {
  /** The node's own test run, for gates with `evidence: verified`. */
  testRun?: TestRunEvidence;
  /** Why the node has no test run of its own (no workdir, no allowlisted test command), for the gate's reason. */
  noTestRun?: string;
  /** Files changed during the current phase, relative to the job's root. */
  changedFiles?: readonly string[];
  /** The tree hash being moved to the next phase. */
  treeHash?: string;
  /** The results of `command` gates' commands, by command name. */
  commands?: Readonly<Record<string, { exitCode: number | null }>>;
  /** The reviews submitted so far (any round); read instead of the `review` artifact when given. */
  reviews?: readonly unknown[];
  /** Review slots of the current round whose jobs ended without a review (replaced once already). */
  lostReviews?: readonly LostReview[];
}

/** `pass`; `fail` (the evidence says no); `error` (there is no usable evidence: never a pass). */
export type GateOutcome = 'pass' | 'fail' | 'error';

/** What one gate concluded. */
export interface GateResult {
  gate: string;
  outcome: GateOutcome;
  reason: string;
  details: Record<string, unknown>;
}

/** Everything a gate reads. */
export interface GateInput {
  workflow: Workflow;
  /** The phase being left. */
  phase: Phase;
  /** The transition's evidence mode (a gate may override it). */
  evidence: Evidence;
  /** The current review round (0 before the first review). */
  round: number;
  artifacts: Readonly<Record<string, unknown>>;
  facts: WorkflowEvidence;
}

const result = (
  gate: string,
  outcome: GateOutcome,
  reason: string,
  details: Record<string, unknown> = {},
) => ({
  gate,
  outcome,
  reason,
  details,
});

/** The test run a gate judges: the node's own (verified) or the agent's `test_result` (reported). */
function testRun(
  gate: string,
  mode: Evidence,
  input: GateInput,
): { run: TestResultArtifact; tree?: string } | GateResult {
  if (mode === 'verified') {
    const own = input.facts.testRun;
    if (!own)
      return result(
        gate,
        'error',
        `verified evidence is required and the node has no test run of its own${input.facts.noTestRun ? `: ${input.facts.noTestRun}` : ''}`,
      );
    if (!own.report.ok)
      return result(gate, 'error', `the test run is no evidence: ${own.report.message}`, {
        error: own.report.error,
        ...(own.report.details ?? {}),
      });
    return own.treeHash === undefined
      ? { run: own.report.result }
      : { run: own.report.result, tree: own.treeHash };
  }
  const raw = input.artifacts['test_result'];
  if (raw === undefined) return result(gate, 'error', 'no test_result artifact was submitted');
  const parsed = TestResultArtifactSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = formatPath([
      'test_result',
      ...issue.path.filter((s): s is string | number => typeof s !== 'symbol'),
    ]);
    return result(gate, 'error', `test_result is invalid at ${field}: ${issue.message}`, { field });
  }
  const tree = parsed.data.tree_hash;
  return tree === undefined ? { run: parsed.data } : { run: parsed.data, tree };
}

const isGateResult = (x: unknown): x is GateResult => typeof x === 'object' && x !== null && 'outcome' in x;

/** A file name with `/` separators and no leading `./`. */
const slashPath = (file: string) => file.replace(/\\/g, '/').replace(/^\.\//, '');

/** Whether a reported file (relative or absolute) is the changed file `changed` (relative). */
const sameFile = (reported: string, changed: string) => {
  const r = slashPath(reported);
  return r === changed || r.endsWith(`/${changed}`);
};

function testsAreFailing(mode: Evidence, input: GateInput): GateResult {
  const gate = 'tests_are_failing';
  const got = testRun(gate, mode, input);
  if (isGateResult(got)) return got;
  const changed = input.facts.changedFiles;
  if (changed === undefined) return result(gate, 'error', 'the files changed in this phase are unknown');
  const globs = input.phase.test_files ?? input.workflow.test_files;
  const changedTests = changed.filter((f) => matchAnyGlob(globs, slashPath(f)));
  if (changedTests.length === 0)
    return result(gate, 'fail', 'no test file was changed in this phase', {
      changedFiles: [...changed],
      globs,
    });
  const failing = got.run.cases.filter(
    (c) => c.status === 'failed' && c.file !== undefined && changedTests.some((f) => sameFile(c.file!, f)),
  );
  if (failing.length === 0)
    return result(gate, 'fail', 'no test case fails in a test file changed in this phase', {
      changedTestFiles: changedTests,
      failed: got.run.counts.failed,
    });
  return result(gate, 'pass', `${failing.length} test case(s) fail in changed test files`, {
    failing: failing.map((c) => ({ name: c.name, file: c.file })),
  });
}

function allTestsPass(mode: Evidence, input: GateInput): GateResult {
  const gate = 'all_tests_pass';
  const got = testRun(gate, mode, input);
  if (isGateResult(got)) return got;
  const { counts } = got.run;
  const ran = counts.total - counts.skipped - counts.todo;
  const moving = input.facts.treeHash;
  if (moving === undefined) return result(gate, 'error', 'the tree hash being moved is unknown');
  if (got.tree === undefined) return result(gate, 'error', 'the test run does not say which tree it ran on');
  if (got.tree !== moving)
    return result(gate, 'fail', 'the tests ran on another tree than the one being moved', {
      testedTree: got.tree,
      movingTree: moving,
    });
  if (ran < 1) return result(gate, 'fail', 'no test ran', { counts });
  if (counts.failed > 0 || got.run.exit_code !== 0)
    return result(gate, 'fail', `${counts.failed} test(s) failed, exit code ${String(got.run.exit_code)}`, {
      counts,
      exitCode: got.run.exit_code,
      failing: got.run.cases
        .filter((c) => c.status === 'failed')
        .map((c) => ({ name: c.name, file: c.file })),
    });
  return result(gate, 'pass', `${ran} test(s) ran, none failed`, { counts });
}

function planHasCriteria(input: GateInput): GateResult {
  const gate = 'plan_has_acceptance_criteria';
  const raw = input.artifacts['plan'];
  if (raw === undefined) return result(gate, 'fail', 'no plan artifact was submitted');
  const parsed = PlanArtifactSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = formatPath([
      'plan',
      ...issue.path.filter((s): s is string | number => typeof s !== 'symbol'),
    ]);
    return result(gate, 'fail', `plan is invalid at ${field}: ${issue.message}`, { field });
  }
  const criteria = parsed.data.acceptance_criteria;
  if (criteria.length === 0) return result(gate, 'fail', 'the plan has no acceptance criterion');
  const blank = criteria.flatMap((c, i) => (c.trim() === '' ? [i] : []));
  if (blank.length > 0)
    return result(gate, 'fail', `acceptance criteria ${blank.join(', ')} are empty`, {
      fields: blank.map((i) => `plan.acceptance_criteria[${i}]`),
    });
  return result(gate, 'pass', `${criteria.length} acceptance criteria`);
}

/** The reviews of the current round, or a gate error naming the invalid one. */
function currentReviews(gate: string, input: GateInput): ReviewArtifact[] | GateResult {
  const given = input.facts.reviews ?? input.artifacts['review'];
  const list: unknown[] = given === undefined ? [] : Array.isArray(given) ? given : [given];
  const reviews: ReviewArtifact[] = [];
  for (const [i, r] of list.entries()) {
    const parsed = ReviewArtifactSchema.safeParse(r);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = formatPath([
        'review',
        i,
        ...issue.path.filter((s): s is string | number => typeof s !== 'symbol'),
      ]);
      return result(gate, 'error', `review ${i} is invalid at ${field}: ${issue.message}`, { field });
    }
    if (parsed.data.round === input.round) reviews.push(parsed.data);
  }
  return reviews;
}

/** How many reviews a phase waits for: its `spawn_reviews` count, else one. */
const expectedReviews = (input: GateInput) =>
  input.workflow.triggers.find((t) => t.on_enter === input.phase.id)?.spawn_reviews.count ?? 1;

function noBlockingIssues(input: GateInput): GateResult {
  const gate = 'no_blocking_issues';
  const reviews = currentReviews(gate, input);
  if (isGateResult(reviews)) return reviews;
  const lost = input.facts.lostReviews ?? [];
  if (lost.length > 0)
    return result(
      gate,
      'error',
      `${lost.length} review(s) of round ${input.round} cannot be handed in: ${lost.map((l) => `slot ${l.slot}: ${l.reason}`).join('; ')}`,
      { round: input.round, lost: lost.map((l) => ({ slot: l.slot, jobs: [...l.jobs], reason: l.reason })) },
    );
  const expected = expectedReviews(input);
  if (reviews.length < expected)
    return result(
      gate,
      'fail',
      `waiting for reviews: ${reviews.length} of ${expected} in round ${input.round}`,
      {
        round: input.round,
        received: reviews.length,
        expected,
      },
    );
  const blocking = reviews.flatMap((r) =>
    r.issues.filter((i) => i.blocking).map((i) => ({ reviewer: r.reviewer ?? null, ...i })),
  );
  const requested = reviews.filter((r) => r.verdict === 'changes_requested').map((r) => r.reviewer ?? null);
  if (blocking.length > 0 || requested.length > 0)
    return result(
      gate,
      'fail',
      `${blocking.length} blocking issue(s), ${requested.length} change request(s)`,
      {
        round: input.round,
        blocking,
        changesRequestedBy: requested,
      },
    );
  return result(gate, 'pass', `${reviews.length} review(s) in round ${input.round}, no blocking issue`);
}

function changesRequested(input: GateInput): GateResult {
  const gate = 'changes_requested';
  const reviews = currentReviews(gate, input);
  if (isGateResult(reviews)) return reviews;
  const asking = reviews.filter((r) => r.verdict === 'changes_requested' || r.issues.some((i) => i.blocking));
  if (asking.length === 0)
    return result(gate, 'fail', `no review of round ${input.round} requests changes`, { round: input.round });
  return result(gate, 'pass', `${asking.length} review(s) request changes`, { round: input.round });
}

function command(name: string, expect: 'pass' | 'fail', input: GateInput): GateResult {
  const gate = 'command';
  const ran = input.facts.commands?.[name];
  if (!ran) return result(gate, 'error', `command ${name} was not run`, { command: name });
  const { exitCode } = ran;
  if (exitCode === null || exitCode === 126 || exitCode === 127)
    return result(gate, 'error', `command ${name} could not run (exit ${String(exitCode)})`, {
      command: name,
      exitCode,
    });
  const passed = expect === 'pass' ? exitCode === 0 : exitCode !== 0;
  return result(
    gate,
    passed ? 'pass' : 'fail',
    `command ${name} exited ${exitCode} (expected to ${expect})`,
    {
      command: name,
      exitCode,
      expect,
    },
  );
}

/** Evaluates one gate of a transition on the artifacts and evidence. Pure. */
export function evaluateGate(spec: GateSpec, input: GateInput): GateResult {
  const g = typeof spec === 'string' ? { gate: spec } : spec;
  switch (g.gate) {
    case 'plan_has_acceptance_criteria':
      return planHasCriteria(input);
    case 'tests_are_failing':
      return testsAreFailing(('evidence' in g && g.evidence) || input.evidence, input);
    case 'all_tests_pass':
      return allTestsPass(('evidence' in g && g.evidence) || input.evidence, input);
    case 'no_blocking_issues':
      return noBlockingIssues(input);
    case 'changes_requested':
      return changesRequested(input);
    case 'command':
      return command(g.command, g.expect, input);
  }
}
