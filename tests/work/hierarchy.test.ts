import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceClient } from '../../src/index.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

async function claimAs(ws: WorkspaceClient, name: string) {
  const w = await ws.workers.register({ name });
  const c = await ws.queue.claim({ workerId: w.id });
  return { worker: w, job: c.job!, token: c.lease!.token };
}

describe('hierarchy', () => {
  it('a two-level hierarchical job runs end to end', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const root = await ws.jobs.submit({
      title: 'feature',
      resources: [{ name: 'repo:api' }],
      workerCount: 2,
    });
    const lead = await claimAs(ws, 'lead');
    // The lead submits its children in one command, then reports its own part done.
    const children = await ws.jobs.submitMany([
      { title: 'api', parentJobId: root.id, resources: [{ name: 'repo:api' }] },
      { title: 'ui', parentJobId: root.id },
    ]);
    expect(children.map((c) => c.depth)).toEqual([1, 1]);
    const own = await ws.queue.complete({ jobId: root.id, leaseToken: lead.token, claimNext: true });
    expect(own.job.status).toBe('RUNNING');
    expect((await ws.workers.get(lead.worker.id)).status).toBe('RUNNING'); // it claimed a child at once
    const usage = await ws.resources.usage();
    // The parent keeps its depth slot and its lock, not its worker slots.
    expect(usage.byDepth[0]).toEqual({ runningJobs: 1, workerSlots: 0 });
    expect(usage.locks['repo:api']).toBe(root.id);
    // The child takes the parent's lock re-entrantly.
    expect(own.next?.job?.title).toBe('api');
    const grandchild = await ws.jobs.submit({ title: 'api tests', parentJobId: own.next!.job!.id });
    expect(grandchild.depth).toBe(2);
    const apiDone = await ws.queue.complete({
      jobId: own.next!.job!.id,
      leaseToken: own.next!.lease!.token,
      claimNext: true,
    });
    expect(apiDone.job.status).toBe('RUNNING');
    // api waits for its grandchild; claimNext took the next ready job.
    const next = apiDone.next!;
    const titles = [next.job!.title];
    const second = await ws.queue.complete({
      jobId: next.job!.id,
      leaseToken: next.lease!.token,
      claimNext: true,
    });
    titles.push(second.next!.job!.title);
    expect(titles.sort()).toEqual(['api tests', 'ui']);
    expect((await ws.jobs.get(root.id)).status).toBe('RUNNING');
    await ws.queue.complete({ jobId: second.next!.job!.id, leaseToken: second.next!.lease!.token });
    expect((await ws.jobs.get(root.id)).status).toBe('COMPLETED');
    expect((await ws.jobs.get(own.next!.job!.id)).status).toBe('COMPLETED');
    expect(await ws.resources.usage()).toMatchObject({
      workspace: { runningJobs: 0, workerSlots: 0 },
      locks: {},
    });
    const { events } = await ws.events.list({ limit: 500 });
    const completedAt = (id: string) => events.find((e) => e.id === id && e.to === 'COMPLETED')!.seq;
    for (const c of [...children, grandchild]) expect(completedAt(c.id)).toBeLessThan(completedAt(root.id));
  });

  it('a FAILED child fails its parent, which first cancels its other descendants', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const root = await ws.jobs.submit({ title: 'root' });
    const lead = await claimAs(ws, 'lead');
    const [bad, other] = await ws.jobs.submitMany([
      { title: 'bad', parentJobId: root.id, execution: { maxRetries: 0 } },
      { title: 'other', parentJobId: root.id },
    ]);
    const deep = await ws.jobs.submit({ title: 'deep', parentJobId: other!.id });
    const worker = await claimAs(ws, 'w');
    expect(worker.job.id).toBe(bad!.id);
    await ws.queue.fail({ jobId: bad!.id, leaseToken: worker.token, reason: 'compile error' });
    expect(await ws.jobs.get(root.id)).toMatchObject({ status: 'FAILED' });
    expect((await ws.jobs.get(root.id)).lastError).toContain('compile error');
    expect((await ws.jobs.get(other!.id)).status).toBe('CANCELED');
    expect((await ws.jobs.get(deep.id)).status).toBe('CANCELED');
    // The parent's worker held its lease: it is told to cancel.
    expect((await ws.workers.heartbeat(lead.worker.id, { leaseToken: lead.token })).directive).toBe('cancel');
  });

  it('a failed child fails its parent even while the parent is not running', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const root = await ws.jobs.submit({ title: 'root', hold: true });
    const child = await ws.jobs.submit({
      title: 'child',
      parentJobId: root.id,
      execution: { maxRetries: 0 },
    });
    const w = await claimAs(ws, 'w');
    expect(w.job.id).toBe(child.id);
    expect((await ws.queue.fail({ jobId: child.id, leaseToken: w.token, reason: 'boom' })).job.status).toBe(
      'FAILED',
    );
    expect((await ws.jobs.get(root.id)).status).toBe('FAILED');
  });

  it('failParentOnFailure: false keeps the parent going', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const root = await ws.jobs.submit({ title: 'root' });
    const lead = await claimAs(ws, 'lead');
    const child = await ws.jobs.submit({
      title: 'optional',
      parentJobId: root.id,
      failParentOnFailure: false,
    });
    await ws.queue.complete({ jobId: root.id, leaseToken: lead.token });
    const w = await claimAs(ws, 'w');
    expect(w.job.id).toBe(child.id);
    await ws.queue.fail({ jobId: child.id, leaseToken: w.token, reason: 'meh', retryable: false });
    expect((await ws.jobs.get(root.id)).status).toBe('COMPLETED');
  });

  it('cancel cascades to every descendant and releases their resources', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const root = await ws.jobs.submit({ title: 'root', resources: [{ name: 'repo:x' }] });
    const lead = await claimAs(ws, 'lead');
    const child = await ws.jobs.submit({ title: 'child', parentJobId: root.id });
    const w = await claimAs(ws, 'w');
    expect(w.job.id).toBe(child.id);
    await ws.jobs.cancel(root.id, { reason: 'scrapped' });
    expect((await ws.jobs.get(child.id)).status).toBe('CANCELED');
    expect((await ws.workers.get(w.worker.id)).status).toBe('IDLE');
    expect((await ws.workers.get(lead.worker.id)).status).toBe('IDLE');
    expect(await ws.resources.usage()).toMatchObject({
      workspace: { runningJobs: 0, workerSlots: 0 },
      locks: {},
    });
  });

  it('refuses children deeper than 5 and children of final parents', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    let parent = await ws.jobs.submit({ title: 'd0' });
    for (let d = 1; d <= 5; d++) parent = await ws.jobs.submit({ title: `d${d}`, parentJobId: parent.id });
    expect((await rejection(ws.jobs.submit({ title: 'd6', parentJobId: parent.id }))).code).toBe(
      'MAX_DEPTH_EXCEEDED',
    );
    await ws.jobs.cancel(parent.id);
    expect((await rejection(ws.jobs.submit({ title: 'late', parentJobId: parent.id }))).code).toBe(
      'INVALID_STATE_TRANSITION',
    );
  });
});

describe('dependencies', () => {
  it('PENDING until every dependency is COMPLETED, then QUEUED', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const [a, b] = await ws.jobs.submitMany([{ title: 'a' }, { title: 'b' }]);
    const c = await ws.jobs.submit({ title: 'c', dependsOn: [a!.id, b!.id] });
    expect(c.status).toBe('PENDING');
    const w = await ws.workers.register({ name: 'w' });
    let claim = await ws.queue.claim({ workerId: w.id });
    claim = (
      await ws.queue.complete({ jobId: claim.job!.id, leaseToken: claim.lease!.token, claimNext: true })
    ).next!;
    expect((await ws.jobs.get(c.id)).status).toBe('PENDING');
    claim = (
      await ws.queue.complete({ jobId: claim.job!.id, leaseToken: claim.lease!.token, claimNext: true })
    ).next!;
    expect(claim.job?.id).toBe(c.id);
  });

  it('a dependency ending FAILED, CANCELED or BLOCKED blocks its dependents, transitively', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const a = await ws.jobs.submit({ title: 'a' });
    const b = await ws.jobs.submit({ title: 'b', dependsOn: [a.id] });
    const c = await ws.jobs.submit({ title: 'c', dependsOn: [b.id] });
    await ws.jobs.cancel(a.id);
    expect((await ws.jobs.get(b.id)).status).toBe('BLOCKED');
    expect((await ws.jobs.get(c.id)).status).toBe('BLOCKED');
    expect((await ws.jobs.get(c.id)).lastError).toContain(b.id);
  });

  it('a job may not wait for its own ancestor, directly or through other jobs (it would wait forever)', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    await ws.jobs.submit({ title: 'parent' });
    const parent = await claimAs(ws, 'p');
    const direct = await rejection(
      ws.jobs.submit({ title: 'k', parentJobId: parent.job.id, dependsOn: [parent.job.id] }),
    );
    expect(direct.code).toBe('DEPENDENCY_CYCLE');
    expect(direct.details).toEqual({
      ancestor: parent.job.id,
      path: [parent.job.id],
      cycle: ['(new job)', parent.job.id, '(new job)'],
    });
    // Through another job: b (no parent) waits for the parent; a child waiting for b would wait for the parent.
    const b = await ws.jobs.submit({ title: 'b', dependsOn: [parent.job.id] });
    const child = await ws.jobs.submit({ title: 'c', parentJobId: parent.job.id });
    const through = await rejection(ws.jobs.submit({ title: 'g', parentJobId: child.id, dependsOn: [b.id] }));
    expect(through.code).toBe('DEPENDENCY_CYCLE');
    expect(through.details).toMatchObject({ ancestor: parent.job.id, path: [b.id, parent.job.id] });
    // Nothing was created; a dependency on an unrelated or a finished job is fine.
    expect((await ws.jobs.list({ parentJobId: child.id })).jobs).toEqual([]);
    const other = await ws.jobs.submit({ title: 'other' });
    expect(
      (await ws.jobs.submit({ title: 'ok', parentJobId: parent.job.id, dependsOn: [other.id] })).status,
    ).toBe('PENDING');
  });

  it('ids of another workspace are NOT_FOUND', async () => {
    t = await openTestOverseer();
    const a = await t.ov.workspace('a').jobs.submit({ title: 'a' });
    expect((await rejection(t.ov.workspace('b').jobs.submit({ title: 'b', dependsOn: [a.id] }))).code).toBe(
      'NOT_FOUND',
    );
    expect((await rejection(t.ov.workspace('b').jobs.submit({ title: 'b', parentJobId: a.id }))).code).toBe(
      'NOT_FOUND',
    );
  });
});
