/** Edges of the identity rules the matrix does not reach: a held principal after revocation, sessions on a job. */
import { afterEach, describe, expect, it } from 'vitest';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe('identity edges', () => {
  it('a library principal of a worker credential stops working once its worker ends, like the token', async () => {
    t = await openTestOverseer();
    const admin = t.ov.workspace('acme');
    const worker = await admin.workers.register({ name: 'a' });
    const agent = t.ov.workspace('acme', { principal: await t.ov.authenticate(worker.credential.token) });
    expect((await agent.workers.heartbeat(worker.id)).directive).toBe('continue');
    await admin.workers.terminate(worker.id);
    const err = await rejection(agent.workers.heartbeat(worker.id));
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.details).toMatchObject({ reason: 'ERR_REVOKED', workerId: worker.id });
    expect((await rejection(t.ov.authenticate(worker.credential.token))).code).toBe('UNAUTHENTICATED');
  });

  it("a worker opens a session for its own job, not for another worker's", async () => {
    t = await openTestOverseer();
    const admin = t.ov.workspace('acme');
    const [a, b] = [await admin.workers.register({ name: 'a' }), await admin.workers.register({ name: 'b' })];
    const jobA = await admin.jobs.submit({ title: 'a', capabilities: [] });
    await admin.queue.claim({ workerId: a.id });
    const jobB = await admin.jobs.submit({ title: 'b' });
    await admin.queue.claim({ workerId: b.id });
    const agentA = t.ov.workspace('acme', { principal: await t.ov.authenticate(a.credential.token) });
    expect((await agentA.sessions.open({ workerId: a.id, jobId: jobA.id })).status).toBe('ACTIVE');
    const err = await rejection(agentA.sessions.open({ workerId: a.id, jobId: jobB.id }));
    expect(err.code).toBe('NOT_YOUR_WORKER');
    expect(err.details).toMatchObject({ workerId: b.id, jobId: jobB.id });
    // A supervisor may open one for any job (e.g. to attach a human's session).
    expect((await admin.sessions.open({ workerId: a.id, jobId: jobB.id })).status).toBe('ACTIVE');
  });
});
