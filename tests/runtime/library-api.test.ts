import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OverseerError, type JournalRecord } from '../../src/index.ts';
import { openTestOverseer, rejection, watchCommits, type TestOverseer } from '../support/open.ts';

let t: TestOverseer;
beforeEach(async () => {
  t = await openTestOverseer();
});
afterEach(async () => {
  await t.cleanup();
});

describe('jobs', () => {
  it('submits a job that is QUEUED with defaults and server-owned fields', async () => {
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'Add login', priority: 'high' });
    expect(job).toMatchObject({
      title: 'Add login',
      priority: 'high',
      status: 'QUEUED',
      type: 'other',
      depth: 0,
      retryCount: 0,
      workspaceId: 'acme',
    });
    expect(job.id).toMatch(/^job_[0-9A-Z]{26}$/);
    expect(job.execution.maxRetries).toBe(3);
    expect(await ws.jobs.get(job.id)).toEqual(job);
  });

  it('ignores server-owned fields in the input', async () => {
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({
      title: 'x',
      id: 'job_mine',
      status: 'COMPLETED',
      depth: 3,
      retryCount: 9,
    } as never);
    expect(job.id).not.toBe('job_mine');
    expect(job.status).toBe('QUEUED');
    expect(job.depth).toBe(0);
    expect(job.retryCount).toBe(0);
  });

  it('holds a job SUBMITTED until queue.enqueue', async () => {
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'held', hold: true });
    expect(job.status).toBe('SUBMITTED');
    expect((await ws.queue.enqueue({ jobId: job.id })).status).toBe('QUEUED');
    expect((await rejection(ws.queue.enqueue({ jobId: job.id }))).code).toBe('INVALID_STATE_TRANSITION');
  });

  it('answers VALIDATION_FAILED naming the paths, and changes nothing', async () => {
    const ws = t.ov.workspace('acme');
    const err = await rejection(ws.jobs.submit({ title: '', priority: 'urgent' } as never));
    expect(err).toBeInstanceOf(OverseerError);
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(err.details)).toContain('title');
    expect(JSON.stringify(err.details)).toContain('priority');
    expect((await ws.jobs.list()).jobs).toHaveLength(0);
    expect((await ws.events.list()).events).toHaveLength(0);
  });

  it('refuses metadata over 64 KiB', async () => {
    const err = await rejection(
      t.ov.workspace('acme').jobs.submit({ title: 'x', metadata: { blob: 'x'.repeat(70_000) } }),
    );
    expect(err.code).toBe('VALIDATION_FAILED');
  });

  it('cancels once; a second cancel is an invalid transition with the current state', async () => {
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x' });
    expect((await ws.jobs.cancel(job.id, { reason: 'not needed' })).status).toBe('CANCELED');
    const err = await rejection(ws.jobs.cancel(job.id));
    expect(err.code).toBe('INVALID_STATE_TRANSITION');
    expect(err.details).toMatchObject({ state: 'CANCELED' });
    expect((await ws.jobs.get(job.id)).lastError).toBe('not needed');
  });

  it('answers NOT_FOUND for unknown ids and for ids of another workspace', async () => {
    const a = t.ov.workspace('acme');
    const b = t.ov.workspace('other');
    const job = await a.jobs.submit({ title: 'x' });
    expect((await rejection(a.jobs.get('job_nope'))).code).toBe('NOT_FOUND');
    expect((await rejection(b.jobs.get(job.id))).code).toBe('NOT_FOUND');
    expect((await rejection(b.jobs.cancel(job.id))).code).toBe('NOT_FOUND');
    expect((await rejection(b.jobs.submit({ title: 'y', dependsOn: [job.id] }))).code).toBe('NOT_FOUND');
  });

  it('after close, reads and writes reject with STORAGE_UNAVAILABLE (an OverseerError), not an LMDB error', async () => {
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x' });
    await t.ov.close();
    for (const call of [
      ws.jobs.get(job.id),
      ws.jobs.list(),
      ws.queue.stats(),
      ws.jobs.submit({ title: 'y' }),
    ]) {
      const err = await rejection(call);
      expect(err).toBeInstanceOf(OverseerError);
      expect(err.code).toBe('STORAGE_UNAVAILABLE');
    }
  });

  it('validates workspace ids', () => {
    for (const bad of ['', 'Acme', '-x', 'a.b', 'a'.repeat(64), 'a b']) {
      expect(() => t.ov.workspace(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
    expect(t.ov.workspace('a'.repeat(63)).id).toHaveLength(63);
  });

  it('submitMany creates every job in one commit', async () => {
    const ws = t.ov.workspace('acme');
    const commits: number[] = [];
    watchCommits(t.ov.runtime.host.store, (writes) => commits.push(writes.length));
    const jobs = await ws.jobs.submitMany(Array.from({ length: 100 }, (_, i) => ({ title: `j${i}` })));
    expect(jobs).toHaveLength(100);
    expect(commits).toHaveLength(1);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(100);
  });

  it('submitMany is all or nothing', async () => {
    const ws = t.ov.workspace('acme');
    const err = await rejection(
      ws.jobs.submitMany([{ title: 'ok' }, { title: 'bad', dependsOn: ['job_missing'] }]),
    );
    expect(err.code).toBe('NOT_FOUND');
    expect((await ws.jobs.list()).jobs).toHaveLength(0);
  });

  it('lists in creation order with limit, cursor and filters', async () => {
    const ws = t.ov.workspace('acme');
    const made = await ws.jobs.submitMany(
      Array.from({ length: 7 }, (_, i) => ({ title: `j${i}`, priority: i % 2 ? 'high' : 'low' })),
    );
    await ws.jobs.cancel(made[0]!.id);
    const p1 = await ws.jobs.list({ limit: 3 });
    expect(p1.jobs.map((j) => j.title)).toEqual(['j0', 'j1', 'j2']);
    const p2 = await ws.jobs.list({ limit: 3, cursor: p1.nextCursor! });
    expect(p2.jobs.map((j) => j.title)).toEqual(['j3', 'j4', 'j5']);
    const p3 = await ws.jobs.list({ limit: 3, cursor: p2.nextCursor! });
    expect(p3.jobs.map((j) => j.title)).toEqual(['j6']);
    expect(p3.nextCursor).toBeNull();
    expect((await ws.jobs.list({ status: 'CANCELED' })).jobs.map((j) => j.title)).toEqual(['j0']);
    expect((await ws.jobs.list({ priority: 'high' })).jobs).toHaveLength(3);
    expect((await rejection(ws.jobs.list({ limit: 501 }))).code).toBe('VALIDATION_FAILED');
  });

  it('PENDING on unmet dependencies, BLOCKED by a failed one', async () => {
    const ws = t.ov.workspace('acme');
    const a = await ws.jobs.submit({ title: 'a' });
    const b = await ws.jobs.submit({ title: 'b', dependsOn: [a.id] });
    expect(b.status).toBe('PENDING');
    await ws.jobs.cancel(a.id);
    const c = await ws.jobs.submit({ title: 'c', dependsOn: [a.id] });
    expect(c.status).toBe('BLOCKED');
  });

  it('children get depth parent + 1, at most 5', async () => {
    const ws = t.ov.workspace('acme');
    let parent = await ws.jobs.submit({ title: 'root' });
    for (let d = 1; d <= 5; d++) {
      parent = await ws.jobs.submit({ title: `d${d}`, parentJobId: parent.id });
      expect(parent.depth).toBe(d);
    }
    expect((await rejection(ws.jobs.submit({ title: 'too deep', parentJobId: parent.id }))).code).toBe(
      'MAX_DEPTH_EXCEEDED',
    );
  });
});

describe('idempotency', () => {
  it('a replay returns the first answer; another payload answers IDEMPOTENCY_KEY_REUSED', async () => {
    const ws = t.ov.workspace('acme');
    const first = await ws.jobs.submit({ title: 'A', priority: 'high' }, { idempotencyKey: 'k1' });
    const replay = await ws.jobs.submit({ priority: 'high', title: 'A' }, { idempotencyKey: 'k1' });
    expect(replay).toEqual(first);
    expect((await rejection(ws.jobs.submit({ title: 'B' }, { idempotencyKey: 'k1' }))).code).toBe(
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect((await ws.jobs.list()).jobs).toHaveLength(1);
  });

  it('concurrent calls with one key apply once and share the answer', async () => {
    const ws = t.ov.workspace('acme');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => ws.jobs.submit({ title: 'same' }, { idempotencyKey: 'k' })),
    );
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect((await ws.jobs.list()).jobs).toHaveLength(1);
  });

  it('is scoped by workspace and command, and survives a restart', async () => {
    const a = t.ov.workspace('acme');
    const job = await a.jobs.submit({ title: 'A' }, { idempotencyKey: 'k' });
    const other = await t.ov.workspace('other').jobs.submit({ title: 'A' }, { idempotencyKey: 'k' });
    expect(other.id).not.toBe(job.id);
    const w = await a.workers.register({ name: 'w' }, { idempotencyKey: 'k' });
    expect(w.id).toMatch(/^wrk_/);
    const ov = await t.reopen();
    expect((await ov.workspace('acme').jobs.submit({ title: 'A' }, { idempotencyKey: 'k' })).id).toBe(job.id);
    expect((await ov.workspace('acme').jobs.list()).jobs).toHaveLength(1);
  });

  it('a failed command records nothing under its key', async () => {
    const ws = t.ov.workspace('acme');
    expect((await rejection(ws.jobs.cancel('job_missing', { idempotencyKey: 'c' }))).code).toBe('NOT_FOUND');
    const job = await ws.jobs.submit({ title: 'x' });
    expect((await ws.jobs.cancel(job.id, { idempotencyKey: 'c2' })).status).toBe('CANCELED');
    expect((await ws.jobs.cancel(job.id, { idempotencyKey: 'c2' })).status).toBe('CANCELED');
  });
});

describe('workers', () => {
  it('walks the supervisor commands with their directives', async () => {
    const ws = t.ov.workspace('acme');
    const w = await ws.workers.register({ name: 'claude-1', capabilities: ['typescript', 'typescript'] });
    expect(w).toMatchObject({ status: 'IDLE', capabilities: ['typescript'], jobId: null });
    expect(await ws.workers.heartbeat(w.id)).toEqual({ directive: 'continue', leaseExpiresAt: null });
    expect((await ws.workers.pause(w.id)).status).toBe('PAUSED');
    expect((await ws.workers.heartbeat(w.id)).directive).toBe('pause');
    expect((await ws.workers.resume(w.id)).status).toBe('IDLE');
    expect((await ws.workers.heartbeat(w.id)).directive).toBe('resume');
    expect((await ws.workers.heartbeat(w.id)).directive).toBe('continue');
    expect((await ws.workers.terminate(w.id)).status).toBe('TERMINATED');
    expect((await ws.workers.heartbeat(w.id)).directive).toBe('terminate');
    expect((await rejection(ws.workers.pause(w.id))).code).toBe('INVALID_STATE_TRANSITION');
  });

  it('deregister drains an idle worker to COMPLETED', async () => {
    const ws = t.ov.workspace('acme');
    const w = await ws.workers.register({ name: 'w' });
    expect((await ws.workers.deregister(w.id)).status).toBe('COMPLETED');
    expect((await ws.workers.heartbeat(w.id)).directive).toBe('terminate');
  });

  it('deregister completes a worker without a job in any state; a paused one persisted draining completes on RESUME', async () => {
    const ws = t.ov.workspace('acme');
    const paused = await ws.workers.register({ name: 'paused' });
    await ws.workers.pause(paused.id);
    expect((await ws.workers.deregister(paused.id)).status).toBe('COMPLETED');
    // An earlier version left a paused worker draining without a job (its job ended while paused): restored from
    // LMDB, RESUME must complete it, never send it back to work.
    const legacy = await ws.workers.register({ name: 'legacy' });
    await ws.workers.pause(legacy.id);
    const host = t.ov.runtime.host;
    await host.pipeline.idle();
    host.passivate(Infinity);
    const key = ['acme', 'worker', legacy.id];
    const stored = host.store.get('actors', key) as { v: number; s: { context: { draining: boolean } } };
    stored.s.context.draining = true;
    await host.store.commit([{ db: 'actors', key, value: stored }]);
    expect((await ws.workers.resume(legacy.id)).status).toBe('COMPLETED');
  });

  it('crash and restart are refused from IDLE', async () => {
    const ws = t.ov.workspace('acme');
    const w = await ws.workers.register({ name: 'w' });
    expect((await rejection(ws.workers.reportCrash(w.id, { reason: 'segfault' }))).code).toBe(
      'INVALID_STATE_TRANSITION',
    );
    expect((await rejection(ws.workers.restart(w.id))).code).toBe('INVALID_STATE_TRANSITION');
  });

  it('lists workers by status', async () => {
    const ws = t.ov.workspace('acme');
    const a = await ws.workers.register({ name: 'a' });
    await ws.workers.register({ name: 'b' });
    await ws.workers.pause(a.id);
    expect((await ws.workers.list({ status: 'PAUSED' })).workers.map((w) => w.name)).toEqual(['a']);
    expect((await ws.workers.list()).workers).toHaveLength(2);
  });
});

describe('sessions', () => {
  it('opens, idles, touches and closes', async () => {
    const ws = t.ov.workspace('acme');
    const w = await ws.workers.register({ name: 'w' });
    const s = await ws.sessions.open({ workerId: w.id, externalId: 'claude-session-1' });
    expect(s).toMatchObject({ status: 'ACTIVE', workerId: w.id, externalId: 'claude-session-1' });
    expect((await ws.sessions.idle(s.id)).status).toBe('IDLE');
    expect((await ws.sessions.touch(s.id)).status).toBe('ACTIVE');
    expect((await ws.sessions.close(s.id)).status).toBe('TERMINATED');
    expect((await ws.sessions.get(s.id)).endedReason).toBe('closed');
    expect((await rejection(ws.sessions.open({ workerId: 'wrk_missing' }))).code).toBe('NOT_FOUND');
  });
});

describe('journal and events', () => {
  it('journals every state each actor passes through, with seq per workspace', async () => {
    const ws = t.ov.workspace('acme');
    const job = await ws.jobs.submit({ title: 'x' });
    await ws.jobs.cancel(job.id, { reason: 'why not' });
    await t.ov.workspace('other').jobs.submit({ title: 'y' });
    const { events } = await ws.events.list();
    expect(events.map((e) => [e.seq, e.from, e.to, e.event])).toEqual([
      [1, null, 'SUBMITTED', 'jobs.submit'],
      [2, 'SUBMITTED', 'QUEUED', 'ENQUEUE'],
      [3, 'QUEUED', 'CANCELED', 'CANCEL'],
    ]);
    expect(events[2]).toMatchObject({
      workspaceId: 'acme',
      kind: 'job',
      id: job.id,
      principal: 'library',
      reason: 'why not',
      severity: 'info',
    });
    expect((await t.ov.workspace('other').events.list()).events.map((e) => e.seq)).toEqual([1, 2]);
    const page = await ws.events.list({ afterSeq: 1, limit: 1 });
    expect(page.events.map((e) => e.seq)).toEqual([2]);
    expect(page.nextCursor).toBe(2);
  });

  it('seq continues after a restart', async () => {
    await t.ov.workspace('acme').jobs.submit({ title: 'x' });
    const ov = await t.reopen();
    await ov.workspace('acme').jobs.submit({ title: 'y' });
    expect((await ov.workspace('acme').events.list()).events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('subscribers receive records only after they are durable, in order', async () => {
    const seen: JournalRecord[] = [];
    let durableWhenSeen = true;
    const host = t.ov.runtime.host;
    const off = t.ov.events.subscribe((r) => {
      durableWhenSeen &&= host.pipeline.durableId >= 1;
      seen.push(r);
    });
    const ws = t.ov.workspace('acme');
    await Promise.all([ws.jobs.submit({ title: 'a' }), ws.jobs.submit({ title: 'b' })]);
    expect(seen.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(durableWhenSeen).toBe(true);
    off();
    await ws.jobs.submit({ title: 'c' });
    expect(seen).toHaveLength(4);
  });
});
