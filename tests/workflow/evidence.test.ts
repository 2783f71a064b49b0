/**
 * Evidence from an executor elsewhere (issue 16): `workflow.evidence` is accepted only from the lease holder's
 * worker credential and recorded as verified with its identity; where the node cannot run the tests itself, the
 * test gates read it; a reported passing test_result on a failing tree changes nothing; evidence taken on another
 * tree than the one moved does not count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, freshWs, mint, startServer, type TestServer } from '../http/support.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});

const TREE_A = 'a'.repeat(40);
const TREE_B = 'b'.repeat(40);
const junit = (cases: { name: string; failed: boolean }[]) =>
  [
    '<testsuites><testsuite name="math">',
    ...cases.map((c) =>
      c.failed
        ? `<testcase name="${c.name}" file="tests/math.test.mjs"><failure message="expected 2"/></testcase>`
        : `<testcase name="${c.name}" file="tests/math.test.mjs"/>`,
    ),
    '</testsuite></testsuites>',
  ].join('');
const passingReport = {
  format: 'tap',
  exit_code: 0,
  counts: { total: 2, passed: 2, failed: 0, skipped: 0, todo: 0 },
  cases: [],
};
const tests = { files: ['tests/math.test.mjs'], cases: [{ name: 'subtract', file: 'tests/math.test.mjs' }] };

/** A default-workflow job claimed by an agent, moved to TDD; a second worker; tokens of everyone. */
async function inTdd() {
  const ws = freshWs('ev');
  const admin = await mint({ ws, scopes: ['admin'] });
  const runner = await mint({ ws, sub: 'runner', scopes: ['workers:register'] });
  const job = (
    await call(s.app, {
      method: 'POST',
      url: '/api/jobs',
      token: admin,
      body: { title: 'x', workflow: 'default' },
    })
  ).json;
  const register = async (name: string): Promise<{ id: string; credential: { token: string } }> =>
    (await call(s.app, { method: 'POST', url: '/api/v1/workers', token: runner, body: { name } })).json as {
      id: string;
      credential: { token: string };
    };
  const agent = await register('agent');
  const other = await register('other');
  const claim = (
    await call(s.app, {
      method: 'POST',
      url: '/api/v1/queue/claim',
      token: agent.credential.token,
      body: { workerId: agent.id },
    })
  ).json;
  let token: string = claim.phaseToken.token;
  let phase = 'PLAN';
  type Move = { allowed: boolean; blockers: { gate: string; reason: string }[] };
  const move = async (to: string, artifacts: Record<string, unknown>): Promise<Move> => {
    const r = await call(s.app, {
      method: 'POST',
      url: '/api/v1/tasks/transition',
      token,
      body: { currentPhase: phase, targetPhase: to, artifacts },
    });
    if (r.json.allowed) {
      token = r.json.phaseToken.token;
      phase = r.json.phase;
    }
    return r.json as Move;
  };
  expect(
    (
      await move('TDD', {
        plan: { summary: 'subtract', acceptance_criteria: ['subtract(3, 1) is 2'] },
        scope: { files: [{ path: 'src/math.mjs', change: 'modify' }] },
      })
    ).allowed,
  ).toBe(true);
  const evidence = (callerToken: string, body: Record<string, unknown>) =>
    call(s.app, { method: 'POST', url: `/api/v1/jobs/${job.id}/evidence`, token: callerToken, body });
  return {
    ws,
    admin,
    job,
    agent,
    other,
    move,
    evidence,
    phaseToken: () => token,
    checkToken: claim.checkToken.token,
  };
}

describe('workflow.evidence', () => {
  it('is taken only from the lease holder’s worker credential, as verified evidence naming it', async () => {
    const t = await inTdd();
    const body = {
      gate: 'tests_are_failing',
      treeHash: TREE_A,
      exitCode: 1,
      report: junit([{ name: 'subtract', failed: true }]),
      format: 'junit',
      changedFiles: ['tests/math.test.mjs'],
      executor: 'runner on box-1',
    };
    // Without any evidence the verified gate errors: the node has no tree of this job to run.
    const before = await t.move('IMPL', { tests, test_result: passingReport });
    expect(before.allowed).toBe(false);
    expect(before.blockers[0]).toMatchObject({ gate: 'tests_are_failing', details: { outcome: 'error' } });
    for (const [token, code, status] of [
      [t.phaseToken(), 'INSUFFICIENT_SCOPE', 403],
      [t.checkToken, 'INSUFFICIENT_SCOPE', 403],
      [t.other.credential.token, 'NOT_YOUR_WORKER', 403],
      [t.admin, 'NOT_YOUR_WORKER', 403],
    ] as const) {
      const refused = await t.evidence(token, body);
      expect([refused.status, refused.json.error?.code]).toEqual([status, code]);
    }
    const sent = await t.evidence(t.agent.credential.token, body);
    expect(sent.status, sent.text).toBe(200);
    expect(sent.json).toMatchObject({
      gate: 'tests_are_failing',
      phase: 'TDD',
      evidence: 'verified',
      executor: { workerId: t.agent.id, name: 'runner on box-1' },
      readable: true,
      counts: { total: 1, failed: 1 },
    });
    expect((await t.move('IMPL', { tests, test_result: passingReport })).allowed).toBe(true);
  });

  it('a reported passing test_result on a failing tree changes nothing; evidence on another tree does not count', async () => {
    const t = await inTdd();
    await t.evidence(t.agent.credential.token, {
      gate: 'tests_are_failing',
      treeHash: TREE_A,
      exitCode: 1,
      report: junit([{ name: 'subtract', failed: true }]),
      format: 'junit',
      changedFiles: ['tests/math.test.mjs'],
    });
    expect((await t.move('IMPL', { tests, test_result: passingReport })).allowed).toBe(true);
    const implementation = { summary: 'subtract', files_changed: ['src/math.mjs'], tree_hash: TREE_A };
    // The executor says the tree still fails; the agent reports a pass: refused.
    await t.evidence(t.agent.credential.token, {
      gate: 'all_tests_pass',
      treeHash: TREE_A,
      exitCode: 1,
      report: junit([{ name: 'subtract', failed: true }]),
      format: 'junit',
    });
    const refused = await t.move('REVIEW', { implementation, test_result: passingReport });
    expect(refused.blockers.map((b: { gate: string }) => b.gate)).toEqual(['all_tests_pass']);
    // A pass on tree A does not move tree B.
    await t.evidence(t.agent.credential.token, {
      gate: 'all_tests_pass',
      treeHash: TREE_A,
      exitCode: 0,
      report: junit([{ name: 'subtract', failed: false }]),
      format: 'junit',
    });
    const otherTree = await t.move('REVIEW', {
      implementation: { ...implementation, tree_hash: TREE_B },
      test_result: passingReport,
    });
    expect(otherTree.blockers[0]).toMatchObject({
      gate: 'all_tests_pass',
      reason: 'the tests ran on another tree than the one being moved',
    });
    expect((await t.move('REVIEW', { implementation, test_result: passingReport })).allowed).toBe(true);
  });
});
