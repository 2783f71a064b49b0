import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Workflow } from '../../src/contracts/workflow.ts';
import { compileArtifactSchema } from '../../src/domain/workflow/artifact-validation.ts';
import type { TestRunEvidence, WorkflowEvidence } from '../../src/domain/workflow/evaluate-gate.ts';
import { parseTestReport } from '../../src/domain/workflow/parse-test-report.ts';
import { planTransition, type TransitionRequest } from '../../src/domain/workflow/plan-transition.ts';
import { validateWorkflow } from '../../src/domain/workflow/validate-workflow.ts';
import { ROOT } from '../../scripts/gen.ts';
import { fixture } from './report-fixtures.ts';

const workflow: Workflow = validateWorkflow(
  readFileSync(join(ROOT, 'workflows', 'default.yaml'), 'utf8'),
).workflow!;
const TREE = 'a'.repeat(40);
const OTHER_TREE = 'b'.repeat(40);

const plan = { summary: 'Add subtract', acceptance_criteria: ['subtract(3, 1) is 2'] };
const scope = { files: [{ path: 'src/math.mjs', change: 'modify' }] };
const tests = {
  files: ['tests/math.test.mjs'],
  cases: [{ name: 'subtract', file: 'tests/math.test.mjs', criterion: 0 }],
};
const implementation = { summary: 'subtract', files_changed: ['src/math.mjs'] };
const review = (round: number, extra: object = {}) => ({ round, verdict: 'approve', issues: [], ...extra });
const completion = { summary: 'done', acceptance: [{ criterion: 'subtract(3, 1) is 2', met: true }] };

/** The node's own run of a committed fixture, on a tree. */
const ran = (name: Parameters<typeof fixture>[0], treeHash = TREE): TestRunEvidence => ({
  report: parseTestReport(fixture(name)),
  treeHash,
});
const reported = (name: Parameters<typeof fixture>[0]) => {
  const r = parseTestReport(fixture(name));
  if (!r.ok) throw new Error(r.message);
  return r.result;
};

const move = (from: string, to: string, over: Partial<TransitionRequest> = {}) =>
  planTransition({ workflow, from, to, round: 0, artifacts: {}, evidence: {}, ...over });
const gatesOf = (p: ReturnType<typeof move>) => p.blockers.map((b) => b.gate);

describe('planTransition on the default workflow', () => {
  it('refuses a transition the workflow does not declare, in permissive mode too, naming the allowed targets', () => {
    for (const mode of ['strict', 'permissive'] as const) {
      const p = move('PLAN', 'IMPL', { mode });
      expect(p.allowed).toBe(false);
      expect(p.blockers).toEqual([
        {
          gate: 'transition',
          reason: 'default v1 has no transition PLAN → IMPL',
          details: { from: 'PLAN', to: 'IMPL', allowedTargets: ['TDD'] },
        },
      ]);
    }
    expect(move('NOPE', 'TDD').blockers[0]!.reason).toBe('unknown phase NOPE');
  });

  it('PLAN → TDD: missing artifacts and a plan without criteria are blockers; a good plan passes', () => {
    const empty = move('PLAN', 'TDD');
    expect(empty.allowed).toBe(false);
    expect(empty.blockers.map((b) => b.reason)).toEqual([
      'missing artifact plan',
      'missing artifact scope',
      'no plan artifact was submitted',
    ]);
    const blank = move('PLAN', 'TDD', {
      artifacts: { plan: { ...plan, acceptance_criteria: ['ok', '  '] }, scope },
    });
    expect(blank.blockers).toEqual([
      {
        gate: 'plan_has_acceptance_criteria',
        reason: 'acceptance criteria 1 are empty',
        details: { outcome: 'fail', fields: ['plan.acceptance_criteria[1]'] },
      },
    ]);
    const none = move('PLAN', 'TDD', { artifacts: { plan: { ...plan, acceptance_criteria: [] }, scope } });
    expect(none.blockers[0]!.reason).toBe('the plan has no acceptance criterion');
    const ok = move('PLAN', 'TDD', { artifacts: { plan, scope } });
    expect(ok).toMatchObject({
      allowed: true,
      blockers: [],
      warned: false,
      final: false,
      round: 0,
      triggers: [],
    });
    expect(ok.gates.map((g) => g.outcome)).toEqual(['pass']);
  });

  it('an invalid artifact is a blocker naming the field', () => {
    const p = move('PLAN', 'TDD', {
      artifacts: { plan, scope: { files: [{ path: 'x', change: 'rename' }] } },
    });
    expect(p.blockers).toHaveLength(1);
    expect(p.blockers[0]).toMatchObject({
      gate: 'artifact',
      details: { artifact: 'scope', field: 'scope.files[0].change' },
    });
    expect(p.blockers[0]!.reason).toMatch(/^artifact scope is invalid at scope\.files\[0\]\.change: /);
  });

  const tdd = (evidence: WorkflowEvidence, artifacts: object = {}) =>
    move('TDD', 'IMPL', {
      artifacts: { tests, test_result: reported('node-fail.tap'), ...artifacts },
      evidence,
    });

  it('TDD → IMPL: passes on a verified run with a failing case in a test file changed in this phase', () => {
    const p = tdd({ testRun: ran('node-fail.tap'), changedFiles: ['tests/math.test.mjs'] });
    expect(p.allowed).toBe(true);
    expect(p.gates[0]).toMatchObject({ gate: 'tests_are_failing', outcome: 'pass' });
    expect(p.gates[0]!.details['failing']).toHaveLength(2);
    // The JUnit and spec reports of the same kind of run pass as well.
    expect(tdd({ testRun: ran('vitest-fail.junit.xml'), changedFiles: ['tests/math.test.ts'] }).allowed).toBe(
      true,
    );
    expect(tdd({ testRun: ran('node-fail.spec.txt'), changedFiles: ['tests/math.test.mjs'] }).allowed).toBe(
      true,
    );
  });

  it('TDD → IMPL: failures only in files not changed in this phase, or no changed test file, fail the gate', () => {
    const elsewhere = tdd({ testRun: ran('node-fail.tap'), changedFiles: ['tests/other.test.mjs'] });
    expect(elsewhere.allowed).toBe(false);
    expect(elsewhere.blockers[0]!.reason).toBe('no test case fails in a test file changed in this phase');
    const noTests = tdd({ testRun: ran('node-fail.tap'), changedFiles: ['src/math.mjs'] });
    expect(noTests.blockers[0]!.reason).toBe('no test file was changed in this phase');
    const passing = tdd({ testRun: ran('node-pass.tap'), changedFiles: ['tests/pass.test.mjs'] });
    expect(passing.blockers[0]!.details).toMatchObject({ outcome: 'fail' });
  });

  it('TDD → IMPL: a load error, exit 127, no tests or garbage is a gate error, never a pass', () => {
    const errorOf = (testRun: TestRunEvidence) =>
      tdd({ testRun, changedFiles: ['tests/broken.test.mjs', 'tests/broken.test.ts', 'tests/math.test.mjs'] })
        .blockers[0]!;
    expect(errorOf(ran('node-load-error.tap'))).toMatchObject({
      gate: 'tests_are_failing',
      details: { outcome: 'error', error: 'load_error' },
    });
    expect(errorOf(ran('vitest-load-error.junit.xml')).details).toMatchObject({
      outcome: 'error',
      error: 'load_error',
    });
    expect(errorOf(ran('vitest-no-tests.junit.xml')).details).toMatchObject({
      outcome: 'error',
      error: 'no_tests',
    });
    const notFound = {
      report: parseTestReport({ output: 'sh: 1: vitest: not found\n', exitCode: 127 }),
      treeHash: TREE,
    };
    expect(errorOf(notFound).details).toMatchObject({ outcome: 'error', error: 'not_runnable' });
    const garbage = {
      report: parseTestReport({ output: 'Segmentation fault\n', exitCode: 139 }),
      treeHash: TREE,
    };
    expect(errorOf(garbage).details).toMatchObject({ outcome: 'error', error: 'unparseable' });
  });

  it("TDD → IMPL: verified evidence ignores the agent's own report when the node has no run", () => {
    const p = tdd({ changedFiles: ['tests/math.test.mjs'] });
    expect(p.blockers).toEqual([
      {
        gate: 'tests_are_failing',
        reason: 'verified evidence is required and the node has no test run of its own',
        details: { outcome: 'error' },
      },
    ]);
  });

  const impl = (evidence: WorkflowEvidence, mode?: 'permissive') =>
    move('IMPL', 'REVIEW', {
      artifacts: { implementation, test_result: reported('node-pass.tap') },
      evidence,
      ...(mode ? { mode } : {}),
    });

  it('IMPL → REVIEW: all tests pass on the tree being moved; the review round starts and reviews are spawned', () => {
    const p = impl({ testRun: ran('node-pass.tap'), treeHash: TREE });
    expect(p).toMatchObject({ allowed: true, round: 1, final: false });
    expect(p.triggers).toEqual([{ on_enter: 'REVIEW', spawn_reviews: { count: 2, capability: 'review' } }]);
  });

  it('IMPL → REVIEW: a failing test, another tree, or an unknown tree blocks', () => {
    expect(impl({ testRun: ran('node-fail.tap'), treeHash: TREE }).blockers[0]!.reason).toBe(
      '2 test(s) failed, exit code 1',
    );
    const stale = impl({ testRun: ran('node-pass.tap', OTHER_TREE), treeHash: TREE });
    expect(stale.blockers[0]).toMatchObject({
      reason: 'the tests ran on another tree than the one being moved',
      details: { testedTree: OTHER_TREE, movingTree: TREE },
    });
    expect(impl({ testRun: ran('node-pass.tap') }).blockers[0]!.details).toMatchObject({ outcome: 'error' });
  });

  it('permissive mode lets blockers through, records them and says to warn', () => {
    const p = impl({ testRun: ran('node-fail.tap'), treeHash: TREE }, 'permissive');
    expect(p).toMatchObject({ allowed: true, warned: true, mode: 'permissive', round: 1 });
    expect(gatesOf(p)).toEqual(['all_tests_pass']);
  });

  it('REVIEW → COMPLETE waits for both reviewers of the current round and for no blocking issue', () => {
    const done = (reviews: unknown[]) =>
      move('REVIEW', 'COMPLETE', { round: 1, artifacts: { completion }, evidence: { reviews } });
    expect(done([review(1)]).blockers[0]!.reason).toBe('waiting for reviews: 1 of 2 in round 1');
    // A review of another round does not count.
    expect(done([review(1), review(2)]).blockers[0]!.reason).toBe('waiting for reviews: 1 of 2 in round 1');
    const blocking = done([
      review(1),
      review(1, {
        reviewer: 'r2',
        issues: [{ severity: 'major', blocking: true, description: 'no tests for 0' }],
      }),
    ]);
    expect(blocking.blockers[0]).toMatchObject({
      gate: 'no_blocking_issues',
      reason: '1 blocking issue(s), 0 change request(s)',
    });
    expect(
      done([review(1), review(1, { issues: [{ severity: 'nit', blocking: false, description: 'naming' }] })]),
    ).toMatchObject({
      allowed: true,
      final: true,
    });
    expect(done([review(1), { round: 1, verdict: 'maybe', issues: [] }]).blockers[0]!.reason).toMatch(
      /^review 1 is invalid at review\[1\]\.verdict/,
    );
  });

  it('REVIEW → IMPL needs a change request in the current round; the round cap blocks the next review', () => {
    const back = (reviews: unknown[]) => move('REVIEW', 'IMPL', { round: 1, evidence: { reviews } });
    expect(back([review(1), review(1)]).allowed).toBe(false);
    expect(back([review(1), review(1, { verdict: 'changes_requested' })]).allowed).toBe(true);
    const third = move('IMPL', 'REVIEW', {
      round: 3,
      artifacts: { implementation, test_result: reported('node-pass.tap') },
      evidence: { testRun: ran('node-pass.tap'), treeHash: TREE },
    });
    expect(third.allowed).toBe(false);
    expect(third.blockers).toEqual([
      {
        gate: 'max_review_rounds',
        reason: 'review round 4 would exceed max_review_rounds 3',
        details: { round: 4, max: 3 },
      },
    ]);
    expect(third.round).toBe(3);
  });
});

describe('gates and artifacts a workflow configures', () => {
  const custom = validateWorkflow(`name: custom
version: 2
phases:
  - id: BUILD
    artifacts: [design]
  - id: DONE
    final: true
transitions:
  - from: BUILD
    to: DONE
    evidence: reported
    gates:
      - { gate: command, command: lint }
      - { gate: command, command: e2e, expect: fail }
      - all_tests_pass
artifact_schemas:
  design: design.schema.json
`).workflow!;
  const design = compileArtifactSchema('design', {
    type: 'object',
    required: ['title', 'parts'],
    properties: {
      title: { type: 'string', minLength: 1 },
      parts: { type: 'array', items: { type: 'string' } },
    },
  });
  const req = (over: Partial<TransitionRequest>): TransitionRequest => ({
    workflow: custom,
    from: 'BUILD',
    to: 'DONE',
    round: 0,
    artifacts: {
      design: { title: 'x', parts: [] },
      test_result: { ...reported('vitest-pass.junit.xml'), tree_hash: TREE },
    },
    evidence: { commands: { lint: { exitCode: 0 }, e2e: { exitCode: 1 } }, treeHash: TREE },
    validators: { design },
    ...over,
  });

  it('passes when the commands exit as expected and the reported run passed on the tree', () => {
    const p = planTransition(req({}));
    expect(p.blockers).toEqual([]);
    expect(p).toMatchObject({ allowed: true, final: true });
  });

  it('command gates: wrong exit, a command not run, or exit 127 block', () => {
    const p = planTransition(
      req({ evidence: { commands: { lint: { exitCode: 2 }, e2e: { exitCode: 0 } }, treeHash: TREE } }),
    );
    expect(p.blockers.map((b) => b.reason)).toEqual([
      'command lint exited 2 (expected to pass)',
      'command e2e exited 0 (expected to fail)',
    ]);
    const q = planTransition(req({ evidence: { commands: { lint: { exitCode: 127 } }, treeHash: TREE } }));
    expect(q.blockers.map((b) => [b.reason, b.details['outcome']])).toEqual([
      ['command lint could not run (exit 127)', 'error'],
      ['command e2e was not run', 'error'],
    ]);
  });

  it('a workflow-named schema (ajv) makes an invalid artifact a blocker naming the field', () => {
    const p = planTransition(req({ artifacts: { ...req({}).artifacts, design: { title: '', parts: [1] } } }));
    expect(p.blockers).toHaveLength(1);
    expect(p.blockers[0]).toMatchObject({
      gate: 'artifact',
      details: { artifact: 'design', field: 'design.title' },
    });
    expect(p.blockers[0]!.details['more']).toEqual([{ field: 'design.parts[0]', message: 'must be string' }]);
    const missing = planTransition(req({ validators: {} }));
    expect(missing.blockers[0]!.reason).toBe('artifact design has no schema to check it against');
  });

  it("reported evidence reads the agent's test_result, whose tree must be the one moved", () => {
    const { test_result } = req({}).artifacts as { test_result: object };
    const p = planTransition(
      req({
        artifacts: {
          design: { title: 'x', parts: [] },
          test_result: { ...test_result, tree_hash: OTHER_TREE },
        },
      }),
    );
    expect(gatesOf(p)).toEqual(['all_tests_pass']);
  });
});
