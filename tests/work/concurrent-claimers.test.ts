/**
 * 50 workers claim concurrently on one runtime (each loops claim → complete with claimNext) over 10,000 queued
 * jobs of mixed priorities. Every client records its operations (the history checker of tests/support/history.ts):
 * every job must be completed exactly once (one COMPLETED record in the journal, one acknowledged complete), no job
 * may be handed to two workers, and — since every job matches every worker and nothing else is queued meanwhile —
 * claims must come out high first, then normal, then low, each lane in submission order.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkspaceClient } from '../../src/api/workspace-client.ts';
import type { ClaimAnswer } from '../../src/contracts/answers.ts';
import type { Priority } from '../../src/contracts/job.ts';
import type { JournalRecord } from '../../src/contracts/journal.ts';
import { simulatedClock } from '../../src/testing.ts';
import { checkHistory, describeReport, History } from '../support/history.ts';
import { openTestOverseer, type TestOverseer } from '../support/open.ts';

const WORKERS = 50;
const JOBS = 10_000;
const RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

let t: TestOverseer | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

async function journal(ws: WorkspaceClient): Promise<JournalRecord[]> {
  const out: JournalRecord[] = [];
  for (let after = 0; ;) {
    const page = await ws.events.list({ afterSeq: after, limit: 500 });
    out.push(...page.events);
    if (page.nextCursor === null || page.events.length === 0) return out;
    after = page.events[page.events.length - 1]!.seq;
  }
}

describe('concurrent claimers', () => {
  it(`${WORKERS} workers drain ${JOBS.toLocaleString('en')} jobs: each completed once, by priority`, async () => {
    // A simulated clock that never moves: no lease lapses, so every job must be claimed exactly once.
    t = await openTestOverseer({ clock: simulatedClock(), durability: 'commit' });
    const ws = t.ov.workspace('swarm');

    // Submit everything first, in a mixed (seeded) order of priorities.
    const priorities: Priority[] = ['high', 'normal', 'low'];
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const submitted: { id: string; priority: Priority }[] = [];
    for (let chunk = 0; chunk < JOBS / 1000; chunk++) {
      const inputs = Array.from({ length: 1000 }, (_, i) => {
        const priority = priorities[next() % 3]!;
        return { title: `job ${chunk * 1000 + i}`, priority };
      });
      const jobs = await ws.jobs.submitMany(inputs);
      for (const j of jobs) submitted.push({ id: j.id, priority: j.priority });
    }
    const priorityOf = new Map(submitted.map((j) => [j.id, j.priority]));
    expect(await ws.queue.stats()).toMatchObject({ jobs: { QUEUED: JOBS } });

    const workers: string[] = [];
    for (let i = 0; i < WORKERS; i++) workers.push((await ws.workers.register({ name: `w${i}` })).id);

    // Every worker loops claim → complete(claimNext) until the queue is empty, all concurrently.
    const history = new History();
    const holding = new Map<string, string>(); // job → the worker holding its lease now
    const overlaps: string[] = [];
    let maxHolding = 0;
    const tokens = new Map<string, string>();
    const take = (workerId: string, answer: ClaimAnswer) => {
      const job = answer.job!;
      const other = holding.get(job.id);
      if (other !== undefined) overlaps.push(`${job.id} handed to ${workerId} while ${other} holds it`);
      holding.set(job.id, workerId);
      maxHolding = Math.max(maxHolding, holding.size);
      tokens.set(job.id, answer.lease!.token);
    };
    const started = Date.now();
    await Promise.all(
      workers.map(async (workerId) => {
        let n = 0;
        const claimOp = history.invoke(workerId, 'queue.claim', `${workerId}#${n++}`);
        let answer = await ws.queue.claim({ workerId });
        history.ok(claimOp, answer.job?.id ?? null);
        while (answer.job) {
          take(workerId, answer);
          const jobId = answer.job.id;
          const op = history.invoke(workerId, 'queue.complete', jobId, { leaseToken: answer.lease!.token });
          const nextOp = history.invoke(workerId, 'queue.claim', `${workerId}#${n++}`);
          try {
            const done = await ws.queue.complete({ jobId, leaseToken: answer.lease!.token, claimNext: true });
            holding.delete(jobId);
            history.ok(op, done.job.status);
            answer = done.next!;
            history.ok(nextOp, answer.job?.id ?? null);
          } catch (err) {
            const code = (err as { code?: string }).code ?? 'UNKNOWN';
            history.fail(op, code);
            history.fail(nextOp, code);
            throw err;
          }
        }
      }),
    );
    const drainMs = Date.now() - started;

    // The journal: exactly one CLAIM and one COMPLETED record per job.
    const records = (await journal(ws)).filter((r) => r.kind === 'job');
    const claims = records.filter((r) => r.event === 'CLAIM').map((r) => r.id);
    const completedCount = new Map<string, number>();
    for (const r of records)
      if (r.to === 'COMPLETED') completedCount.set(r.id, (completedCount.get(r.id) ?? 0) + 1);
    const report = checkHistory(history, {
      keyed: [
        {
          fs: ['queue.complete'],
          applied: (key) => completedCount.get(key) ?? 0,
          present: completedCount.keys(),
        },
      ],
    });
    expect(report.pass, describeReport(report)).toBe(true);
    expect(report.failed).toBe(0);
    expect(overlaps).toEqual([]);
    // The claimers did run concurrently: every worker held a lease at the same moment.
    expect(maxHolding).toBe(WORKERS);
    expect(history.select('queue.complete', 'ok')).toHaveLength(JOBS);
    expect(completedCount.size).toBe(JOBS);
    expect([...completedCount.values()].every((n) => n === 1)).toBe(true);
    expect(claims).toHaveLength(JOBS);
    expect(new Set(claims).size).toBe(JOBS);
    // Claimed answers name distinct jobs with distinct, increasing tokens.
    const claimedIds = history
      .select('queue.claim', 'ok')
      .map((op) => op.value)
      .filter((v): v is string => typeof v === 'string');
    expect(new Set(claimedIds).size).toBe(JOBS);
    const inClaimOrder = claims.map((id) => Number(tokens.get(id)));
    expect(inClaimOrder).toEqual([...inClaimOrder].sort((a, b) => a - b));

    // Priority: all high, then all normal, then all low — and FIFO within each lane (every job matches).
    const expected = [...submitted].sort((a, b) => RANK[a.priority] - RANK[b.priority]).map((j) => j.id);
    const firstOutOfOrder = claims.findIndex((id, i) => id !== expected[i]);
    expect(
      firstOutOfOrder,
      firstOutOfOrder < 0
        ? ''
        : `claim #${firstOutOfOrder} took ${claims[firstOutOfOrder]} (${priorityOf.get(claims[firstOutOfOrder]!)}), ` +
            `expected ${expected[firstOutOfOrder]} (${priorityOf.get(expected[firstOutOfOrder]!)})`,
    ).toBe(-1);
    const counts = { high: 0, normal: 0, low: 0 };
    for (const j of submitted) counts[j.priority]++;
    expect(Math.min(counts.high, counts.normal, counts.low)).toBeGreaterThan(JOBS / 4);

    expect(await ws.queue.stats()).toEqual({
      depth: { high: 0, normal: 0, low: 0 },
      jobs: { COMPLETED: JOBS },
    });
    const usage = await ws.resources.usage();
    expect(usage.workspace).toEqual({ runningJobs: 0, workerSlots: 0 });
    expect((await ws.workers.list({ status: 'IDLE', limit: 500 })).workers).toHaveLength(WORKERS);
    console.log(`concurrent-claimers: ${JOBS} jobs drained by ${WORKERS} workers in ${drainMs} ms`);
  }, 120_000);
});
