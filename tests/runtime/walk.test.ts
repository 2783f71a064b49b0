import { stat } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Write } from '../../src/store/store.ts';
import { JOB_MACHINE_VERSION } from '../../src/machines/job.ts';
import { openTestOverseer, rejection, watchCommits, type TestOverseer } from '../support/open.ts';

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

describe('the walk of a command', () => {
  for (const durability of ['flush', 'commit'] as const) {
    it(`acknowledged work survives a restart (durability '${durability}')`, async () => {
      t = await openTestOverseer({ durability });
      const ws = t.ov.workspace('acme');
      const job = await ws.jobs.submit({ title: 'keep me' });
      const w = await ws.workers.register({ name: 'w' });
      await ws.workers.pause(w.id);
      const ov = await t.reopen();
      expect((await ov.workspace('acme').jobs.get(job.id)).title).toBe('keep me');
      expect((await ov.workspace('acme').workers.get(w.id)).status).toBe('PAUSED');
      expect((await ov.workspace('acme').workers.resume(w.id)).status).toBe('IDLE');
    });
  }

  it('a batch stays open until the writer is ready: a command later in the same loop turn joins it', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    await ws.jobs.submit({ title: 'warm-up' });
    const commits: string[][] = [];
    // Commits that change actors (a housekeeping commit of the warm-up's outbox mark changes none).
    watchCommits(t.ov.runtime.host.store, (writes) => {
      const actors = writes.filter((w) => w.db === 'actors').map((w) => String(w.key.at(-1)));
      if (actors.length > 0) commits.push(actors);
    });
    // An I/O callback runs in the poll phase; setImmediate then runs in the check phase of the same turn, before
    // LMDB's writer (woken when the first submit opened the batch) can call back in the next poll phase.
    const [first, second] = await new Promise<[Promise<{ id: string }>, Promise<{ id: string }>]>((resolve) =>
      stat(import.meta.filename, () => {
        const a = ws.jobs.submit({ title: 'opens the batch' });
        setImmediate(() => resolve([a, ws.jobs.submit({ title: 'joins it' })]));
      }),
    );
    const ids = [(await first).id, (await second).id];
    expect(commits).toHaveLength(1);
    expect(commits[0]).toEqual(expect.arrayContaining(ids));
  });

  it('concurrent commands share one group commit', async () => {
    t = await openTestOverseer();
    const commits: number[] = [];
    watchCommits(t.ov.runtime.host.store, (writes) => commits.push(writes.length));
    const ws = t.ov.workspace('acme');
    await Promise.all(Array.from({ length: 200 }, (_, i) => ws.jobs.submit({ title: `j${i}` })));
    expect(commits.length).toBeLessThanOrEqual(2);
    expect((await ws.jobs.list({ limit: 500 })).jobs).toHaveLength(200);
  });

  it('checks can() on every actor before sending any event', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const a = await ws.jobs.submit({ title: 'a' });
    const b = await ws.jobs.submit({ title: 'b' });
    await ws.jobs.cancel(b.id);
    const host = t.ov.runtime.host;
    const err = await rejection(
      host.execute({ ws: 'acme', command: 'test.cancelBoth', principal: 'test' }, (tx) => {
        tx.send([
          { kind: 'job', id: a.id, event: { type: 'CANCEL', at: tx.now } },
          { kind: 'job', id: b.id, event: { type: 'CANCEL', at: tx.now } },
        ]);
      }),
    );
    expect(err.code).toBe('INVALID_STATE_TRANSITION');
    expect(err.details).toMatchObject({ id: b.id, state: 'CANCELED', event: 'CANCEL' });
    expect((await ws.jobs.get(a.id)).status).toBe('QUEUED');
  });

  it('a command that throws mid-way is rolled back and answers INTERNAL; others are unaffected', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const a = await ws.jobs.submit({ title: 'a' });
    const host = t.ov.runtime.host;
    const [failed, ok] = await Promise.allSettled([
      host.execute({ ws: 'acme', command: 'test.throw', principal: 'test' }, (tx) => {
        tx.send([{ kind: 'job', id: a.id, event: { type: 'CANCEL', at: tx.now } }]);
        tx.create(
          'job',
          'job_created_then_dropped',
          { id: 'job_created_then_dropped', workspaceId: 'acme', spec: { title: 'z' }, depth: 0, at: tx.now },
          { event: 'test' },
        );
        throw new Error('boom');
      }),
      ws.jobs.submit({ title: 'b' }),
    ]);
    expect(failed.status === 'rejected' && (failed.reason as { code: string }).code).toBe('INTERNAL');
    expect(failed.status === 'rejected' && String((failed.reason as Error).message)).not.toContain('boom');
    expect(ok.status).toBe('fulfilled');
    expect((await ws.jobs.get(a.id)).status).toBe('QUEUED');
    expect((await rejection(ws.jobs.get('job_created_then_dropped'))).code).toBe('NOT_FOUND');
    expect((await ws.events.list()).events.map((e) => e.to)).toEqual([
      'SUBMITTED',
      'QUEUED',
      'SUBMITTED',
      'QUEUED',
    ]);
    // The reverted actor keeps working.
    expect((await ws.jobs.cancel(a.id)).status).toBe('CANCELED');
  });

  it('a failed commit answers STORAGE_UNAVAILABLE and memory is restored from LMDB', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'a' });
    const store = t.ov.runtime.host.store;
    const original = store.commit.bind(store);
    let failNext = true;
    store.commit = (writes: readonly Write[]) => {
      if (failNext) {
        failNext = false;
        return Promise.reject(new Error('disk on fire'));
      }
      return original(writes);
    };
    const err = await rejection(ws.jobs.cancel(job.id, { idempotencyKey: 'c' }));
    expect(err.code).toBe('STORAGE_UNAVAILABLE');
    expect((err as unknown as { retryable: boolean }).retryable).toBe(true);
    expect((await ws.jobs.get(job.id)).status).toBe('QUEUED');
    // A retry with the same key applies once.
    expect((await ws.jobs.cancel(job.id, { idempotencyKey: 'c' })).status).toBe('CANCELED');
    expect((await ws.jobs.cancel(job.id, { idempotencyKey: 'c' })).status).toBe('CANCELED');
    const seqs = (await ws.events.list()).events.map((e) => e.seq);
    expect(seqs).toEqual([1, 2, 3]);
  });

  it('one top-level actor per entity, one snapshot per key', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const jobs = await ws.jobs.submitMany([{ title: 'a' }, { title: 'b' }]);
    const w = await ws.workers.register({ name: 'w' });
    await t.ov.runtime.host.pipeline.idle();
    const keys = [...t.ov.runtime.host.store.keys('actors', {})].map((k) => k.join('/'));
    expect(keys).toEqual([`acme/job/${jobs[0]!.id}`, `acme/job/${jobs[1]!.id}`, `acme/worker/${w.id}`]);
  });
});

describe('passivation and versions', () => {
  it('idle actors leave memory and come back from LMDB on demand', async () => {
    t = await openTestOverseer({ passivateAfterMs: 1_000_000 });
    const ws = t.ov.workspace('acme');
    const jobs = await ws.jobs.submitMany(Array.from({ length: 10 }, (_, i) => ({ title: `j${i}` })));
    const host = t.ov.runtime.host;
    expect(host.liveCount).toBe(10);
    expect(host.passivate(Infinity)).toBe(10);
    expect(host.liveCount).toBe(0);
    expect((await ws.jobs.get(jobs[3]!.id)).title).toBe('j3');
    expect(host.liveCount).toBe(0);
    expect((await ws.jobs.cancel(jobs[3]!.id)).status).toBe('CANCELED');
    expect(host.liveCount).toBe(1);
  });

  it('keeps user data that looks like an XState actor reference as it is, through passivation and reopen', async () => {
    // XState's own getPersistedSnapshot / restoreSnapshot would rewrite both into actor references.
    const metadata = {
      looksLikeARef: { sessionId: 'x', send: 'mail', ref: 'main', id: 'kept' },
      looksPersisted: { xstate$$type: 1, id: 'child' },
      list: [{ sessionId: 1, send: 2, ref: 3 }],
    };
    t = await openTestOverseer({ passivateAfterMs: 1_000_000 });
    const job = await t.ov.workspace('acme').jobs.submit({ title: 'data', metadata });
    t.ov.runtime.host.passivate(Infinity);
    await t.ov.workspace('acme').jobs.update(job.id, { title: 'data, updated' });
    t.ov.runtime.host.passivate(Infinity);
    expect((await t.ov.workspace('acme').jobs.get(job.id)).metadata).toEqual(metadata);
    const ov = await t.reopen();
    expect((await ov.workspace('acme').jobs.get(job.id)).metadata).toEqual(metadata);
  });

  it('passivates on its own after passivateAfterMs', async () => {
    t = await openTestOverseer({ passivateAfterMs: 100 });
    await t.ov.workspace('acme').jobs.submit({ title: 'x' });
    expect(t.ov.runtime.host.liveCount).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(t.ov.runtime.host.liveCount).toBe(0);
  });

  it('a snapshot of another machine version runs a registered migration', async () => {
    t = await openTestOverseer();
    const job = await t.ov.workspace('acme').jobs.submit({ title: 'old' });
    await t.ov.runtime.host.pipeline.idle();
    await rewriteVersion(t, job.id, 0);
    const ov = await t.reopen({
      migrations: {
        job: {
          0: (s) => ({
            ...(s as object),
            context: {
              ...(s as { context: object }).context,
              spec: { ...(s as { context: { spec: object } }).context.spec, title: 'migrated' },
            },
          }),
        },
      },
    });
    expect((await ov.workspace('acme').jobs.get(job.id)).title).toBe('migrated');
  });

  it('a snapshot version without a migration fails loudly with SNAPSHOT_VERSION_UNSUPPORTED', async () => {
    t = await openTestOverseer();
    const job = await t.ov.workspace('acme').jobs.submit({ title: 'future' });
    await t.ov.runtime.host.pipeline.idle();
    await rewriteVersion(t, job.id, 99);
    const ov = await t.reopen();
    const err = await rejection(ov.workspace('acme').jobs.cancel(job.id));
    expect(err.code).toBe('SNAPSHOT_VERSION_UNSUPPORTED');
    expect(err.details).toMatchObject({ storedVersion: 99, machineVersion: JOB_MACHINE_VERSION });
    expect((await rejection(ov.workspace('acme').jobs.get(job.id))).code).toBe(
      'SNAPSHOT_VERSION_UNSUPPORTED',
    );
  });
});

describe('the built-in migration to agent identity (version 1 → 2)', () => {
  it('keeps a lease held across the upgrade working with its old token, and leaves old workers unowned', async () => {
    t = await openTestOverseer();
    const ws = t.ov.workspace('acme');
    const worker = await ws.workers.register({ name: 'old' });
    const job = await ws.jobs.submit({ title: 'held across the upgrade' });
    const claim = await ws.queue.claim({ workerId: worker.id });
    await t.ov.runtime.host.pipeline.idle();
    // Rewrite both snapshots as version 1 stored them: the fence was the lease token, and no owner was kept.
    const store = t.ov.runtime.host.store;
    const fence = String(claim.lease!.fence);
    const asV1 = (kind: 'job' | 'worker', id: string, drop: string[], add: Record<string, unknown>) => {
      const stored = store.get('actors', ['acme', kind, id]) as {
        v: number;
        s: { context: Record<string, unknown> };
      };
      const context = { ...stored.s.context, ...add };
      for (const k of drop) delete context[k];
      return { db: 'actors' as const, key: ['acme', kind, id], value: { v: 1, s: { ...stored.s, context } } };
    };
    await store.commit([
      asV1('job', job.id, ['leaseFence', 'leaseDigest'], { leaseToken: fence }),
      asV1('worker', worker.id, ['leaseFence', 'leaseDigest', 'revokedLeaseDigest', 'registeredBy'], {
        leaseToken: fence,
        revokedLeaseToken: null,
      }),
    ]);
    await store.flushed();
    const ov = await t.reopen();
    const again = ov.workspace('acme');
    expect((await again.queue.heartbeat({ workerId: worker.id, leaseToken: fence })).directive).toBe(
      'continue',
    );
    const runner = ov.workspace('acme', {
      principal: { sub: 'library', workspaceId: 'acme', scopes: ['queue:work'] },
    });
    // Registered before owners were kept: no unbound token owns it (an admin or supervisor still acts on it).
    expect((await rejection(runner.workers.heartbeat(worker.id))).code).toBe('NOT_YOUR_WORKER');
    expect((await again.queue.complete({ jobId: job.id, leaseToken: fence })).job.status).toBe('COMPLETED');
  });
});

async function rewriteVersion(t: TestOverseer, jobId: string, v: number): Promise<void> {
  const store = t.ov.runtime.host.store;
  const stored = store.get('actors', ['acme', 'job', jobId]) as { v: number; s: unknown };
  await store.commit([{ db: 'actors', key: ['acme', 'job', jobId], value: { ...stored, v } }]);
  await store.flushed();
}
