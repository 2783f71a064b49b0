// An agent that works one task under a workflow over HTTP: claim → read the snapshot → PLAN → TDD → IMPL → REVIEW
// → COMPLETE, handing in each phase's artifacts, fixing what a refused move's blockers name, and refreshing its
// phase token before it lapses (the SDK does that on its own too). Env: OVERSEER_URL, OVERSEER_TOKEN (a runner's
// token), OVERSEER_WORKSPACE. The artifacts here are canned: a real agent writes the plan, the tests and the code.
import { connectAgent, type TransitionAnswer } from '../src/sdk/index.ts';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name}.`);
  return value;
};

const agent = await connectAgent({
  workspaceId: env('OVERSEER_WORKSPACE'),
  token: env('OVERSEER_TOKEN'),
  http: env('OVERSEER_URL'),
});
await agent.register({ name: `workflow-agent-${process.pid}` });

const task = await agent.claimTask({ waitMs: 10_000 });
if (!task) throw new Error('No task came.');
console.log(`claimed ${task.job.title} in ${task.phase}`);

// What to do, for the agent's prompt: the workflow's contract, and where the task stands.
const { markdown } = await agent.getContract();
console.log(`contract: ${markdown.split('\n')[0]}`);
const snapshot = await agent.getStateSnapshot();
console.log(`allowed moves: ${snapshot.allows.transitions.map((t) => t.to).join(', ')}`);

/** A test run as the agent reports it (evidence `reported`): one case in tests/login.test.ts. */
const testRun = (status: 'passed' | 'failed') => ({
  format: 'tap' as const,
  exit_code: status === 'passed' ? 0 : 1,
  counts: {
    total: 1,
    passed: status === 'passed' ? 1 : 0,
    failed: status === 'failed' ? 1 : 0,
    skipped: 0,
    todo: 0,
  },
  cases: [{ name: 'logs in', file: 'tests/login.test.ts', status }],
});

/** Moves on, and says how it went. */
const move = async (targetPhase: string, artifacts: Record<string, unknown>): Promise<TransitionAnswer> => {
  const answer = await agent.requestTransition({ targetPhase, artifacts });
  if (answer.allowed) console.log(`→ ${answer.phase}`);
  else for (const b of answer.blockers) console.log(`blocked by ${b.gate}: ${b.reason}`);
  return answer;
};

// PLAN → TDD: the first plan forgets its acceptance criteria; the blocker says so, the second plan has them.
const plan = { summary: 'Add login.', acceptance_criteria: [] as string[] };
if (!(await move('TDD', { plan })).allowed) {
  plan.acceptance_criteria.push('A user logs in with a password.');
  await move('TDD', { plan });
}

// TDD → IMPL: the new test, seen failing (under the default workflow the node runs it: evidence `verified`).
await move('IMPL', {
  tests: { files: ['tests/login.test.ts'], cases: [{ name: 'logs in', file: 'tests/login.test.ts' }] },
  test_result: testRun('failed'),
});

// A long phase (a human reviewing the plan, a slow build): refresh the phase token while the lease lives.
const { phase } = await agent.refreshToken();
console.log(`refreshed in ${phase}`);

// IMPL → REVIEW: the tests pass now.
await move('REVIEW', {
  implementation: { summary: 'Password login.', files_changed: ['src/login.ts'] },
  test_result: testRun('passed'),
});

// REVIEW → COMPLETE: the final phase completes the job (no `queue.complete` needed).
const done = await move('COMPLETE', {
  completion: {
    summary: 'Login works.',
    acceptance: [{ criterion: 'A user logs in with a password.', met: true }],
  },
});
console.log(done.allowed && !done.phaseToken ? 'completed' : 'not completed');
await agent.close();
