import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatedClock } from '../../src/testing.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

const settle = async (t: TestOverseer) => {
  for (let i = 0; i < 3; i++) await t.ov.runtime.host.pipeline.idle();
};

describe('queue and claims', () => {
  it('claims by priority then arrival, matching capabilities', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    await ws.jobs.submitMany([
      { title: 'low', priority: 'low' },
      { title: 'n1' },
      { title: 'gpu-high', priority: 'high', capabilities: ['gpu'] },
      { title: 'h1', priority: 'high' },
      { title: 'n2' },
    ]);
    const w = await ws.workers.register({ name: 'cpu' });
    const order: string[] = [];
    let next = await ws.queue.claim({ workerId: w.id });
    while (next.job) {
      order.push(next.job.title);
      next = (await ws.queue.complete({ jobId: next.job.id, leaseToken: next.lease!.token, claimNext: true }))
        .next!;
    }
    expect(order).toEqual(['h1', 'n1', 'n2', 'low']);
    const gpu = await ws.workers.register({ name: 'gpu', capabilities: ['gpu', 'typescript'] });
    expect((await ws.queue.claim({ workerId: gpu.id })).job?.title).toBe('gpu-high');
  });

  it('a claim moves job and worker to RUNNING with a lease and a work order', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x', leaseSeconds: 60 });
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    expect(c.job).toMatchObject({ id: job.id, status: 'RUNNING', workerId: w.id });
    expect(c.lease!.expiresAt - c.workOrder!.claimedAt).toBe(60_000);
    expect(c.workOrder).toMatchObject({ jobId: job.id, workerId: w.id, retryCount: 0 });
    expect(await ws.workers.get(w.id)).toMatchObject({ status: 'RUNNING', jobId: job.id });
    // A worker holding a job does not claim another.
    expect((await rejection(ws.queue.claim({ workerId: w.id }))).code).toBe('INVALID_STATE_TRANSITION');
    expect(await ws.queue.stats()).toEqual({ depth: { high: 0, normal: 0, low: 0 }, jobs: { RUNNING: 1 } });
  });

  it('answers { job: null } when nothing matches, and long-polls until an enqueue wakes it', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const w = await ws.workers.register({ name: 'w', capabilities: ['go'] });
    expect(await ws.queue.claim({ workerId: w.id })).toEqual({ job: null });
    const claim = ws.queue.claim({ workerId: w.id, waitMs: 5_000 });
    await ws.jobs.submit({ title: 'not for me', capabilities: ['rust'] });
    const started = Date.now();
    setTimeout(() => void ws.jobs.submit({ title: 'for me', capabilities: ['go'] }), 50);
    const got = await claim;
    expect(got.job?.title).toBe('for me');
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('records only the answer that ends a long-poll under its idempotency key', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const w = await ws.workers.register({ name: 'w' });
    const claim = ws.queue.claim({ workerId: w.id, waitMs: 5_000 }, { idempotencyKey: 'poll-1' });
    setTimeout(() => void ws.jobs.submit({ title: 'arrives later' }), 100);
    const got = await claim;
    expect(got.job?.title).toBe('arrives later');
    // A retry of the same call answers the claim it made, not an empty pass from before the job came: the same
    // lease, with a fresh secret; the first secret stops working.
    const again = await ws.queue.claim({ workerId: w.id, waitMs: 5_000 }, { idempotencyKey: 'poll-1' });
    const { token: first, ...lease } = got.lease!;
    expect(again).toEqual({ ...got, lease: { ...lease, token: again.lease!.token } });
    expect(again.lease!.token).not.toBe(first);
    expect((await rejection(ws.queue.heartbeat({ workerId: w.id, leaseToken: first }))).code).toBe(
      'LEASE_LOST',
    );
    expect((await ws.queue.heartbeat({ workerId: w.id, leaseToken: again.lease!.token })).directive).toBe(
      'continue',
    );
  });

  it('wakes a parked claim at once when its worker is paused, terminated or drained', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock });
    const ws = t.ov.workspace('acme');
    for (const [act, state] of [
      ['pause', 'PAUSED'],
      ['terminate', 'TERMINATED'],
      ['deregister', 'COMPLETED'],
    ] as const) {
      const w = await ws.workers.register({ name: act });
      const claim = rejection(ws.queue.claim({ workerId: w.id, waitMs: 10_000 }));
      await new Promise((r) => setTimeout(r, 20));
      await ws.workers[act](w.id);
      // No time passes on the clock: the claim answers because the worker changed.
      const err = await claim;
      expect(err.code).toBe('INVALID_STATE_TRANSITION');
      expect(err.details).toMatchObject({ state });
    }
    // The woken claim left the wait list: the next enqueue wakes another parked worker at once.
    const other = await ws.workers.register({ name: 'other' });
    const waiting = ws.queue.claim({ workerId: other.id, waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 20));
    const job = await ws.jobs.submit({ title: 'for the other' });
    expect((await waiting).job?.id).toBe(job.id);
  });

  it('closing the runtime ends parked claims and allocations at once, and parks none after', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock });
    const ws = t.ov.workspace('acme');
    const holder = await ws.workers.register({ name: 'holder' });
    await ws.jobs.submitMany([
      { title: 'holds the lock', resources: [{ name: 'repo:x' }] },
      { title: 'wants the lock' },
    ]);
    const held = await ws.queue.claim({ workerId: holder.id });
    const waiter = await ws.workers.register({ name: 'waiter' });
    const wanting = await ws.queue.claim({ workerId: waiter.id });
    const idle = await ws.workers.register({ name: 'idle' });
    const claim = ws.queue.claim({ workerId: idle.id, waitMs: 10_000 });
    const allocate = rejection(
      ws.resources.allocate({ jobId: wanting.job!.id, resources: [{ name: 'repo:x' }], waitMs: 10_000 }),
    );
    await new Promise((r) => setTimeout(r, 20));
    const work = t.ov.runtime.env.work.get('acme');
    expect([work.claimWaiters.length, work.resourceWaiters.length]).toEqual([1, 1]);
    t.ov.runtime.endWaits();
    // No time passes on the clock: both answer because the runtime is closing.
    expect(await claim).toEqual({ job: null });
    const err = await allocate;
    expect(err.code).toBe('STORAGE_UNAVAILABLE');
    expect(err.details).toMatchObject({ jobId: wanting.job!.id });
    // A new long-poll answers its empty pass at once instead of parking.
    expect(await ws.queue.claim({ workerId: idle.id, waitMs: 10_000 })).toEqual({ job: null });
    expect(work.claimWaiters).toHaveLength(0);
    // The job that waited keeps what it held; nothing else changed.
    expect((await ws.resources.usage()).locks).toEqual({ 'repo:x': held.job!.id });
    await t.ov.close();
  });

  it('a long-poll ends with { job: null } when its time is up', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock });
    const ws = t.ov.workspace('acme');
    const w = await ws.workers.register({ name: 'w' });
    const claim = ws.queue.claim({ workerId: w.id, waitMs: 1000 });
    await new Promise((r) => setTimeout(r, 20));
    clock.increment(1000);
    expect(await claim).toEqual({ job: null });
    expect((await rejection(ws.queue.claim({ workerId: w.id, waitMs: 30_001 }))).code).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('a script whose only pending work is a long-poll waits for its answer (the process does not exit first)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overseer-longpoll-'));
    try {
      const script = join(dir, 'claim.mts');
      const index = pathToFileURL(join(process.cwd(), 'src/index.ts')).href;
      writeFileSync(
        script,
        [
          `import { createOverseer } from '${index}';`,
          `const ov = await createOverseer({ dataDir: ${JSON.stringify(join(dir, 'data'))}, logLevel: 'silent' });`,
          `const ws = ov.workspace('acme');`,
          `const w = await ws.workers.register({ name: 'w' });`,
          `console.log(JSON.stringify(await ws.queue.claim({ workerId: w.id, waitMs: 300 })));`,
          `await ov.close();`,
        ].join('\n'),
      );
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.status, run.stderr).toBe(0); // 13 ("unsettled top-level await") before the parked timer was ref'd
      expect(run.stdout.trim()).toBe('{"job":null}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('complete and fail need the current lease token; a stale one answers LEASE_LOST and changes nothing', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    await ws.jobs.submit({ title: 'x' });
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    const err = await rejection(ws.queue.complete({ jobId: c.job!.id, leaseToken: 'nope' }));
    expect(err.code).toBe('LEASE_LOST');
    expect((await rejection(ws.queue.fail({ jobId: c.job!.id, leaseToken: 'nope', reason: 'x' }))).code).toBe(
      'LEASE_LOST',
    );
    expect((await ws.jobs.get(c.job!.id)).status).toBe('RUNNING');
    expect(
      (await ws.queue.complete({ jobId: c.job!.id, leaseToken: c.lease!.token, result: { pr: 42 } })).job,
    ).toMatchObject({
      status: 'COMPLETED',
      result: { pr: 42 },
      workerId: null,
    });
    expect((await ws.workers.get(w.id)).status).toBe('IDLE');
  });

  it('retryable failures back off through RETRY_WAIT until maxRetries, then FAILED with the last reason', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock });
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'flaky', execution: { maxRetries: 2 } });
    const w = await ws.workers.register({ name: 'w' });
    for (let attempt = 0; attempt < 3; attempt++) {
      const c = await ws.queue.claim({ workerId: w.id });
      expect(c.workOrder?.retryCount).toBe(attempt);
      const after = await ws.queue.fail({
        jobId: job.id,
        leaseToken: c.lease!.token,
        reason: `boom ${attempt}`,
      });
      if (attempt < 2) {
        expect(after).toEqual({ job: expect.objectContaining({ status: 'RETRY_WAIT' }) });
        expect(await ws.queue.claim({ workerId: w.id })).toEqual({ job: null });
        clock.increment(2 ** attempt * 1000); // the backoff is at most base·2^(n−1)
        await settle(t);
        expect((await ws.jobs.get(job.id)).status).toBe('QUEUED');
      } else {
        expect(after.job).toMatchObject({ status: 'FAILED', lastError: 'boom 2', retryCount: 2 });
      }
    }
  });

  it('a non-retryable failure fails at once', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x' });
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    expect(
      (
        await ws.queue.fail({
          jobId: job.id,
          leaseToken: c.lease!.token,
          reason: 'bad input',
          retryable: false,
        })
      ).job.status,
    ).toBe('FAILED');
  });

  it('a lapsed lease re-queues the job with retryCount + 1; the worker stays online', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock, heartbeatTimeoutSeconds: 3600 });
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x', leaseSeconds: 10, execution: { maxRetries: 1 } });
    const w = await ws.workers.register({ name: 'w' });
    const c1 = await ws.queue.claim({ workerId: w.id });
    clock.increment(5_000);
    const hb = await ws.workers.heartbeat(w.id, { leaseToken: c1.lease!.token });
    expect(hb).toEqual({ directive: 'continue', leaseExpiresAt: clock.now() + 10_000 });
    clock.increment(9_999);
    await settle(t);
    expect((await ws.jobs.get(job.id)).status).toBe('RUNNING');
    clock.increment(1);
    await settle(t);
    expect(await ws.jobs.get(job.id)).toMatchObject({ status: 'QUEUED', retryCount: 1, workerId: null });
    expect((await ws.workers.get(w.id)).status).toBe('IDLE');
    expect((await rejection(ws.workers.heartbeat(w.id, { leaseToken: c1.lease!.token }))).code).toBe(
      'LEASE_LOST',
    );
    const c2 = await ws.queue.claim({ workerId: w.id });
    expect(c2.lease!.fence).toBeGreaterThan(c1.lease!.fence);
    clock.increment(10_000);
    await settle(t);
    expect(await ws.jobs.get(job.id)).toMatchObject({ status: 'FAILED', lastError: 'lease expired' });
  });

  it('a job timeout fails the attempt and revokes the lease', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock, heartbeatTimeoutSeconds: 3600 });
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({
      title: 'slow',
      leaseSeconds: 600,
      execution: { timeoutSeconds: 60, maxRetries: 0 },
    });
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    clock.increment(60_000);
    await settle(t);
    expect(await ws.jobs.get(job.id)).toMatchObject({ status: 'FAILED', lastError: 'timed out' });
    expect((await ws.workers.heartbeat(w.id, { leaseToken: c.lease!.token })).directive).toBe('cancel');
  });

  it('hold + queue.enqueue, update while queued moves the job to its new lane', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const held = await ws.jobs.submit({ title: 'held', hold: true });
    const a = await ws.jobs.submit({ title: 'a' });
    await ws.jobs.submit({ title: 'b' });
    const w = await ws.workers.register({ name: 'w' });
    await ws.jobs.update(a.id, { priority: 'low', title: 'a (later)' });
    await ws.queue.enqueue({ jobId: held.id });
    const titles: string[] = [];
    let c = await ws.queue.claim({ workerId: w.id });
    while (c.job) {
      titles.push(c.job.title);
      c = (await ws.queue.complete({ jobId: c.job.id, leaseToken: c.lease!.token, claimNext: true })).next!;
    }
    expect(titles).toEqual(['b', 'held', 'a (later)']);
    expect((await rejection(ws.jobs.update(a.id, { title: 'too late' }))).code).toBe(
      'INVALID_STATE_TRANSITION',
    );
  });

  it('the queue and leases survive a restart', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock, heartbeatTimeoutSeconds: 3600 });
    let ws = t.ov.workspace('acme');
    await ws.jobs.submitMany([
      { title: 'h', priority: 'high' },
      { title: 'n' },
      { title: 'l', priority: 'low' },
    ]);
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    const ov = await t.reopen();
    ws = ov.workspace('acme');
    expect((await ws.queue.stats()).depth).toEqual({ high: 0, normal: 1, low: 1 });
    const done = await ws.queue.complete({ jobId: c.job!.id, leaseToken: c.lease!.token, claimNext: true });
    expect(done.next?.job?.title).toBe('n');
    expect(done.next!.lease!.fence).toBeGreaterThan(c.lease!.fence);
  });
});

describe('supervisor commands and running work', () => {
  it('PAUSE keeps the job RUNNING and suspends its lease; RESUME re-arms it', async () => {
    const clock = simulatedClock();
    t = await openTestOverseer({ clock, heartbeatTimeoutSeconds: 30 });
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x', leaseSeconds: 30 });
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    await ws.workers.pause(w.id);
    expect((await ws.workers.heartbeat(w.id, { leaseToken: c.lease!.token })).directive).toBe('pause');
    clock.increment(3_600_000);
    await settle(t);
    expect((await ws.jobs.get(job.id)).status).toBe('RUNNING');
    expect((await ws.workers.get(w.id)).status).toBe('PAUSED');
    const resumed = await ws.workers.resume(w.id);
    expect(resumed.status).toBe('RUNNING');
    expect((await ws.jobs.get(job.id)).leaseExpiresAt).toBe(clock.now() + 30_000);
    expect((await ws.workers.heartbeat(w.id, { leaseToken: c.lease!.token })).directive).toBe('resume');
  });

  it('TERMINATE re-queues the job without spending a retry', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x' });
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    await ws.workers.terminate(w.id);
    expect(await ws.jobs.get(job.id)).toMatchObject({ status: 'QUEUED', retryCount: 0 });
    expect(await ws.workers.heartbeat(w.id, { leaseToken: c.lease!.token })).toEqual({
      directive: 'terminate',
      leaseExpiresAt: null,
    });
    const w2 = await ws.workers.register({ name: 'w2' });
    expect((await ws.queue.claim({ workerId: w2.id })).job?.id).toBe(job.id);
  });

  it('CANCEL of a running job revokes its lease: the heartbeat says cancel, complete says LEASE_LOST', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x' });
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    await ws.jobs.cancel(job.id);
    expect(await ws.workers.heartbeat(w.id, { leaseToken: c.lease!.token })).toEqual({
      directive: 'cancel',
      leaseExpiresAt: null,
    });
    expect((await ws.workers.get(w.id)).status).toBe('IDLE');
    expect((await rejection(ws.queue.complete({ jobId: job.id, leaseToken: c.lease!.token }))).code).toBe(
      'LEASE_LOST',
    );
  });

  it('a crashed worker keeps its lease; restart + heartbeat takes it back to RUNNING', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x' });
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    expect((await ws.workers.reportCrash(w.id, { reason: 'OOM' })).status).toBe('FAILED');
    expect((await ws.jobs.get(job.id)).status).toBe('RUNNING');
    expect((await ws.workers.restart(w.id)).status).toBe('RETRYING');
    await ws.workers.heartbeat(w.id, { leaseToken: c.lease!.token });
    expect((await ws.workers.get(w.id)).status).toBe('RUNNING');
    expect((await ws.queue.complete({ jobId: job.id, leaseToken: c.lease!.token })).job.status).toBe(
      'COMPLETED',
    );
  });

  it('deregister drains a running worker: COMPLETED when its job ends', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    await ws.jobs.submit({ title: 'x' });
    const w = await ws.workers.register({ name: 'w' });
    const c = await ws.queue.claim({ workerId: w.id });
    expect(await ws.workers.deregister(w.id)).toMatchObject({ status: 'RUNNING', draining: true });
    const done = await ws.queue.complete({ jobId: c.job!.id, leaseToken: c.lease!.token, claimNext: true });
    expect(done.next).toEqual({ job: null });
    expect((await ws.workers.get(w.id)).status).toBe('COMPLETED');
  });

  it('reads a large queue in windows after a restart: unread jobs can be canceled and re-prioritized', async () => {
    t = await openTestOverseer({ durability: 'commit' });
    let ws = t.ov.workspace('acme');
    const ids: string[] = [];
    for (let b = 0; b < 3; b++) {
      const jobs = await ws.jobs.submitMany(
        Array.from({ length: 900 }, (_, i) => ({ title: `j${b * 900 + i}` })),
      );
      ids.push(...jobs.map((j) => j.id));
    }
    await t.reopen();
    ws = t.ov.workspace('acme');
    // The first change of the workspace opens its queue without reading the 2,700 entries.
    const late = await ws.jobs.submit({ title: 'late' });
    expect(t.ov.runtime.env.work.get('acme').queue.inMemory).toBe(1);
    expect((await ws.queue.stats()).depth).toEqual({ high: 0, normal: 2701, low: 0 });
    // Jobs far beyond the first window: one canceled, one moved to the front, both before they were read.
    await ws.jobs.cancel(ids[2000]!);
    await ws.jobs.update(ids[1500]!, { priority: 'high' });
    expect((await ws.queue.stats()).depth).toEqual({ high: 1, normal: 2699, low: 0 });
    await t.reopen();
    ws = t.ov.workspace('acme');
    expect((await ws.queue.stats()).depth).toEqual({ high: 1, normal: 2699, low: 0 });
    const w = await ws.workers.register({ name: 'w' });
    const order: string[] = [];
    let next = await ws.queue.claim({ workerId: w.id });
    while (next.job) {
      order.push(next.job.id);
      next = (await ws.queue.complete({ jobId: next.job.id, leaseToken: next.lease!.token, claimNext: true }))
        .next!;
    }
    expect(order).toEqual([ids[1500], ...ids.filter((_, i) => i !== 1500 && i !== 2000), late.id]);
    expect((await ws.jobs.get(ids[2000]!)).status).toBe('CANCELED');
    // Nothing stale is left behind: the queue database holds no entry and no tombstone.
    await t.ov.runtime.host.pipeline.idle();
    expect([...t.ov.runtime.host.store.keys('queue', { start: ['acme'], end: ['acme', '\uffff'] })]).toEqual(
      [],
    );
  }, 60_000);
});
