/**
 * The workflow phase core (issue 16): a claim of a workflow job answers a phase and a check token; the phase moves
 * only by workflow.transition, decided by the workflow's gates; tokens go stale with the phase and the lease.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhaseTokens } from '../../src/api/phase-tokens.ts';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import type { Principal } from '../../src/contracts/scopes.ts';
import {
  call,
  expectEnvelope,
  freshWs,
  mint,
  startServer,
  TEST_SECRET,
  type TestServer,
} from '../http/support.ts';
import { openTestOverseer, rejection } from '../support/open.ts';
import { PLAN, TINY } from './tiny-workflow.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});

/** A workspace with the tiny workflow, a worker and its credential, and one claimed workflow job. */
async function claimed(options: { leaseSeconds?: number; yaml?: string } = {}) {
  const ws = freshWs('wf');
  const admin = s.client(ws);
  await admin.workflows.put({ yaml: options.yaml ?? TINY });
  const job = await admin.jobs.submit({
    title: 'login',
    workflow: 'tiny',
    ...(options.leaseSeconds ? { leaseSeconds: options.leaseSeconds } : {}),
  });
  const worker = await admin.workers.register({ name: 'w1' });
  const claim = await admin.queue.claim({ workerId: worker.id });
  return { ws, admin, job, worker, claim };
}

/** The library client acting as a token's principal. */
const as = async (ws: string, token: string): Promise<WorkspaceClient & { principal: Principal }> => {
  const principal = await s.t.ov.authenticate(token);
  return Object.assign(s.t.ov.workspace(ws, { principal }), { principal });
};

const transition = (token: string, body: unknown, idempotencyKey?: string) =>
  call(s.app, {
    method: 'POST',
    url: '/api/v1/tasks/transition',
    token,
    body,
    ...(idempotencyKey ? { headers: { 'idempotency-key': idempotencyKey } } : {}),
  });
const snapshot = (token: string) => call(s.app, { method: 'GET', url: '/api/v1/state/snapshot', token });
const refresh = (token: string, body: unknown = {}) =>
  call(s.app, { method: 'POST', url: '/api/v1/tokens/refresh', token, body });

describe('claim of a workflow job', () => {
  it('answers a phase token and a check token beside the lease; a plain job gets none', async () => {
    const { claim, admin, worker } = await claimed();
    expect(claim.phaseToken?.token).toEqual(expect.any(String));
    expect(claim.checkToken?.expiresAt).toBeLessThanOrEqual(Math.ceil(claim.lease!.expiresAt / 1000) * 1000);
    const p = await s.t.ov.authenticate(claim.phaseToken!.token);
    expect(p.phase).toMatchObject({ phase: 'PLAN', epoch: 0, fence: claim.lease!.fence, wrk: worker.id });
    expect((await admin.jobs.get(claim.job!.id)).phase).toMatchObject({
      name: 'tiny',
      version: 1,
      phase: 'PLAN',
      epoch: 0,
      status: 'ACTIVE',
    });
    await admin.jobs.submit({ title: 'plain' });
    const other = await admin.workers.register({ name: 'w2' });
    const plain = await admin.queue.claim({ workerId: other.id });
    expect(plain.phaseToken).toBeUndefined();
    expect(plain.checkToken).toBeUndefined();
    expect((await admin.jobs.get(plain.job!.id)).phase).toBeUndefined();
  });

  it('a heartbeat with the lease answers a fresh check token', async () => {
    const { admin, worker, claim } = await claimed();
    const beat = await admin.queue.heartbeat({ workerId: worker.id, leaseToken: claim.lease!.token });
    expect(beat.checkToken?.token).toEqual(expect.any(String));
  });
});

describe('workflow.transition', () => {
  it('PLAN → BUILD is blocked without acceptance criteria, allowed with a plan; the journal shows the move', async () => {
    const { ws, admin, claim } = await claimed();
    const token = claim.phaseToken!.token;
    const blocked = await transition(token, {
      currentPhase: 'PLAN',
      targetPhase: 'BUILD',
      artifacts: { plan: { summary: 'x', acceptance_criteria: [] } },
    });
    expect(blocked.status, blocked.text).toBe(200);
    expect(blocked.json.allowed).toBe(false);
    expect(blocked.json.blockers).toEqual([
      expect.objectContaining({ gate: 'plan_has_acceptance_criteria' }),
    ]);
    expect((await admin.jobs.get(claim.job!.id)).phase).toMatchObject({
      phase: 'PLAN',
      epoch: 0,
      artifacts: {},
    });

    const moved = await transition(token, {
      currentPhase: 'PLAN',
      targetPhase: 'BUILD',
      artifacts: { plan: PLAN },
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.json).toMatchObject({ allowed: true, phase: 'BUILD', epoch: 1, blockers: [] });
    const view = (await admin.jobs.get(claim.job!.id)).phase!;
    expect(view).toMatchObject({ phase: 'BUILD', epoch: 1 });
    expect(view.artifacts['plan']).toMatchObject({
      phase: 'PLAN',
      epoch: 0,
      digest: expect.stringMatching(/^sha256:/),
    });
    const events = (await admin.events.list()).events.filter((e) => e.kind === 'phase');
    expect(events.map((e) => [e.from, e.to])).toEqual([
      [null, 'PLAN'],
      ['PLAN', 'BUILD'],
    ]);
    // The old token is stale; the new one works; an API token or a phase token in the wrong place is refused.
    expectEnvelope(
      await transition(token, { currentPhase: 'BUILD', targetPhase: 'DONE' }),
      401,
      'PHASE_TOKEN_STALE',
    );
    const next = moved.json.phaseToken.token as string;
    expectEnvelope(
      await transition(next, { currentPhase: 'PLAN', targetPhase: 'BUILD' }),
      409,
      'INVALID_STATE_TRANSITION',
    );
    const apiToken = await mint({ ws, scopes: ['admin'] });
    expectEnvelope(
      await transition(apiToken, { currentPhase: 'BUILD', targetPhase: 'DONE' }),
      401,
      'PHASE_TOKEN_INVALID',
    );
    expectEnvelope(
      await call(s.app, { method: 'GET', url: `/api/jobs/${claim.job!.id}`, token: next }),
      401,
      'PHASE_TOKEN_INVALID',
    );
    const snap = await snapshot(next);
    expect(snap.status, snap.text).toBe(200);
    expect(snap.json).toMatchObject({
      phase: { phase: 'BUILD' },
      allows: { transitions: [{ to: 'DONE', gates: [] }] },
      artifacts: { plan: { phase: 'PLAN' } },
    });
    expect((await snapshot(claim.checkToken!.token)).status).toBe(200);
  });

  it('queue.complete before the final phase answers WORKFLOW_INCOMPLETE; reaching it completes the job in the same commit', async () => {
    const { admin, claim } = await claimed();
    const leaseToken = claim.lease!.token;
    const jobId = claim.job!.id;
    expect(await rejection(admin.queue.complete({ jobId, leaseToken }))).toMatchObject({
      code: 'WORKFLOW_INCOMPLETE',
    });
    const agent = await as(admin.id, claim.phaseToken!.token);
    const moved = await agent.workflow.transition({
      currentPhase: 'PLAN',
      targetPhase: 'BUILD',
      artifacts: { plan: PLAN },
    });
    const agent2 = await as(admin.id, moved.phaseToken!.token);
    const done = await agent2.workflow.transition({ currentPhase: 'BUILD', targetPhase: 'DONE' });
    expect(done).toMatchObject({ allowed: true, phase: 'DONE', epoch: 2 });
    expect(done.phaseToken).toBeUndefined();
    const job = await admin.jobs.get(jobId);
    expect(job.status).toBe('COMPLETED');
    expect(job.phase).toMatchObject({ phase: 'DONE', status: 'COMPLETE' });
    const records = (await admin.events.list()).events.filter((e) => e.id === jobId);
    const move = records.find((e) => e.kind === 'phase' && e.to === 'COMPLETE')!;
    const completed = records.find((e) => e.kind === 'job' && e.to === 'COMPLETED')!;
    expect(move.seq + 1).toBe(completed.seq);
  });

  it('an expired phase token answers TOKEN_EXPIRED on transition; refresh with it works while the lease lives', async () => {
    const { ws, claim, worker } = await claimed();
    const past = new PhaseTokens({ secret: TEST_SECRET }, () => Date.now() - 3 * 3600_000);
    const expired = await past.mintPhaseToken({
      workspaceId: ws,
      jobId: claim.job!.id,
      workerId: worker.id,
      phase: 'PLAN',
      epoch: 0,
      fence: claim.lease!.fence,
      ttlSeconds: 60,
    });
    expectEnvelope(
      await transition(expired.token, { currentPhase: 'PLAN', targetPhase: 'BUILD' }),
      401,
      'TOKEN_EXPIRED',
    );
    expectEnvelope(await snapshot(expired.token), 401, 'TOKEN_EXPIRED');
    const fresh = await refresh(expired.token);
    expect(fresh.status, fresh.text).toBe(200);
    expect(fresh.json).toMatchObject({ jobId: claim.job!.id, phase: 'PLAN', epoch: 0 });
    const moved = await transition(fresh.json.phaseToken.token, {
      currentPhase: 'PLAN',
      targetPhase: 'BUILD',
      artifacts: { plan: PLAN },
    });
    expect(moved.json.allowed).toBe(true);
    // The old phase's token, expired or not, is refused by refresh too.
    expectEnvelope(await refresh(expired.token), 401, 'PHASE_TOKEN_STALE');
    // The worker's own credential refreshes with the job named.
    const byCredential = await refresh(worker.credential.token, { jobId: claim.job!.id });
    expect(byCredential.status, byCredential.text).toBe(200);
    expect(byCredential.json).toMatchObject({ phase: 'BUILD', epoch: 1 });
  });

  it('a terminated lease makes the tokens stale; the phase survives and the next claim gets a token for it', async () => {
    const { admin, claim, worker } = await claimed();
    const agent = await as(admin.id, claim.phaseToken!.token);
    const moved = await agent.workflow.transition({
      currentPhase: 'PLAN',
      targetPhase: 'BUILD',
      artifacts: { plan: PLAN },
    });
    await admin.workers.terminate(worker.id, { reason: 'gone' });
    expectEnvelope(
      await transition(moved.phaseToken!.token, { currentPhase: 'BUILD', targetPhase: 'DONE' }),
      401,
      ['PHASE_TOKEN_STALE', 'UNAUTHENTICATED'],
    );
    expectEnvelope(await snapshot(claim.checkToken!.token), 401, 'PHASE_TOKEN_STALE');
    const job = await admin.jobs.get(claim.job!.id);
    expect(job.phase).toMatchObject({ phase: 'BUILD', epoch: 1 });
    const second = await admin.workers.register({ name: 'w2' });
    const again = await admin.queue.claim({ workerId: second.id });
    expect(again.job?.id).toBe(claim.job!.id);
    const p = await s.t.ov.authenticate(again.phaseToken!.token);
    expect(p.phase).toMatchObject({ phase: 'BUILD', epoch: 1, wrk: second.id });
    const done = await transition(again.phaseToken!.token, { currentPhase: 'BUILD', targetPhase: 'DONE' });
    expect(done.json).toMatchObject({ allowed: true, phase: 'DONE' });
  });

  it('permissive mode records the blockers, journals a warn and lets the move through', async () => {
    const { admin, claim } = await claimed({ yaml: `enforcement: permissive\n${TINY}` });
    const moved = await transition(claim.phaseToken!.token, {
      currentPhase: 'PLAN',
      targetPhase: 'BUILD',
      artifacts: { plan: { summary: 'x', acceptance_criteria: [] } },
    });
    expect(moved.json).toMatchObject({ allowed: true, phase: 'BUILD', warned: true });
    expect(moved.json.blockers).toEqual([expect.objectContaining({ gate: 'plan_has_acceptance_criteria' })]);
    const record = (await admin.events.list()).events.find((e) => e.kind === 'phase' && e.to === 'BUILD')!;
    expect(record.severity).toBe('warn');
    expect((await admin.jobs.get(claim.job!.id)).phase).toMatchObject({ warned: true, phase: 'BUILD' });
  });

  it('a replay with the same Idempotency-Key answers the move again, with a token for the current phase', async () => {
    const { claim } = await claimed();
    const body = { currentPhase: 'PLAN', targetPhase: 'BUILD', artifacts: { plan: PLAN } };
    const first = await transition(claim.phaseToken!.token, body, 'move-1');
    const again = await transition(claim.phaseToken!.token, body, 'move-1');
    expect(again.status, again.text).toBe(200);
    expect(again.json).toMatchObject({ allowed: true, phase: 'BUILD', epoch: 1 });
    expect(again.json.phaseToken.token).not.toBe(first.json.phaseToken.token);
    const p = await s.t.ov.authenticate(again.json.phaseToken.token as string);
    expect(p.phase).toMatchObject({ phase: 'BUILD', epoch: 1 });
  });
});

describe('across a restart', () => {
  it('keeps the phase, its epoch and artifacts, and the tokens of the live lease', async () => {
    const t = await openTestOverseer({ tokenSecret: TEST_SECRET });
    try {
      const admin = t.ov.workspace('acme');
      const job = await admin.jobs.submit({ title: 'x', workflow: 'default' });
      const w = await admin.workers.register({ name: 'agent' });
      const claim = await admin.queue.claim({ workerId: w.id });
      const agent = t.ov.workspace('acme', { principal: await t.ov.authenticate(claim.phaseToken!.token) });
      const moved = await agent.workflow.transition({
        currentPhase: 'PLAN',
        targetPhase: 'TDD',
        artifacts: { plan: PLAN, scope: { files: [{ path: 'src/login.ts', change: 'create' }] } },
      });
      expect(moved).toMatchObject({ allowed: true, phase: 'TDD' });
      const ov = await t.reopen();
      const after = (await ov.workspace('acme').jobs.get(job.id)).phase!;
      expect(after).toMatchObject({ phase: 'TDD', epoch: 1 });
      expect(Object.keys(after.artifacts).sort()).toEqual(['plan', 'scope']);
      const again = ov.workspace('acme', { principal: await ov.authenticate(moved.phaseToken!.token) });
      expect((await again.workflow.snapshot()).artifacts['plan']).toMatchObject({ phase: 'PLAN' });
      const stale = ov.workspace('acme', { principal: await ov.authenticate(claim.phaseToken!.token) });
      expect(await rejection(stale.workflow.snapshot())).toMatchObject({ code: 'PHASE_TOKEN_STALE' });
    } finally {
      await t.cleanup();
    }
  });
});

describe('the end of a workflow job', () => {
  it('canceling the job cancels its phase: journaled, and the tokens go stale', async () => {
    const { admin, job, claim } = await claimed();
    await admin.jobs.cancel(job.id, { reason: 'not needed' });
    const records = (await admin.events.list({ limit: 500 })).events.filter((e) => e.kind === 'phase');
    expect(records.map((r) => `${r.from ?? '∅'} → ${r.to} (${r.event})`)).toEqual([
      '∅ → PLAN (START)',
      'PLAN → CANCELED (CANCEL)',
    ]);
    const refused = await transition(claim.phaseToken!.token, {
      currentPhase: 'PLAN',
      targetPhase: 'BUILD',
      artifacts: { plan: PLAN },
    });
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe('PHASE_TOKEN_STALE');
  });
});

describe("a workflow's own artifact schemas", () => {
  it('check the artifacts they name: an invalid one blocks naming its field, a valid one moves', async () => {
    const yaml = `name: designed
version: 1
artifact_schemas:
  design: design.schema.json
phases:
  - id: DESIGN
    artifacts: [design]
  - id: DONE
    final: true
transitions:
  - from: DESIGN
    to: DONE
`;
    const schema = {
      type: 'object',
      required: ['diagram'],
      properties: { diagram: { type: 'string', minLength: 1 } },
    };
    const ws = freshWs('wf');
    const admin = s.client(ws);
    await admin.workflows.put({ yaml, schemas: { 'design.schema.json': schema } });
    await admin.jobs.submit({ title: 'design it', workflow: 'designed' });
    const worker = await admin.workers.register({ name: 'w' });
    const claim = await admin.queue.claim({ workerId: worker.id });
    const move = (design: unknown) =>
      transition(claim.phaseToken!.token, {
        currentPhase: 'DESIGN',
        targetPhase: 'DONE',
        artifacts: { design },
      });
    const refused = await move({ diagram: 42 });
    expect(refused.json).toMatchObject({ allowed: false });
    expect(refused.json.blockers[0]).toMatchObject({ gate: 'artifact', details: { artifact: 'design' } });
    const moved = await move({ diagram: 'boxes and arrows' });
    expect(moved.json).toMatchObject({ allowed: true, phase: 'DONE' });
  });
});
