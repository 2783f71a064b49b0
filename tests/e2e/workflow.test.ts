/**
 * Issue 16, end to end: a scripted agent drives a job through PLAN → TDD → IMPL → REVIEW → COMPLETE over real HTTP
 * sockets, on a real temporary git repository whose tests the node runs itself (`node --test`). It is blocked
 * without acceptance criteria, moving to IMPL while its tests pass and while the test file does not load, moving to
 * REVIEW while tests fail; two other workers review; a blocking review sends it back to IMPL for round 2; every move
 * is journaled and the old phase token is refused after each one.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempRepo, type TempRepo } from '../executor/git-repo.ts';
import { mint, startServer, type TestServer } from '../http/support.ts';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'overseer-e2e-wf-')));
let s: TestServer;
let base: string;
let repo: TempRepo;

beforeAll(async () => {
  s = await startServer({
    overseer: {
      workflow: {
        workdirRoots: [root],
        commands: { test: [process.execPath, '--test', '--test-reporter=tap'] },
      },
    },
  });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(s.app.server.address() as { port: number }).port}`;
  repo = tempRepo({ 'src/math.mjs': 'export const add = (a, b) => a + b;\n' }, root);
});
afterAll(async () => {
  await s?.close();
  rmSync(root, { recursive: true, force: true });
});

/** A JSON answer, read freely by the test. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of any shape
type Json = any;

/** One call over a real socket: the status and the JSON answer. */
async function api(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

const testFile = (cases: string[]) =>
  [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import * as math from '../src/math.mjs';",
    ...cases,
    '',
  ].join('\n');
const ADD = "test('add', () => assert.equal(math.add(1, 2), 3));";
const SUBTRACT = "test('subtract', () => assert.equal(math.subtract(3, 1), 2));";
const reported = (failed: number) => ({
  format: 'tap',
  exit_code: failed > 0 ? 1 : 0,
  counts: { total: 2, passed: 2 - failed, failed, skipped: 0, todo: 0 },
  cases: [],
});
const tests = {
  files: ['tests/math.test.mjs'],
  cases: [
    { name: 'add', file: 'tests/math.test.mjs' },
    { name: 'subtract', file: 'tests/math.test.mjs' },
  ],
};
const implementation = { summary: 'subtract', files_changed: ['src/math.mjs'] };
const completion = {
  summary: 'subtract is in.',
  acceptance: [{ criterion: 'subtract(3, 1) is 2', met: true }],
};

describe('a scripted agent under the default workflow, over HTTP', () => {
  it('goes PLAN → TDD → IMPL → REVIEW → IMPL → REVIEW → COMPLETE, blocked wherever the evidence says no', async () => {
    const ws = 'e2e-wf';
    const admin = await mint({ ws, scopes: ['admin'] });
    const runner = await mint({ ws, sub: 'runner', scopes: ['workers:register'] });
    const job = (
      await api('POST', '/api/jobs', admin, {
        title: 'Add subtract',
        workflow: 'default',
        execution: { workdir: repo.dir },
      })
    ).json;
    expect(job.workflow).toEqual({ name: 'default', version: 1 });
    const register = async (name: string, capabilities: string[]) => {
      const w = (await api('POST', '/api/v1/workers', runner, { name, capabilities })).json;
      return { id: w.id as string, credential: w.credential.token as string };
    };
    const author = await register('author', []);
    const claim = (await api('POST', '/api/v1/queue/claim', author.credential, { workerId: author.id })).json;
    expect(claim.job.id).toBe(job.id);
    let token: string = claim.phaseToken.token;
    let phase = 'PLAN';

    /** Asks to move; on a move, checks the old token is refused and keeps the new one (none after the last). */
    const move = async (to: string, artifacts: Record<string, unknown>) => {
      const answer = await api('POST', '/api/v1/tasks/transition', token, {
        currentPhase: phase,
        targetPhase: to,
        artifacts,
      });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      if (answer.json.allowed) {
        const old = token;
        // A move into the final phase completes the job: its lease ends, so no new token comes.
        token = answer.json.phaseToken?.token ?? token;
        phase = answer.json.phase;
        const stale = await api('GET', '/api/v1/state/snapshot', old);
        expect(stale.status).toBe(401);
        expect(stale.json.error.code).toBe('PHASE_TOKEN_STALE');
      }
      return answer.json as { allowed: boolean; blockers?: { gate: string; reason: string }[] };
    };
    const blockedBy = (answer: Awaited<ReturnType<typeof move>>) =>
      answer.allowed ? [] : answer.blockers!.map((b) => b.gate);

    // PLAN → TDD: a plan without acceptance criteria is refused, one with them moves.
    const scope = { files: [{ path: 'src/math.mjs', change: 'modify' }] };
    expect(
      blockedBy(await move('TDD', { plan: { summary: 'subtract', acceptance_criteria: [] }, scope })),
    ).not.toEqual([]);
    expect(
      (
        await move('TDD', {
          plan: { summary: 'subtract', acceptance_criteria: ['subtract(3, 1) is 2'] },
          scope,
        })
      ).allowed,
    ).toBe(true);

    // TDD → IMPL: a test file that does not load, then one whose tests pass, are refused; a failing test moves.
    repo.write('tests/math.test.mjs', 'this is not javascript(\n');
    expect(blockedBy(await move('IMPL', { tests, test_result: reported(1) }))).toEqual(['tests_are_failing']);
    repo.write('tests/math.test.mjs', testFile([ADD]));
    expect(blockedBy(await move('IMPL', { tests, test_result: reported(1) }))).toEqual(['tests_are_failing']);
    repo.write('tests/math.test.mjs', testFile([ADD, SUBTRACT]));
    expect((await move('IMPL', { tests, test_result: reported(1) })).allowed).toBe(true);

    // IMPL → REVIEW: refused while the node's own run fails (whatever the agent reports), allowed once it passes.
    expect(blockedBy(await move('REVIEW', { implementation, test_result: reported(0) }))).toEqual([
      'all_tests_pass',
    ]);
    repo.write(
      'src/math.mjs',
      'export const add = (a, b) => a + b;\nexport const subtract = (a, b) => a - b;\n',
    );
    expect((await move('REVIEW', { implementation, test_result: reported(0) })).allowed).toBe(true);

    // Two other workers review round 1: one blocks. The author's own review artifact counts for nothing.
    const reviewers = [await register('reviewer-1', ['review']), await register('reviewer-2', ['review'])];
    const review = async (round: number, verdicts: ('approve' | 'block')[]) => {
      for (const [i, r] of reviewers.entries()) {
        const c = (await api('POST', '/api/v1/queue/claim', r.credential, { workerId: r.id })).json;
        expect(c.job?.type).toBe('review');
        expect(c.job.parentJobId).toBe(job.id);
        const verdict =
          verdicts[i] === 'approve'
            ? { round, verdict: 'approve', issues: [] }
            : {
                round,
                verdict: 'changes_requested',
                issues: [
                  { severity: 'major', blocking: true, description: 'subtract is untested for negatives' },
                ],
              };
        const done = await api('POST', '/api/v1/queue/complete', r.credential, {
          jobId: c.job.id,
          leaseToken: c.lease.token,
          result: { review: verdict },
        });
        expect(done.status, JSON.stringify(done.json)).toBe(200);
      }
    };
    await review(1, ['block', 'approve']);
    const approving = { round: 1, verdict: 'approve', issues: [] };
    expect(blockedBy(await move('COMPLETE', { completion, review: approving }))).toEqual([
      'no_blocking_issues',
    ]);

    // Changes requested: back to IMPL for round 2, then REVIEW again, both approve, COMPLETE.
    expect((await move('IMPL', {})).allowed).toBe(true);
    expect((await move('REVIEW', { implementation, test_result: reported(0) })).allowed).toBe(true);
    await review(2, ['approve', 'approve']);
    expect((await move('COMPLETE', { completion })).allowed).toBe(true);

    // Reaching COMPLETE completed the job in the same commit; the journal holds every phase move.
    expect((await api('GET', `/api/jobs/${job.id}`, admin)).json.status).toBe('COMPLETED');
    const events = (await api('GET', '/api/v1/events?limit=500', admin)).json.events as {
      kind: string;
      id: string;
      from: string | null;
      to: string;
    }[];
    expect(
      events.filter((e) => e.kind === 'phase' && e.id === job.id).map((e) => `${e.from ?? '∅'}→${e.to}`),
    ).toEqual([
      '∅→PLAN',
      'PLAN→TDD',
      'TDD→IMPL',
      'IMPL→REVIEW',
      'REVIEW→IMPL',
      'IMPL→REVIEW',
      'REVIEW→COMPLETE',
    ]);
  });
});
