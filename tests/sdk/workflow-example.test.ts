/** examples/04-workflow-agent.ts, the agent of docs/agents.md, run against a real server with a tiny workflow. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/contracts/scopes.ts';
import { startNatsServer, type NatsServer } from '../../src/testing.ts';
import { startDataNode, tokenFor, type Node } from '../nats/support.ts';
import { supervisor } from './support.ts';

/**
 * PLAN → TDD → IMPL → REVIEW → COMPLETE with reported artifacts (schema-checked) and no review jobs. The test gates
 * (`tests_are_failing`, `all_tests_pass`) read the job's working tree on the node (`execution.workdir`), which this
 * run has none of: tests/workflow/verified-transition.test.ts covers them.
 */
const REPORTED = `name: reported
version: 1
phases:
  - id: PLAN
    artifacts: [plan]
  - id: TDD
    artifacts: [tests, test_result]
  - id: IMPL
    artifacts: [implementation, test_result]
  - id: REVIEW
  - id: COMPLETE
    final: true
transitions:
  - { from: PLAN, to: TDD, gates: [plan_has_acceptance_criteria] }
  - { from: TDD, to: IMPL }
  - { from: IMPL, to: REVIEW }
  - { from: REVIEW, to: COMPLETE, artifacts: [completion] }
`;

let ns: NatsServer;
let node: Node;

beforeAll(async () => {
  ns = await startNatsServer();
  node = await startDataNode(ns.url);
});
afterAll(async () => {
  await node?.close();
  await ns?.stop();
});

describe('examples/04-workflow-agent.ts', () => {
  it('is printed in docs/agents.md exactly', () => {
    const doc = readFileSync('docs/agents.md', 'utf8');
    const block = /## A complete agent[\s\S]*?```ts\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBe(readFileSync('examples/04-workflow-agent.ts', 'utf8'));
  });

  it('claims, is blocked once, moves PLAN → TDD → IMPL → REVIEW → COMPLETE, refreshes, and completes the job', async () => {
    const workspaceId = 'example-wf';
    const sup = supervisor(node.server.url, workspaceId, await tokenFor(workspaceId, ['admin'], 'sup'));
    await sup.post('/api/v1/workflows', { yaml: REPORTED });
    const job = await sup.submit('login', { workflow: 'reported' });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/04-workflow-agent.ts'],
      {
        env: {
          ...process.env,
          OVERSEER_URL: node.server.url,
          OVERSEER_TOKEN: await tokenFor(workspaceId, ROLES.runner, 'example-runner'),
          OVERSEER_WORKSPACE: workspaceId,
        },
        timeout: 30_000,
      },
    );
    expect(stdout.trim().split('\n')).toEqual([
      'claimed login in PLAN',
      'contract: # Workflow contract: reported@1',
      'allowed moves: TDD',
      expect.stringMatching(/^blocked by plan_has_acceptance_criteria: /),
      '→ TDD',
      '→ IMPL',
      'refreshed in IMPL',
      '→ REVIEW',
      '→ COMPLETE',
      'completed',
    ]);
    expect((await sup.job(job.id)).status).toBe('COMPLETED');
    const moves = (await sup.events()).filter((e) => e.kind === 'phase' && e.id === job.id).map((e) => e.to);
    expect(moves).toEqual(expect.arrayContaining(['TDD', 'IMPL', 'REVIEW', 'COMPLETE']));
  }, 40_000);
});
