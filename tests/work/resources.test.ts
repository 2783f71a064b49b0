import { OverseerError } from '../../src/core/errors.ts';
import { afterEach, describe, expect, it } from 'vitest';
import type { OverseerOptions, WorkspaceClient } from '../../src/index.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

const depthQuotas = (runningAt0: number, slotsAt0 = 100) => [
  { maxRunningJobs: runningAt0, maxWorkerSlots: slotsAt0 },
  ...Array.from({ length: 5 }, () => ({ maxRunningJobs: 100, maxWorkerSlots: 100 })),
];

async function open(resources: OverseerOptions['resources']) {
  t = await openTestOverseer({ resources });
  return t.ov.workspace('acme');
}

async function run(ws: WorkspaceClient, job: Parameters<WorkspaceClient['jobs']['submit']>[0]) {
  const j = await ws.jobs.submit(job);
  const w = await ws.workers.register({ name: `w-${j.title}` });
  const c = await ws.queue.claim({ workerId: w.id });
  return { job: j, claim: c, worker: w };
}

describe('quotas and named resources', () => {
  it('reports quotas and usage', async () => {
    const ws = await open({ depth: depthQuotas(2), pools: { gpu: 4 } });
    expect((await ws.resources.quotas()).depth[0]).toEqual({ maxRunningJobs: 2, maxWorkerSlots: 100 });
    expect((await ws.resources.quotas()).pools).toEqual({ gpu: 4 });
    await run(ws, { title: 'a', resources: [{ name: 'gpu', count: 3 }] });
    expect((await ws.resources.usage()).pools).toEqual({ gpu: { size: 4, used: 3 } });
  });

  it('never runs more jobs at a depth than its quota; a claim skips what cannot be allocated', async () => {
    const ws = await open({ depth: depthQuotas(1) });
    await ws.jobs.submitMany([{ title: 'a' }, { title: 'b' }]);
    const w1 = await ws.workers.register({ name: '1' });
    const w2 = await ws.workers.register({ name: '2' });
    const c1 = await ws.queue.claim({ workerId: w1.id });
    expect(await ws.queue.claim({ workerId: w2.id })).toEqual({ job: null });
    const done = await ws.queue.complete({ jobId: c1.job!.id, leaseToken: c1.lease!.token });
    expect(done.job.status).toBe('COMPLETED');
    expect((await ws.queue.claim({ workerId: w2.id })).job?.title).toBe('b');
  });

  it('worker slots count workerCount', async () => {
    const ws = await open({ depth: depthQuotas(100, 3) });
    await ws.jobs.submitMany([
      { title: 'big', workerCount: 2 },
      { title: 'big2', workerCount: 2 },
      { title: 'small' },
    ]);
    const ids = await Promise.all([1, 2, 3].map((i) => ws.workers.register({ name: `${i}` })));
    const claimed = [];
    for (const w of ids) claimed.push((await ws.queue.claim({ workerId: w.id })).job?.title ?? null);
    expect(claimed).toEqual(['big', 'small', null]);
  });

  it('an exclusive lock is held by one job at a time; path locks conflict on prefixes', async () => {
    const ws = await open({});
    await ws.jobs.submitMany([
      { title: 'a', resources: [{ name: 'repo:api' }, { name: 'path:src/auth/' }] },
      { title: 'b', resources: [{ name: 'repo:api' }] },
      { title: 'c', resources: [{ name: 'path:src/auth/login.ts' }] },
      { title: 'd', resources: [{ name: 'path:src/billing/' }] },
    ]);
    const titles = [];
    for (let i = 0; i < 4; i++) {
      const w = await ws.workers.register({ name: `${i}` });
      titles.push((await ws.queue.claim({ workerId: w.id })).job?.title ?? null);
    }
    expect(titles).toEqual(['a', 'd', null, null]);
  });

  it('allocate adds to a running job all or none; release frees part early; all is freed when the job ends', async () => {
    const ws = await open({ pools: { gpu: 2 } });
    const { job, claim } = await run(ws, { title: 'a' });
    expect(
      (
        await ws.resources.allocate({
          jobId: job.id,
          resources: [{ name: 'gpu', count: 2 }, { name: 'repo:x' }],
        })
      ).allocation,
    ).toMatchObject({
      pools: { gpu: 2 },
      locks: ['repo:x'],
    });
    const other = await run(ws, { title: 'b' });
    const busy = await rejection(
      ws.resources.allocate({ jobId: other.job.id, resources: [{ name: 'repo:y' }, { name: 'gpu' }] }),
    );
    expect(busy.code).toBe('QUOTA_EXCEEDED');
    expect(JSON.stringify(busy.details)).toContain('gpu');
    expect((await ws.resources.usage()).locks).toEqual({ 'repo:x': job.id });
    await ws.resources.release({ jobId: job.id, resources: [{ name: 'gpu', count: 1 }] });
    expect(
      (await ws.resources.allocate({ jobId: other.job.id, resources: [{ name: 'gpu' }] })).allocation.pools,
    ).toEqual({ gpu: 1 });
    await ws.queue.complete({ jobId: job.id, leaseToken: claim.lease!.token });
    expect((await ws.resources.usage()).pools.gpu).toEqual({ size: 2, used: 1 });
    expect((await ws.resources.usage()).locks).toEqual({});
  });

  it('a request that can never fit answers QUOTA_EXCEEDED at once, even with waitMs', async () => {
    const ws = await open({ pools: { gpu: 2 } });
    const { job } = await run(ws, { title: 'a' });
    const started = Date.now();
    const err = await rejection(
      ws.resources.allocate({ jobId: job.id, resources: [{ name: 'gpu', count: 3 }], waitMs: 5000 }),
    );
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(Date.now() - started).toBeLessThan(2000);
    // No retry can help (the SDK retries retryable errors): marked in details, so every transport agrees.
    expect(err).toBeInstanceOf(OverseerError);
    const never = err as OverseerError;
    expect(never.details['never']).toBe(true);
    expect(never.retryable).toBe(false);
    expect(OverseerError.fromEnvelope(never.toEnvelope()).retryable).toBe(false);
    // Busy now but able to fit later: retryable.
    await ws.resources.allocate({ jobId: job.id, resources: [{ name: 'gpu', count: 2 }] });
    const other = await run(ws, { title: 'b' });
    const busy = await rejection(
      ws.resources.allocate({ jobId: other.job.id, resources: [{ name: 'gpu' }] }),
    );
    expect(busy.code).toBe('QUOTA_EXCEEDED');
    expect((busy as OverseerError).retryable).toBe(true);
    expect(
      (await rejection(ws.resources.allocate({ jobId: 'job_x', resources: [{ name: 'gpu' }] }))).code,
    ).toBe('NOT_FOUND');
  });

  it('allocate waits (FIFO) for busy resources while the job keeps what it holds', async () => {
    const ws = await open({});
    const a = await run(ws, { title: 'a', resources: [{ name: 'repo:x' }] });
    const b = await run(ws, { title: 'b', resources: [{ name: 'repo:y' }] });
    const c = await run(ws, { title: 'c' });
    const order: string[] = [];
    const bWaits = ws.resources
      .allocate({ jobId: b.job.id, resources: [{ name: 'repo:x' }], waitMs: 5000 })
      .then(() => order.push('b'));
    await new Promise((r) => setTimeout(r, 20));
    const cWaits = ws.resources
      .allocate({ jobId: c.job.id, resources: [{ name: 'repo:x' }], waitMs: 5000 })
      .then(() => order.push('c'));
    await new Promise((r) => setTimeout(r, 20));
    expect((await ws.resources.usage()).locks).toEqual({ 'repo:x': a.job.id, 'repo:y': b.job.id });
    await ws.queue.complete({ jobId: a.job.id, leaseToken: a.claim.lease!.token });
    await bWaits;
    expect((await ws.resources.usage()).locks['repo:x']).toBe(b.job.id);
    await ws.queue.complete({ jobId: b.job.id, leaseToken: b.claim.lease!.token });
    await cWaits;
    expect(order).toEqual(['b', 'c']);
  });

  it('a request behind an earlier waiter names the kind it waits for (pool or lock)', async () => {
    const ws = await open({ pools: { gpu: 2 } });
    const a = await run(ws, { title: 'a', resources: [{ name: 'gpu' }] });
    const c = await run(ws, { title: 'c' });
    const d = await run(ws, { title: 'd' });
    // c waits for both units; one is free, but d may not take it ahead of c (FIFO).
    const cWaits = ws.resources.allocate({
      jobId: c.job.id,
      resources: [{ name: 'gpu', count: 2 }],
      waitMs: 5000,
    });
    await new Promise((r) => setTimeout(r, 20));
    const err = await rejection(ws.resources.allocate({ jobId: d.job.id, resources: [{ name: 'gpu' }] }));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.details!['busy']).toMatchObject([
      { resource: 'gpu', reason: 'pool', detail: { queued: true } },
    ]);
    await ws.queue.complete({ jobId: a.job.id, leaseToken: a.claim.lease!.token });
    await cWaits;
  });

  it('a wait that times out answers QUOTA_EXCEEDED with what is busy', async () => {
    const ws = await open({});
    const a = await run(ws, { title: 'a', resources: [{ name: 'repo:x' }] });
    const b = await run(ws, { title: 'b' });
    const err = await rejection(
      ws.resources.allocate({ jobId: b.job.id, resources: [{ name: 'repo:x' }], waitMs: 100 }),
    );
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(JSON.stringify(err.details)).toContain(a.job.id);
  });

  it('a deadlock between two jobs is detected and answered with the cycle; nothing waits', async () => {
    const ws = await open({});
    const a = await run(ws, { title: 'a', resources: [{ name: 'repo:x' }] });
    const b = await run(ws, { title: 'b', resources: [{ name: 'repo:y' }] });
    const aWaits = ws.resources.allocate({
      jobId: a.job.id,
      resources: [{ name: 'repo:y' }],
      waitMs: 10_000,
    });
    await new Promise((r) => setTimeout(r, 20));
    const err = await rejection(
      ws.resources.allocate({ jobId: b.job.id, resources: [{ name: 'repo:x' }], waitMs: 10_000 }),
    );
    expect(err.code).toBe('DEADLOCK_DETECTED');
    expect(err.details!['cycle']).toEqual([b.job.id, a.job.id, b.job.id]);
    // b gives up its lock: a's wait is granted.
    await ws.queue.complete({ jobId: b.job.id, leaseToken: b.claim.lease!.token });
    expect((await aWaits).allocation.locks.sort()).toEqual(['repo:x', 'repo:y']);
  });

  it('a parent waiting for its children is an edge of the wait-for graph', async () => {
    const ws = await open({});
    const p = await run(ws, { title: 'parent', resources: [{ name: 'repo:p' }] });
    const other = await run(ws, { title: 'other', resources: [{ name: 'repo:o' }] });
    const child = await ws.jobs.submit({ title: 'child', parentJobId: p.job.id });
    const w = await ws.workers.register({ name: 'cw' });
    const cc = await ws.queue.claim({ workerId: w.id });
    expect(cc.job?.id).toBe(child.id);
    // child waits for other's lock; other then asks for the parent's lock: other → parent → child → other.
    const childWaits = ws.resources.allocate({
      jobId: child.id,
      resources: [{ name: 'repo:o' }],
      waitMs: 10_000,
    });
    await new Promise((r) => setTimeout(r, 20));
    const err = await rejection(
      ws.resources.allocate({ jobId: other.job.id, resources: [{ name: 'repo:p' }], waitMs: 10_000 }),
    );
    expect(err.code).toBe('DEADLOCK_DETECTED');
    expect(err.details!['cycle']).toEqual([other.job.id, p.job.id, child.id, other.job.id]);
    await ws.queue.complete({ jobId: other.job.id, leaseToken: other.claim.lease!.token });
    await childWaits;
  });

  it('pools are not re-entrant: a child waiting for units its parent holds is a deadlock', async () => {
    const ws = await open({ pools: { gpu: 1 } });
    const p = await run(ws, { title: 'parent', resources: [{ name: 'gpu' }] });
    const child = await ws.jobs.submit({ title: 'child', parentJobId: p.job.id });
    const w = await ws.workers.register({ name: 'cw' });
    expect((await ws.queue.claim({ workerId: w.id })).job?.id).toBe(child.id);
    const err = await rejection(
      ws.resources.allocate({ jobId: child.id, resources: [{ name: 'gpu' }], waitMs: 5000 }),
    );
    expect(err.code).toBe('DEADLOCK_DETECTED');
    expect(err.details!['cycle']).toEqual([child.id, p.job.id, child.id]);
  });

  it('allocations are released when their job is final, also after a crash and restart', async () => {
    t = await openTestOverseer();
    let ws = t.ov.workspace('acme');
    const a = await run(ws, { title: 'a', resources: [{ name: 'repo:x' }] });
    const ov = await t.reopen();
    ws = ov.workspace('acme');
    expect((await ws.resources.usage()).locks).toEqual({ 'repo:x': a.job.id });
    await ws.jobs.cancel(a.job.id);
    expect((await ws.resources.usage()).locks).toEqual({});
    const ov2 = await t.reopen();
    expect((await ov2.workspace('acme').resources.usage()).locks).toEqual({});
  });
});
