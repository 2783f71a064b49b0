/**
 * The agent SDK's workflow calls (issue 16, "For agents") over HTTP and NATS: claimTask keeps the phase and check
 * tokens, getStateSnapshot and requestTransition carry the phase token, a refused move answers its blockers, an
 * allowed one hands over the new token (the old one goes stale), and the token is refreshed before it lapses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent, OverseerError, type Agent, type AgentOptions } from '../../src/sdk/index.ts';
import { startNatsServer, type NatsServer } from '../../src/testing.ts';
import { rejection } from '../support/open.ts';
import { startDataNode, tokenFor, type Node } from '../nats/support.ts';
import { supervisor, type Supervisor } from './support.ts';
import { PLAN, TINY } from '../workflow/tiny-workflow.ts';

let ns: NatsServer;
let node: Node;
let admin: string;

beforeAll(async () => {
  ns = await startNatsServer();
  node = await startDataNode(ns.url);
  admin = await tokenFor('sdk-admin', ['admin'], 'supervisor');
});
afterAll(async () => {
  await node?.close();
  await ns?.stop();
});

const transports = [
  { kind: 'http' as const, workspaceId: 'sdkwf-http' },
  { kind: 'nats' as const, workspaceId: 'sdkwf-nats' },
];

describe.each(transports)('the agent works a workflow task over $kind', ({ kind, workspaceId }) => {
  let sup: Supervisor;
  let workerToken: string;
  const agents: Agent[] = [];
  /** A registered agent; `clock` skews its time. */
  const agentFor = async (name: string, clock?: { now(): number }): Promise<Agent> => {
    const options = {
      workspaceId,
      token: workerToken,
      ...(kind === 'http' ? { http: node.server.url } : { nats: ns.url }),
      ...(clock ? { clock } : {}),
    } as AgentOptions;
    const agent = await connectAgent(options);
    agents.push(agent);
    await agent.register({ name });
    return agent;
  };
  /** `GET /api/v1/state/snapshot` with a token, over plain HTTP: its status and error code. */
  const snapshotWith = async (token: string) => {
    const res = await fetch(`${node.server.url}/api/v1/state/snapshot`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
  };

  beforeAll(async () => {
    workerToken = await tokenFor(workspaceId, ['queue:work', 'jobs:read'], 'agent-wf');
    sup = supervisor(node.server.url, workspaceId, admin);
    await sup.post('/api/v1/workflows', { yaml: TINY });
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
  });

  it('claims, reads the snapshot, is refused with blockers, moves, and completes by the final phase', async () => {
    const agent = await agentFor('wf-1');
    const job = await sup.submit('login', { workflow: 'tiny' });
    const task = await agent.claimTask({ waitMs: 1_000 });
    expect(task?.job.id).toBe(job.id);
    expect(task?.phase).toBe('PLAN');
    expect(agent.task.phaseToken?.token).toEqual(expect.any(String));
    expect(agent.task.checkToken?.token).toEqual(expect.any(String));

    const snapshot = await agent.getStateSnapshot();
    expect(snapshot.phase.phase).toBe('PLAN');
    expect(snapshot.allows.transitions).toEqual([
      expect.objectContaining({ to: 'BUILD', artifacts: ['plan'], evidence: 'reported' }),
    ]);
    expect((await agent.getContract()).markdown).toContain('### 1. PLAN (current)');

    const refused = await agent.requestTransition({
      targetPhase: 'BUILD',
      artifacts: { plan: { summary: 'x', acceptance_criteria: [] } },
    });
    expect(refused.allowed).toBe(false);
    expect(refused.blockers).toEqual([expect.objectContaining({ gate: 'plan_has_acceptance_criteria' })]);
    expect(agent.task.phase).toBe('PLAN');

    const planToken = agent.task.phaseToken!.token;
    const moved = await agent.requestTransition({ targetPhase: 'BUILD', artifacts: { plan: PLAN } });
    expect(moved).toMatchObject({ allowed: true, phase: 'BUILD' });
    expect(agent.task.phase).toBe('BUILD');
    expect(agent.task.phaseToken!.token).not.toBe(planToken);
    expect(await snapshotWith(planToken)).toEqual({ status: 401, code: 'PHASE_TOKEN_STALE' });
    expect((await agent.getStateSnapshot()).phase.phase).toBe('BUILD');

    const done = await agent.requestTransition({ targetPhase: 'DONE' });
    expect(done).toMatchObject({ allowed: true, phase: 'DONE' });
    expect(done.phaseToken).toBeUndefined();
    expect((await sup.job(job.id)).status).toBe('COMPLETED');
    const after = await rejection(agent.getStateSnapshot());
    expect(after).toBeInstanceOf(OverseerError);
    expect((after as OverseerError).code).toBe('VALIDATION_FAILED');
  });

  it('refreshes the phase token on its own when less than 10 % of its life is left, and on demand', async () => {
    let skew = 0;
    const agent = await agentFor('wf-2', { now: () => Date.now() + skew });
    await sup.submit('refresh', { workflow: 'tiny' });
    await agent.claimTask({ waitMs: 1_000 });
    const first = agent.task.phaseToken!;
    skew = (first.expiresAt - Date.now()) * 0.85; // 15 % left: no refresh yet
    await agent.getStateSnapshot();
    expect(agent.task.phaseToken).toBe(first);
    skew = (first.expiresAt - Date.now()) * 0.95; // 5 % left: refreshed before the call
    await agent.getStateSnapshot();
    const second = agent.task.phaseToken!;
    expect(second.token).not.toBe(first.token);
    skew = 0;
    const refreshed = await agent.refreshToken();
    expect(refreshed.phase).toBe('PLAN');
    expect(agent.task.phaseToken!.token).toBe(refreshed.phaseToken.token);
    expect(agent.task.checkToken!.token).toBe(refreshed.checkToken!.token);
  });

  it('a phase call without a workflow task is a typed error; a move the workflow lacks is refused', async () => {
    const agent = await agentFor('wf-3');
    const none = await rejection(agent.requestTransition({ targetPhase: 'BUILD' }));
    expect(none).toMatchObject({ code: 'VALIDATION_FAILED' });
    await sup.submit('wrong', { workflow: 'tiny' });
    await agent.claimTask({ waitMs: 1_000 });
    const nowhere = await agent.requestTransition({ targetPhase: 'DONE' });
    expect(nowhere.allowed).toBe(false);
    expect(nowhere.blockers.length).toBeGreaterThan(0);
    expect(agent.task.phase).toBe('PLAN');
  });
});
