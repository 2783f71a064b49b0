/**
 * Verified evidence at a transition (issue 16): on the default workflow, TDD → IMPL needs a failing test in a test
 * file changed during TDD, judged on the node's own run of the allowlisted test command in the job's real git
 * working tree; what the agent reports does not count.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestOverseer, type TestOverseer } from '../support/open.ts';
import { tempRepo } from '../executor/git-repo.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'overseer-wf-roots-')));
let t: TestOverseer | undefined;
afterAll(async () => {
  await t?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

const testFile = (withSubtract: boolean) =>
  [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import * as math from '../src/math.mjs';",
    "test('add', () => assert.equal(math.add(1, 2), 3));",
    ...(withSubtract ? ["test('subtract', () => assert.equal(math.subtract(3, 1), 2));"] : []),
    '',
  ].join('\n');

/** What the agent claims: a passing run (reported evidence, which the verified gate ignores). */
const reportedPass = {
  format: 'tap',
  exit_code: 0,
  counts: { total: 1, passed: 1, failed: 0, skipped: 0, todo: 0 },
  cases: [],
};
const tddArtifacts = (cases: string[]) => ({
  tests: {
    files: ['tests/math.test.mjs'],
    cases: cases.map((name) => ({ name, file: 'tests/math.test.mjs' })),
  },
  test_result: reportedPass,
});

describe('TDD → IMPL on verified evidence', () => {
  it('is blocked while the tests pass, allowed when a test in a changed test file fails', async () => {
    t = await openTestOverseer({
      workflow: {
        workdirRoots: [root],
        commands: { test: [process.execPath, '--test', '--test-reporter=tap'] },
      },
    });
    const repo = tempRepo({ 'src/math.mjs': 'export const add = (a, b) => a + b;\n' }, root);
    const admin = t.ov.workspace('acme');
    const job = await admin.jobs.submit({
      title: 'subtract',
      workflow: 'default',
      execution: { workdir: repo.dir },
    });
    const w = await admin.workers.register({ name: 'agent' });
    const claim = await admin.queue.claim({ workerId: w.id });
    expect(claim.job?.id).toBe(job.id);
    const as = async (token: string) =>
      t!.ov.workspace('acme', { principal: await t!.ov.authenticate(token) });

    const plan = await (
      await as(claim.phaseToken!.token)
    ).workflow.transition({
      currentPhase: 'PLAN',
      targetPhase: 'TDD',
      artifacts: {
        plan: { summary: 'Add subtract.', acceptance_criteria: ['subtract(3, 1) is 2'] },
        scope: { files: [{ path: 'src/math.mjs', change: 'modify' }] },
      },
    });
    expect(plan).toMatchObject({ allowed: true, phase: 'TDD' });
    const tdd = await as(plan.phaseToken!.token);

    // A test file that passes: no failing test, whatever the agent reports.
    repo.write('tests/math.test.mjs', testFile(false));
    const passing = await tdd.workflow.transition({
      currentPhase: 'TDD',
      targetPhase: 'IMPL',
      artifacts: tddArtifacts(['add']),
    });
    expect(passing.allowed).toBe(false);
    expect(passing.blockers).toEqual([
      expect.objectContaining({
        gate: 'tests_are_failing',
        reason: 'no test case fails in a test file changed in this phase',
      }),
    ]);

    // The test of the missing function fails on the node's own run: the move is allowed.
    repo.write('tests/math.test.mjs', testFile(true));
    const failing = await tdd.workflow.transition({
      currentPhase: 'TDD',
      targetPhase: 'IMPL',
      artifacts: tddArtifacts(['add', 'subtract']),
    });
    expect(failing).toMatchObject({ allowed: true, phase: 'IMPL', epoch: 2 });
    const view = await admin.jobs.get(job.id);
    expect(view.phase?.lastGates).toEqual([
      expect.objectContaining({ gate: 'tests_are_failing', outcome: 'pass' }),
    ]);
    repo.remove();
  });

  it('without an allowlisted test command the gate errors, naming why', async () => {
    const other = await openTestOverseer({ workflow: { workdirRoots: [root] } });
    try {
      const repo = tempRepo({ 'src/math.mjs': 'export const add = (a, b) => a + b;\n' }, root);
      const admin = other.ov.workspace('acme');
      await admin.jobs.submit({ title: 'x', workflow: 'default', execution: { workdir: repo.dir } });
      const w = await admin.workers.register({ name: 'agent' });
      const claim = await admin.queue.claim({ workerId: w.id });
      const as = async (token: string) =>
        other.ov.workspace('acme', { principal: await other.ov.authenticate(token) });
      const plan = await (
        await as(claim.phaseToken!.token)
      ).workflow.transition({
        currentPhase: 'PLAN',
        targetPhase: 'TDD',
        artifacts: {
          plan: { summary: 's', acceptance_criteria: ['c'] },
          scope: { files: [{ path: 'src/math.mjs', change: 'modify' }] },
        },
      });
      repo.write('tests/math.test.mjs', testFile(true));
      const refused = await (
        await as(plan.phaseToken!.token)
      ).workflow.transition({
        currentPhase: 'TDD',
        targetPhase: 'IMPL',
        artifacts: tddArtifacts(['subtract']),
      });
      expect(refused.allowed).toBe(false);
      expect(refused.blockers[0]).toMatchObject({
        gate: 'tests_are_failing',
        details: { outcome: 'error' },
        reason: expect.stringContaining('not in this node') as string,
      });
      repo.remove();
    } finally {
      await other.cleanup();
    }
  });
});
