/**
 * workflow.contract (issue 16, "For agents"): the contract of a job's workflow for an agent's prompt, rendered by a
 * pure function, and read over HTTP by the lease holder or a reader; the seed's claim route on queue.claim.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefaultWorkflow } from '../../src/api/workflow-file.ts';
import { renderContract } from '../../src/domain/workflow/contract.ts';
import { call, expectEnvelope, freshWs, mint, startServer, type TestServer } from '../http/support.ts';

const REQUIRED: Record<string, string[]> = { plan: ['summary', 'acceptance_criteria'], scope: ['files'] };

describe('renderContract with the default workflow', () => {
  const { workflow } = loadDefaultWorkflow();
  const text = renderContract({
    workflow,
    jobId: 'job_1',
    phase: 'TDD',
    requiredFields: (name) => REQUIRED[name] ?? (name === 'tests' ? [] : undefined),
  });

  it('lists the phases in order and marks the current one', () => {
    expect(text).toContain('# Workflow contract: default@1');
    expect(text).toContain(
      'Job `job_1` is in phase **TDD**. Phases in order: PLAN → TDD → IMPL → REVIEW → COMPLETE.',
    );
    const order = ['### 1. PLAN', '### 2. TDD (current)', '### 3. IMPL', '### 4. REVIEW', '### 5. COMPLETE'];
    const at = order.map((h) => text.indexOf(h));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text).toContain('Final phase: reaching it completes the job.');
  });

  it('says what each phase must produce, with the schemas’ required fields', () => {
    expect(text).toContain(
      'Must produce:\n- `plan`: required fields `summary`, `acceptance_criteria`\n- `scope`: required fields `files`',
    );
    expect(text).toContain('- `tests`: required fields none');
    expect(text).toContain("- `test_result` (the workflow's own schema)");
  });

  it('summarizes what each phase allows', () => {
    const plan = text.slice(text.indexOf('### 1. PLAN'), text.indexOf('### 2. TDD'));
    expect(plan).toContain(
      '- Tools allowed: `read`, `list`, `search`, `run_command`; denied: `write`, `edit`, `network`, `mcp`, `agent`',
    );
    expect(plan).toContain('- Writes allowed to: none');
    expect(plan).toContain('- Commands allowed: `ls *`');
    const tdd = text.slice(text.indexOf('### 2. TDD'), text.indexOf('### 3. IMPL'));
    expect(tdd).toContain('- Writes allowed to: `tests/**`');
  });

  it('names the gates of each move and whether its evidence must be verified', () => {
    expect(text).toContain('- **→ TDD**: artifacts `plan`, `scope`; evidence reported');
    expect(text).toContain(
      '  - gate `plan_has_acceptance_criteria`: the `plan` has at least one non-empty acceptance criterion',
    );
    expect(text).toMatch(/- \*\*→ IMPL\*\*: artifacts `tests`, `test_result`; evidence \*\*verified\*\*/);
    expect(text).toContain('  - gate `tests_are_failing`:');
    expect(text).toContain('- **→ IMPL** (`changes_requested`)');
    expect(text).toContain('- **→ COMPLETE**: artifacts `completion`; evidence reported');
    expect(text).toContain('  - gate `no_blocking_issues`:');
  });

  it('says how to call Overseer: routes, tokens, refresh', () => {
    const how = text.slice(text.indexOf('## How to call Overseer'));
    for (const route of [
      'POST /api/v1/tasks/claim',
      'GET /api/v1/state/snapshot',
      'POST /api/v1/tasks/transition',
      'POST /api/v1/tokens/refresh',
    ])
      expect(how).toContain(route);
    expect(how).toContain('`Authorization: Bearer <token>`, never in a URL');
    expect(how).toContain('PHASE_TOKEN_STALE');
  });

  it('a job before its first claim has no current phase', () => {
    const before = renderContract({ workflow, jobId: 'job_2', phase: null, requiredFields: () => undefined });
    expect(before).toContain('Job `job_2` has not started its workflow yet.');
    expect(before).not.toContain('(current)');
  });
});

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(async () => {
  await s?.close();
});

/** A workspace with a job under the default workflow, claimed by a worker through its own credential. */
async function claimedDefault() {
  const ws = freshWs('contract');
  const admin = s.client(ws);
  const job = await admin.jobs.submit({ title: 'login', workflow: 'default' });
  const worker = await admin.workers.register({ name: 'w1', capabilities: ['ts', 'review'] });
  const other = await admin.workers.register({ name: 'w2' });
  const claim = await admin.queue.claim({ workerId: worker.id });
  return { ws, admin, job, worker, other, claim };
}

const contract = (token: string, id: string, ws?: string) =>
  call(s.app, { method: 'GET', url: `/api/v1/jobs/${id}/contract${ws ? `?workspaceId=${ws}` : ''}`, token });

describe('GET /api/v1/jobs/{id}/contract', () => {
  it('answers the lease holder (credential or phase token) and readers, not another worker', async () => {
    const { ws, job, worker, other, claim } = await claimedDefault();
    const own = await contract(worker.credential.token, job.id);
    expect(own.status, own.text).toBe(200);
    expect(own.json).toMatchObject({
      jobId: job.id,
      workflow: { name: 'default', version: 1 },
      phase: 'PLAN',
    });
    expect(own.json.markdown).toContain('### 1. PLAN (current)');
    expect(own.json.markdown).toContain('- `plan`: required fields `summary`, `acceptance_criteria`');
    expect((await contract(claim.phaseToken!.token, job.id)).status).toBe(200);
    expect((await contract(await mint({ ws, scopes: ['jobs:read'] }), job.id)).status).toBe(200);
    expectEnvelope(await contract(other.credential.token, job.id), 403, 'NOT_YOUR_WORKER');
  });

  it('a phase token of another job is refused; a job under no workflow has no contract', async () => {
    const a = await claimedDefault();
    const plain = await a.admin.jobs.submit({ title: 'plain' });
    expectEnvelope(await contract(a.claim.phaseToken!.token, plain.id), 401, 'PHASE_TOKEN_INVALID');
    expectEnvelope(
      await contract(await mint({ ws: a.ws, scopes: ['jobs:read'] }), plain.id),
      404,
      'WORKFLOW_NOT_FOUND',
    );
  });
});

describe('POST /api/v1/tasks/claim', () => {
  const claimAs = (token: string, body: unknown) =>
    call(s.app, { method: 'POST', url: '/api/v1/tasks/claim', token, body });

  it('claims for the caller’s own worker, with phase and check tokens', async () => {
    const ws = freshWs('tclaim');
    const admin = s.client(ws);
    const job = await admin.jobs.submit({ title: 'login', workflow: 'default' });
    const worker = await admin.workers.register({ name: 'w1', capabilities: ['ts'] });
    const res = await claimAs(worker.credential.token, { agentId: worker.id });
    expect(res.status, res.text).toBe(200);
    expect(res.json.job.id).toBe(job.id);
    expect(res.json.phaseToken.token).toEqual(expect.any(String));
    expect(res.json.checkToken.token).toEqual(expect.any(String));
  });

  it('another worker’s agentId is 403 NOT_YOUR_WORKER; capabilities must be the worker’s own', async () => {
    const ws = freshWs('tclaim');
    const admin = s.client(ws);
    const mine = await admin.workers.register({ name: 'w1', capabilities: ['ts'] });
    const theirs = await admin.workers.register({ name: 'w2' });
    expectEnvelope(await claimAs(mine.credential.token, { agentId: theirs.id }), 403, 'NOT_YOUR_WORKER');
    const bad = await claimAs(mine.credential.token, { agentId: mine.id, capabilities: ['python'] });
    expectEnvelope(bad, 400, 'VALIDATION_FAILED');
    expect(bad.json.error.message).toContain('python');
  });

  it('capabilities narrow what the claim takes', async () => {
    const ws = freshWs('tclaim');
    const admin = s.client(ws);
    await admin.jobs.submit({ title: 'needs review', capabilities: ['review'] });
    const worker = await admin.workers.register({ name: 'w1', capabilities: ['ts', 'review'] });
    const narrowed = await claimAs(worker.credential.token, { agentId: worker.id, capabilities: ['ts'] });
    expect(narrowed.status, narrowed.text).toBe(200);
    expect(narrowed.json.job).toBeNull();
    const all = await claimAs(worker.credential.token, { agentId: worker.id });
    expect(all.json.job.title).toBe('needs review');
  });
});
