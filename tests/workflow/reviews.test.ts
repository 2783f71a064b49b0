/**
 * Review triggers (issue 16): entering REVIEW spawns review jobs as children of the job; reviewers other than the
 * author's worker claim them and hand in their verdicts by completing them; REVIEW → COMPLETE reads only those
 * verdicts; a lost review job is replaced once; rounds are capped; a cancel takes the review jobs with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import { MAX_DEPTH } from '../../src/contracts/resources.ts';
import { TEST_SECRET, freshWs } from '../http/support.ts';
import { openTestOverseer, rejection, type TestOverseer } from '../support/open.ts';

const YAML = `name: rev
version: 1
max_review_rounds: 2
phases:
  - id: IMPL
    artifacts: [implementation]
  - id: REVIEW
  - id: DONE
    final: true
transitions:
  - from: IMPL
    to: REVIEW
  - from: REVIEW
    to: IMPL
    name: changes_requested
    gates: [changes_requested]
  - from: REVIEW
    to: DONE
    gates: [no_blocking_issues]
triggers:
  - on_enter: REVIEW
    spawn_reviews: { count: 2, capability: review }
`;
const IMPLEMENTATION = { summary: 'Login form.', files_changed: ['src/login.ts'] };
const approve = (round: number) => ({ review: { round, verdict: 'approve', issues: [] } });
const blocking = (round: number) => ({
  review: {
    round,
    verdict: 'changes_requested',
    issues: [{ severity: 'major', blocking: true, description: 'No rate limit on attempts.' }],
  },
});

let t: TestOverseer;
beforeAll(async () => {
  t = await openTestOverseer({ tokenSecret: TEST_SECRET });
});
afterAll(async () => {
  await t?.cleanup();
});

/** A workflow job claimed by the author's worker (which could review too), and two reviewers. */
async function authored(
  options: { yaml?: string; ov?: TestOverseer; parentJobId?: string; ws?: string } = {},
) {
  const ov = (options.ov ?? t).ov;
  const ws = options.ws ?? freshWs('rv');
  const admin = ov.workspace(ws, { principal: { sub: 'tester', workspaceId: ws, scopes: ['admin'] } });
  await admin.workflows.put({ yaml: options.yaml ?? YAML });
  const job = await admin.jobs.submit({
    title: 'login',
    workflow: 'rev',
    ...(options.parentJobId ? { parentJobId: options.parentJobId } : {}),
  });
  const author = await admin.workers.register({ name: 'author', capabilities: ['review'] });
  const claim = await admin.queue.claim({ workerId: author.id });
  expect(claim.job?.id).toBe(job.id);
  const r1 = await admin.workers.register({ name: 'r1', capabilities: ['review'] });
  const r2 = await admin.workers.register({ name: 'r2', capabilities: ['review'] });
  let token = claim.phaseToken!.token;
  /** The author's transition with its current phase token (kept up to date). */
  const move = async (from: string, to: string, artifacts: Record<string, unknown> = {}) => {
    const principal = await ov.authenticate(token);
    const answer = await ov
      .workspace(ws, { principal })
      .workflow.transition({ currentPhase: from, targetPhase: to, artifacts });
    if (answer.phaseToken) token = answer.phaseToken.token;
    return answer;
  };
  const reviews = async () =>
    (await admin.jobs.list({ parentJobId: job.id, type: 'review', limit: 500 })).jobs;
  return { ws, admin, job, author, claim, r1, r2, move, reviews };
}

/** Claims a review job as `workerId` and completes it with `result`. */
async function review(admin: WorkspaceClient, workerId: string, result: unknown) {
  const c = await admin.queue.claim({ workerId });
  expect(c.job?.type).toBe('review');
  await admin.queue.complete({ jobId: c.job!.id, leaseToken: c.lease!.token, result });
  return c.job!;
}

describe('review triggers', () => {
  it('spawns two review jobs, reviewed by two other workers; a blocking review sends the work back; round 2 completes', async () => {
    const { admin, job, author, r1, r2, move, reviews } = await authored();
    expect(await move('IMPL', 'REVIEW', { implementation: IMPLEMENTATION })).toMatchObject({
      allowed: true,
      phase: 'REVIEW',
    });
    const round1 = await reviews();
    expect(round1).toHaveLength(2);
    for (const r of round1)
      expect(r).toMatchObject({
        type: 'review',
        parentJobId: job.id,
        depth: 1,
        capabilities: ['review'],
        status: 'QUEUED',
        metadata: { review: { jobId: job.id, round: 1, implementation: IMPLEMENTATION } },
      });

    // Waiting: the author's own review artifact counts for nothing.
    const early = await move('REVIEW', 'DONE', { review: approve(1).review });
    expect(early.allowed).toBe(false);
    expect(early.blockers).toEqual([
      expect.objectContaining({ gate: 'no_blocking_issues', reason: expect.stringMatching(/0 of 2/) }),
    ]);

    const c1 = await admin.queue.claim({ workerId: r1.id });
    expect(c1.job?.type).toBe('review');
    // A verdict that is no review, or of another round, is refused and changes nothing.
    for (const bad of [{}, { review: { round: 1, verdict: 'maybe', issues: [] } }, approve(2)])
      expect(
        await rejection(
          admin.queue.complete({ jobId: c1.job!.id, leaseToken: c1.lease!.token, result: bad }),
        ),
      ).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await admin.jobs.get(c1.job!.id)).status).toBe('RUNNING');
    await admin.queue.complete({ jobId: c1.job!.id, leaseToken: c1.lease!.token, result: approve(1) });
    await review(admin, r2.id, blocking(1));

    const refused = await move('REVIEW', 'DONE');
    expect(refused.allowed).toBe(false);
    expect(refused.blockers[0]).toMatchObject({
      gate: 'no_blocking_issues',
      reason: expect.stringMatching(/1 blocking issue/),
    });
    expect(await move('REVIEW', 'IMPL')).toMatchObject({ allowed: true, phase: 'IMPL' });
    expect(await move('IMPL', 'REVIEW', { implementation: IMPLEMENTATION })).toMatchObject({ allowed: true });
    expect((await admin.jobs.get(job.id)).phase).toMatchObject({ phase: 'REVIEW', round: 2 });

    const round2 = (await reviews()).filter((r) => r.status === 'QUEUED');
    expect(round2).toHaveLength(2);
    expect(round2.map((r) => r.metadata?.['review'])).toEqual([
      expect.objectContaining({ round: 2 }),
      expect.objectContaining({ round: 2 }),
    ]);
    // Round 1's blocking verdict is superseded: round 2's approvals complete the job.
    await review(admin, r1.id, approve(2));
    const halfway = await move('REVIEW', 'DONE');
    expect(halfway.blockers[0]?.reason).toMatch(/1 of 2 in round 2/);
    await review(admin, r2.id, approve(2));
    expect(await move('REVIEW', 'DONE')).toMatchObject({ allowed: true, phase: 'DONE' });
    expect((await admin.jobs.get(job.id)).status).toBe('COMPLETED');
    expect((await admin.workers.get(author.id)).status).toBe('IDLE');
  });

  it("the author's worker never claims the round's review jobs, even when idle", async () => {
    const { admin, job, author, claim, r1, move, reviews } = await authored();
    await move('IMPL', 'REVIEW', { implementation: IMPLEMENTATION });
    // The author's job fails for a retry: its review jobs go with it (and are replaced); its worker is idle.
    await admin.queue.fail({
      jobId: job.id,
      leaseToken: claim.lease!.token,
      reason: 'crashed',
      retryable: true,
    });
    expect((await admin.jobs.get(job.id)).status).toBe('RETRY_WAIT');
    const all = await reviews();
    expect(all.map((r) => r.status).sort()).toEqual(['CANCELED', 'CANCELED', 'QUEUED', 'QUEUED']);
    expect((await admin.workers.get(author.id)).status).toBe('IDLE');
    expect((await admin.queue.claim({ workerId: author.id })).job).toBeNull();
    const c1 = await admin.queue.claim({ workerId: r1.id });
    expect(c1.job?.metadata?.['review']).toMatchObject({ round: 1, attempt: 2 });
  });

  it('a lost review job is replaced once; lost again, REVIEW → DONE is blocked with the reason', async () => {
    const { admin, r1, r2, move, reviews } = await authored();
    await move('IMPL', 'REVIEW', { implementation: IMPLEMENTATION });
    const c1 = await admin.queue.claim({ workerId: r1.id });
    await admin.queue.fail({
      jobId: c1.job!.id,
      leaseToken: c1.lease!.token,
      reason: 'gave up',
      retryable: false,
    });
    await review(admin, r2.id, approve(1));
    const replacement = (await reviews()).find((r) => r.status === 'QUEUED')!;
    expect(replacement.metadata?.['review']).toMatchObject({
      slot: (c1.job!.metadata?.['review'] as { slot: number }).slot,
      attempt: 2,
    });
    await admin.jobs.cancel(replacement.id);
    const after = await reviews();
    expect(after).toHaveLength(3);
    expect(after.filter((r) => r.status === 'QUEUED')).toEqual([]);
    const blocked = await move('REVIEW', 'DONE');
    expect(blocked.allowed).toBe(false);
    expect(blocked.blockers[0]).toMatchObject({
      gate: 'no_blocking_issues',
      reason: expect.stringMatching(
        /cannot be handed in: slot \d: \S+ ended FAILED, then its replacement \S+ ended CANCELED/,
      ),
      details: { outcome: 'error' },
    });
  });

  it('rounds are capped by max_review_rounds: past it, the move into REVIEW is blocked and spawns nothing', async () => {
    const { admin, r1, r2, move, reviews } = await authored({
      yaml: YAML.replace('max_review_rounds: 2', 'max_review_rounds: 1'),
    });
    await move('IMPL', 'REVIEW', { implementation: IMPLEMENTATION });
    await review(admin, r1.id, blocking(1));
    await review(admin, r2.id, approve(1));
    expect(await move('REVIEW', 'IMPL')).toMatchObject({ allowed: true });
    const capped = await move('IMPL', 'REVIEW', { implementation: IMPLEMENTATION });
    expect(capped.allowed).toBe(false);
    expect(capped.blockers).toEqual([expect.objectContaining({ gate: 'max_review_rounds' })]);
    expect(await reviews()).toHaveLength(2);
  });

  it('canceling the job during REVIEW cancels its review jobs, and none is replaced', async () => {
    const { admin, job, r1, move, reviews } = await authored();
    await move('IMPL', 'REVIEW', { implementation: IMPLEMENTATION });
    await admin.queue.claim({ workerId: r1.id });
    await admin.jobs.cancel(job.id);
    const all = await reviews();
    expect(all.map((r) => r.status)).toEqual(['CANCELED', 'CANCELED']);
    expect((await admin.jobs.get(job.id)).phase).toMatchObject({ status: 'CANCELED' });
  });

  it('a job at depth 5 cannot spawn review jobs: the move is blocked with MAX_DEPTH_EXCEEDED', async () => {
    const ws = freshWs('rv');
    const admin = t.ov.workspace(ws, { principal: { sub: 'tester', workspaceId: ws, scopes: ['admin'] } });
    let parentJobId: string | undefined;
    for (let depth = 0; depth < MAX_DEPTH; depth++)
      parentJobId = (
        await admin.jobs.submit({
          title: `level ${depth}`,
          hold: true,
          ...(parentJobId ? { parentJobId } : {}),
        })
      ).id;
    const { job, move, reviews } = await authored({ ws, parentJobId: parentJobId! });
    expect(job.depth).toBe(MAX_DEPTH);
    const blocked = await move('IMPL', 'REVIEW', { implementation: IMPLEMENTATION });
    expect(blocked.allowed).toBe(false);
    expect(blocked.blockers).toEqual([
      expect.objectContaining({
        gate: 'spawn_reviews',
        details: expect.objectContaining({ code: 'MAX_DEPTH_EXCEEDED' }),
      }),
    ]);
    expect(await reviews()).toEqual([]);
    expect((await admin.jobs.get(job.id)).phase).toMatchObject({ phase: 'IMPL' });
  });

  it('a quota that admits no review job blocks the move with QUOTA_EXCEEDED', async () => {
    const depth = Array.from({ length: MAX_DEPTH + 1 }, (_, d) => ({
      maxRunningJobs: d === 1 ? 0 : 10,
      maxWorkerSlots: 10,
    }));
    const quota = await openTestOverseer({ tokenSecret: TEST_SECRET, resources: { depth } });
    try {
      const { job, admin, move, reviews } = await authored({ ov: quota });
      const blocked = await move('IMPL', 'REVIEW', { implementation: IMPLEMENTATION });
      expect(blocked.blockers).toEqual([
        expect.objectContaining({
          gate: 'spawn_reviews',
          details: expect.objectContaining({ code: 'QUOTA_EXCEEDED' }),
        }),
      ]);
      expect(await reviews()).toEqual([]);
      expect((await admin.jobs.get(job.id)).phase).toMatchObject({ phase: 'IMPL' });
    } finally {
      await quota.cleanup();
    }
  });
});
