/**
 * Fencing: a lease token proves who holds a job. Forced hand-overs on a simulated clock — a lease lapses (or its
 * worker is terminated, or the job is canceled) and the job goes to another claim — after which every late call
 * of the old holder with its old token is refused and changes nothing, while the new holder's calls succeed.
 * Tokens are strictly increasing across hand-overs, jobs and restarts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import type { JournalRecord } from '../../src/contracts/journal.ts';
import { simulatedClock, type TestClock } from '../../src/testing.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

const LEASE_SECONDS = 10;
const HANDOVERS = 1000;
/** A job takes this many hand-overs (each lapse spends a retry), then its last holder completes it. */
const PER_JOB = 50;

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

async function open(clock: TestClock): Promise<TestOverseer> {
  return openTestOverseer({ clock, durability: 'commit', heartbeatTimeoutSeconds: 86_400 });
}

const settle = async (t: TestOverseer) => {
  for (let i = 0; i < 3; i++) await t.ov.runtime.host.pipeline.idle();
};

async function journal(ws: WorkspaceClient): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for (let after = 0; ;) {
    const page = await ws.events.list({ afterSeq: after, limit: 500 });
    out.push(...page.events);
    if (page.nextCursor === null || page.events.length === 0) return out;
    after = page.events[page.events.length - 1]!.seq;
  }
}

/** The late calls of a holder whose lease `token` is no longer current: all refused, nothing changes. */
async function expectFencedOff(
  ws: WorkspaceClient,
  jobId: string,
  workerId: string,
  token: string,
  heartbeat: 'LEASE_LOST' | 'cancel' | 'terminate',
  variant = 0,
): Promise<void> {
  expect((await rejection(ws.queue.complete({ jobId, leaseToken: token, result: 'late' }))).code).toBe(
    'LEASE_LOST',
  );
  const retryable = variant % 2 === 0;
  expect((await rejection(ws.queue.fail({ jobId, leaseToken: token, reason: 'late', retryable }))).code).toBe(
    'LEASE_LOST',
  );
  const beat =
    variant % 3 === 0
      ? ws.workers.heartbeat(workerId, { leaseToken: token })
      : ws.queue.heartbeat({ workerId, leaseToken: token });
  if (heartbeat === 'LEASE_LOST') expect((await rejection(beat)).code).toBe('LEASE_LOST');
  else expect(await beat).toEqual({ directive: heartbeat, leaseExpiresAt: null });
}

/** mulberry32: the order in which workers take over. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let x = (state = (state + 0x6d2b79f5) >>> 0);
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('fencing tokens', () => {
  it(`${HANDOVERS} forced lease hand-overs: the old holder's complete, fail and heartbeat are refused`, async () => {
    const clock = simulatedClock();
    t = await open(clock);
    let ws = t.ov.workspace('fence');
    const workers = [
      (await ws.workers.register({ name: 'a' })).id,
      (await ws.workers.register({ name: 'b' })).id,
      (await ws.workers.register({ name: 'c' })).id,
    ];
    const submit = () =>
      ws.jobs.submit({ title: 'contended', leaseSeconds: LEASE_SECONDS, execution: { maxRetries: 100 } });
    let job = await submit();
    let first = await ws.queue.claim({ workerId: workers[0]! });
    let holder = { workerId: workers[0]!, token: first.lease!.token };
    const tokens = [first.lease!.fence];
    const completed: string[] = [];
    let handovers = 0;
    let sameWorker = 0;
    const random = rng(20260101);

    for (let i = 1; i <= HANDOVERS; i++) {
      // A's lease lapses: the job is re-queued with one more retry spent.
      clock.increment(LEASE_SECONDS * 1000);
      await settle(t);
      const lapsed = await ws.jobs.get(job.id);
      expect(lapsed).toMatchObject({ status: 'QUEUED', workerId: null, retryCount: ((i - 1) % PER_JOB) + 1 });
      // Halfway, a crash-and-restart: the fence counter and the queue are durable.
      if (i === HANDOVERS / 2) ws = (await t.reopen()).workspace('fence');

      // B claims it (sometimes A itself again: a new lease all the same).
      const next = workers[Math.floor(random() * workers.length)]!;
      if (next === holder.workerId) sameWorker++;
      const claim = await ws.queue.claim({ workerId: next });
      expect(claim.job?.id).toBe(job.id);
      const token = claim.lease!.token;
      expect(claim.lease!.fence).toBeGreaterThan(tokens[tokens.length - 1]!);
      tokens.push(claim.lease!.fence);
      handovers++;

      // A's late calls with its old token: refused; the job stays with B.
      await expectFencedOff(ws, job.id, holder.workerId, holder.token, 'LEASE_LOST', i);
      expect(await ws.jobs.get(job.id)).toMatchObject({ status: 'RUNNING', workerId: next });
      expect(await ws.queue.heartbeat({ workerId: next, leaseToken: token })).toEqual({
        directive: 'continue',
        leaseExpiresAt: clock.now() + LEASE_SECONDS * 1000,
      });
      holder = { workerId: next, token };

      if (i % PER_JOB === 0) {
        // B's complete succeeds; A's stale complete after it is still refused.
        const done = await ws.queue.complete({ jobId: job.id, leaseToken: token, result: { i } });
        expect(done.job).toMatchObject({ status: 'COMPLETED', result: { i }, retryCount: PER_JOB });
        expect((await rejection(ws.queue.complete({ jobId: job.id, leaseToken: token }))).code).toBe(
          'LEASE_LOST',
        );
        completed.push(job.id);
        if (i < HANDOVERS) {
          job = await submit();
          first = await ws.queue.claim({ workerId: next });
          expect(first.job?.id).toBe(job.id);
          expect(first.lease!.fence).toBeGreaterThan(tokens[tokens.length - 1]!);
          tokens.push(first.lease!.fence);
          holder = { workerId: next, token: first.lease!.token };
        }
      }
    }

    expect(handovers).toBe(HANDOVERS);
    expect(sameWorker).toBeGreaterThan(0);
    expect(completed).toHaveLength(HANDOVERS / PER_JOB);
    // The journal: per job one COMPLETED record, PER_JOB lapses, PER_JOB + 1 claims; no late call left a trace.
    const records = (await journal(ws)).filter((r) => r.kind === 'job');
    for (const id of completed) {
      const mine = records.filter((r) => r.id === id);
      expect(mine.filter((r) => r.to === 'COMPLETED')).toHaveLength(1);
      expect(mine.filter((r) => r.event === 'LEASE_EXPIRED')).toHaveLength(PER_JOB);
      expect(mine.filter((r) => r.event === 'CLAIM')).toHaveLength(PER_JOB + 1);
      expect(mine.filter((r) => r.event === 'FAIL' || r.to === 'FAILED')).toHaveLength(0);
    }
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
    expect(new Set(tokens).size).toBe(tokens.length);
  }, 120_000);

  it('claims that share one commit persist the newest token: after a restart tokens keep increasing', async () => {
    t = await open(simulatedClock());
    let ws = t.ov.workspace('fence');
    const workers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => ws.workers.register({ name: `w${i}` })),
    );
    await ws.jobs.submitMany(Array.from({ length: 20 }, (_, i) => ({ title: `j${i}` })));
    const batch = t.ov.runtime.host.pipeline.latestId;
    const claims = await Promise.all(workers.map((w) => ws.queue.claim({ workerId: w.id })));
    // All ten claims merged into one batch (one commit, one write of the fencing token).
    expect(t.ov.runtime.host.pipeline.latestId).toBe(batch + 1);
    const tokens = claims.map((c) => c.lease!.fence);
    expect(new Set(tokens).size).toBe(10);
    ws = (await t.reopen()).workspace('fence');
    const again = await ws.queue.claim({ workerId: (await ws.workers.register({ name: 'late' })).id });
    expect(again.lease!.fence).toBeGreaterThan(Math.max(...tokens));
  });

  it('after TERMINATE the old token heartbeats `terminate`; the next holder completes', async () => {
    const clock = simulatedClock();
    t = await open(clock);
    const ws = t.ov.workspace('fence');
    const b = (await ws.workers.register({ name: 'b' })).id;
    let last = 0;
    for (let i = 0; i < 100; i++) {
      const job = await ws.jobs.submit({
        title: `t${i}`,
        leaseSeconds: LEASE_SECONDS,
        execution: { maxRetries: 0 },
      });
      const a = (await ws.workers.register({ name: `a${i}` })).id;
      const ca = await ws.queue.claim({ workerId: a });
      expect(ca.job?.id).toBe(job.id);
      expect(ca.lease!.fence).toBeGreaterThan(last);
      // TERMINATE revokes A's lease and re-queues the job without spending a retry (maxRetries 0 still runs it).
      await ws.workers.terminate(a, { reason: 'stuck' });
      expect(await ws.jobs.get(job.id)).toMatchObject({ status: 'QUEUED', retryCount: 0, workerId: null });
      expect(await ws.workers.heartbeat(a)).toEqual({ directive: 'terminate', leaseExpiresAt: null });
      await expectFencedOff(ws, job.id, a, ca.lease!.token, 'terminate', i);
      const cb = await ws.queue.claim({ workerId: b });
      expect(cb.job?.id).toBe(job.id);
      expect(cb.lease!.fence).toBeGreaterThan(ca.lease!.fence);
      last = cb.lease!.fence;
      // A, terminated, is fenced off while B holds the job too.
      await expectFencedOff(ws, job.id, a, ca.lease!.token, 'terminate', i + 1);
      expect((await rejection(ws.queue.claim({ workerId: a }))).code).toBe('INVALID_STATE_TRANSITION');
      expect((await ws.queue.complete({ jobId: job.id, leaseToken: cb.lease!.token })).job.status).toBe(
        'COMPLETED',
      );
    }
  }, 60_000);

  it('after CANCEL the revoked token heartbeats `cancel`, also once the worker holds a newer lease', async () => {
    const clock = simulatedClock();
    t = await open(clock);
    let ws = t.ov.workspace('fence');
    const a = (await ws.workers.register({ name: 'a' })).id;
    let last = 0;
    for (let i = 0; i < 100; i++) {
      const doomed = await ws.jobs.submit({ title: `c${i}`, leaseSeconds: LEASE_SECONDS });
      const c = await ws.queue.claim({ workerId: a });
      expect(c.job?.id).toBe(doomed.id);
      const revoked = c.lease!.token;
      expect(c.lease!.fence).toBeGreaterThan(last);
      await ws.jobs.cancel(doomed.id, { reason: 'not needed' });
      await expectFencedOff(ws, doomed.id, a, revoked, 'cancel', i);
      expect(await ws.jobs.get(doomed.id)).toMatchObject({ status: 'CANCELED', workerId: null });
      expect(await ws.workers.heartbeat(a)).toEqual({ directive: 'continue', leaseExpiresAt: null });
      if (i === 50) ws = (await t.reopen()).workspace('fence');
      // The worker takes a new job: its current token works, the revoked one still answers cancel.
      const next = await ws.jobs.submit({ title: `n${i}`, leaseSeconds: LEASE_SECONDS });
      const cn = await ws.queue.claim({ workerId: a });
      expect(cn.job?.id).toBe(next.id);
      expect(cn.lease!.fence).toBeGreaterThan(c.lease!.fence);
      last = cn.lease!.fence;
      expect(await ws.queue.heartbeat({ workerId: a, leaseToken: revoked })).toEqual({
        directive: 'cancel',
        leaseExpiresAt: null,
      });
      expect((await ws.queue.heartbeat({ workerId: a, leaseToken: cn.lease!.token })).directive).toBe(
        'continue',
      );
      if (i % 2 === 0) {
        // A lapse is not a revocation: that lease answers LEASE_LOST, the cancelled one still `cancel`.
        clock.increment(LEASE_SECONDS * 1000);
        await settle(t);
        expect((await ws.jobs.get(next.id)).status).toBe('QUEUED');
        await expectFencedOff(ws, next.id, a, cn.lease!.token, 'LEASE_LOST', i + 1);
        expect((await ws.queue.heartbeat({ workerId: a, leaseToken: revoked })).directive).toBe('cancel');
        const again = await ws.queue.claim({ workerId: a });
        expect(again.job?.id).toBe(next.id);
        last = again.lease!.fence;
        await ws.queue.complete({ jobId: next.id, leaseToken: again.lease!.token });
      } else {
        await ws.queue.complete({ jobId: next.id, leaseToken: cn.lease!.token });
      }
    }
  }, 60_000);
});
