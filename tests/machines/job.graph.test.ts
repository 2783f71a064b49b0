import { describe, expect, it } from 'vitest';
import { jobMachine } from '../../src/machines/job.ts';
import type { JobEvent, JobInput } from '../../src/machines/job.ts';
import { JobSubmitSchema } from '../../src/contracts/job.ts';
import { graphSuite, replay } from './graph-helpers.ts';

const at = 1_000;

function inputWith(maxRetries: number): JobInput {
  const { hold: _hold, ...spec } = JobSubmitSchema.parse({ title: 'graph job', execution: { maxRetries } });
  return { id: 'job-1', workspaceId: 'ws', spec, depth: 0, at: 0 };
}

const claim = {
  type: 'CLAIM',
  at,
  workerId: 'w1',
  leaseFence: '1',
  leaseDigest: 'digest-1',
  leaseExpiresAt: 31_000,
} as const;
const failRetryable = { type: 'FAIL', at, reason: 'flaky', retryable: true } as const;

/** One sample per event type, and one per payload variant the guards look at. */
const events: JobEvent[] = [
  { type: 'ENQUEUE', at, unmetDependencies: 0 },
  { type: 'ENQUEUE', at, unmetDependencies: 1 },
  { type: 'DEPENDENCIES_MET', at },
  { type: 'DEPENDENCY_FAILED', at, reason: 'dependency failed' },
  claim,
  { type: 'EXTEND_LEASE', at, leaseExpiresAt: 61_000 },
  { type: 'REKEY_LEASE', at, leaseDigest: 'digest-2' },
  { type: 'COMPLETE', at, openChildren: 0, result: { ok: true } },
  { type: 'COMPLETE', at, openChildren: 1, result: { ok: true } },
  { type: 'CHILDREN_SETTLED', at },
  { type: 'CHILD_FAILED', at, reason: 'child failed' },
  failRetryable,
  { type: 'FAIL', at, reason: 'broken', retryable: false },
  { type: 'TIMEOUT', at },
  { type: 'LEASE_EXPIRED', at },
  { type: 'REQUEUE', at, reason: 'worker terminated' },
  { type: 'RETRY', at },
  { type: 'UPDATE', at, patch: { priority: 'high' } },
  { type: 'CANCEL', at },
  { type: 'CHILD_ADDED', at, childId: 'job-2' },
  { type: 'DEPENDENT_ADDED', at, dependentId: 'job-3' },
];

describe('job chart, driven by its graph', () => {
  // maxRetries 1: both sides of canRetry are reachable and the graph stays small.
  graphSuite({
    machine: jobMachine,
    input: inputWith(1),
    events,
    finals: ['COMPLETED', 'FAILED', 'CANCELED', 'BLOCKED'],
  });
});

describe('job behaviour', () => {
  const run = (maxRetries: number, evs: JobEvent[]) =>
    replay(jobMachine, inputWith(maxRetries), evs).getSnapshot();

  it.each([0, 1, 3])('maxRetries = %i allows that many retries plus one attempt', (n) => {
    const actor = replay(jobMachine, inputWith(n), [{ type: 'ENQUEUE', at, unmetDependencies: 0 }]);
    let attempts = 0;
    for (let retry = 1; retry <= n; retry++) {
      actor.send(claim);
      attempts++;
      actor.send(failRetryable);
      expect(actor.getSnapshot().value).toBe('RETRY_WAIT');
      expect(actor.getSnapshot().context.retryCount).toBe(retry);
      expect(actor.getSnapshot().context.leaseDigest).toBeNull();
      actor.send({ type: 'RETRY', at });
      expect(actor.getSnapshot().value).toBe('QUEUED');
    }
    actor.send(claim);
    attempts++;
    actor.send(failRetryable);
    expect(actor.getSnapshot().value).toBe('FAILED');
    expect(actor.getSnapshot().context.retryCount).toBe(n);
    expect(actor.getSnapshot().context.lastError).toBe('flaky');
    expect(attempts).toBe(n + 1);
  });

  it('a timeout spends a retry like a retryable failure', () => {
    const s = run(3, [{ type: 'ENQUEUE', at, unmetDependencies: 0 }, claim, { type: 'TIMEOUT', at }]);
    expect(s.value).toBe('RETRY_WAIT');
    expect(s.context.retryCount).toBe(1);
    expect(s.context.lastError).toBe('timed out');
  });

  it('a non-retryable failure fails at once, with retries left', () => {
    const s = run(3, [
      { type: 'ENQUEUE', at, unmetDependencies: 0 },
      claim,
      { type: 'FAIL', at, reason: 'no', retryable: false },
    ]);
    expect(s.value).toBe('FAILED');
    expect(s.context.retryCount).toBe(0);
  });

  it('LEASE_EXPIRED re-queues with retryCount + 1 and drops the lease; with no retry left it fails', () => {
    const s = run(1, [{ type: 'ENQUEUE', at, unmetDependencies: 0 }, claim, { type: 'LEASE_EXPIRED', at }]);
    expect(s.value).toBe('QUEUED');
    expect(s.context.retryCount).toBe(1);
    expect(s.context).toMatchObject({
      workerId: null,
      leaseFence: null,
      leaseDigest: null,
      leaseExpiresAt: null,
      lastError: 'lease expired',
    });
    const again = run(1, [
      { type: 'ENQUEUE', at, unmetDependencies: 0 },
      claim,
      { type: 'LEASE_EXPIRED', at },
      claim,
      { type: 'LEASE_EXPIRED', at },
    ]);
    expect(again.value).toBe('FAILED');
    expect(again.context.retryCount).toBe(1);
  });

  it('REQUEUE does not spend a retry, however often it happens', () => {
    const requeue = { type: 'REQUEUE', at, reason: 'worker terminated' } as const;
    const s = run(1, [
      { type: 'ENQUEUE', at, unmetDependencies: 0 },
      claim,
      requeue,
      claim,
      requeue,
      claim,
      requeue,
    ]);
    expect(s.value).toBe('QUEUED');
    expect(s.context.retryCount).toBe(0);
    expect(s.context.leaseDigest).toBeNull();
    expect(s.context.lastError).toBe('worker terminated');
  });

  it('COMPLETE with open children stays RUNNING with ownPartDone until CHILDREN_SETTLED', () => {
    const actor = replay(jobMachine, inputWith(3), [{ type: 'ENQUEUE', at, unmetDependencies: 0 }, claim]);
    expect(actor.getSnapshot().can({ type: 'CHILDREN_SETTLED', at })).toBe(false);
    actor.send({ type: 'COMPLETE', at, openChildren: 2, result: { files: 3 } });
    let s = actor.getSnapshot();
    expect(s.value).toBe('RUNNING');
    expect(s.context.ownPartDone).toBe(true);
    expect(s.context.result).toEqual({ files: 3 });
    expect(s.context.leaseDigest).toBeNull();
    // Its worker is gone: a lapsed lease neither re-queues nor spends a retry, and REQUEUE is refused.
    actor.send({ type: 'LEASE_EXPIRED', at });
    expect(actor.getSnapshot().value).toBe('RUNNING');
    expect(actor.getSnapshot().context.retryCount).toBe(0);
    expect(actor.getSnapshot().can({ type: 'REQUEUE', at, reason: 'x' })).toBe(false);
    actor.send({ type: 'CHILDREN_SETTLED', at: 2_000 });
    s = actor.getSnapshot();
    expect(s.value).toBe('COMPLETED');
    expect(s.status).toBe('done');
    expect(s.context.result).toEqual({ files: 3 });
    expect(s.context.updatedAt).toBe(2_000);
  });

  it('COMPLETE with no open children completes at once', () => {
    const s = run(3, [
      { type: 'ENQUEUE', at, unmetDependencies: 0 },
      claim,
      { type: 'COMPLETE', at, openChildren: 0, result: 'done' },
    ]);
    expect(s.value).toBe('COMPLETED');
    expect(s.context.result).toBe('done');
    expect(s.context.ownPartDone).toBe(false);
  });

  it('unmet dependencies hold a job in PENDING; a failed dependency blocks it', () => {
    expect(run(3, [{ type: 'ENQUEUE', at, unmetDependencies: 2 }]).value).toBe('PENDING');
    expect(
      run(3, [
        { type: 'ENQUEUE', at, unmetDependencies: 2 },
        { type: 'DEPENDENCIES_MET', at },
      ]).value,
    ).toBe('QUEUED');
    const blocked = run(3, [
      { type: 'ENQUEUE', at, unmetDependencies: 2 },
      { type: 'DEPENDENCY_FAILED', at, reason: 'dep x failed' },
    ]);
    expect(blocked.value).toBe('BLOCKED');
    expect(blocked.context.lastError).toBe('dep x failed');
  });

  it('CANCEL of a running job drops its lease; a final job cannot be canceled', () => {
    const s = run(3, [
      { type: 'ENQUEUE', at, unmetDependencies: 0 },
      claim,
      { type: 'CANCEL', at, reason: 'user' },
    ]);
    expect(s.value).toBe('CANCELED');
    expect(s.context).toMatchObject({ workerId: null, leaseDigest: null, lastError: 'user' });
    const done = run(3, [
      { type: 'ENQUEUE', at, unmetDependencies: 0 },
      claim,
      { type: 'COMPLETE', at, openChildren: 0 },
    ]);
    expect(done.can({ type: 'CANCEL', at })).toBe(false);
  });
});
