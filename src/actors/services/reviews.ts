import { ReviewArtifactSchema, type ReviewArtifact } from '../../contracts/artifacts.ts';
import type { JobStatus } from '../../contracts/job.ts';
import { MAX_DEPTH } from '../../contracts/resources.ts';
import type { TransitionBlocker, Trigger } from '../../contracts/workflow.ts';
import { OverseerError } from '../../core/errors.ts';
import type { LostReview } from '../../domain/workflow/evaluate-gate.ts';
import type { JobContext, ReviewOf } from '../../machines/job.ts';
import type { Tx } from '../tx.ts';
import { cancelTree, isFinalJob } from '../work/lifecycle.ts';
import { submitJob } from './jobs.ts';
import { workflowOf } from './phases.ts';

// Review triggers (issue 16): entering a reviewing phase spawns review jobs as children of the job; each reviewer
// hands in its verdict by completing its review job with `result.review`; a lost review job is replaced once.

/** A review job that ends so hands in no review. */
const LOST: readonly JobStatus[] = ['FAILED', 'CANCELED', 'BLOCKED'];
/** A slot's first job and its one replacement. */
const ATTEMPTS = 2;

/**
 * Why a trigger's review jobs cannot be spawned under `jobId`, as blockers: they would sit past the maximum depth
 * (`MAX_DEPTH_EXCEEDED`), or a quota at their depth or of the workspace admits no running job at all
 * (`QUOTA_EXCEEDED`: they could never be claimed). A quota that is only full now is no blocker: they wait.
 */
export function reviewSpawnBlockers(
  tx: Tx,
  jobId: string,
  triggers: readonly Trigger[],
): TransitionBlocker[] {
  if (triggers.length === 0) return [];
  const parent = tx.get('job', jobId).context;
  const depth = parent.depth + 1;
  if (depth > MAX_DEPTH)
    return [
      {
        gate: 'spawn_reviews',
        reason: `MAX_DEPTH_EXCEEDED: review jobs of ${jobId} would be at depth ${depth}, past ${MAX_DEPTH}`,
        details: { code: 'MAX_DEPTH_EXCEEDED', depth, maxDepth: MAX_DEPTH },
      },
    ];
  const fits = tx.env.work.get(tx.ws).ledger.check({
    jobId: '',
    depth,
    ancestors: [jobId, ...parent.ancestors],
    running: true,
    workerSlots: 1,
    resources: [],
  });
  const never = fits.ok ? [] : fits.busy.filter((b) => b.never);
  if (never.length === 0) return [];
  return [
    {
      gate: 'spawn_reviews',
      reason: `QUOTA_EXCEEDED: a review job at depth ${depth} could never run (${never.map((b) => b.resource).join(', ')})`,
      details: { code: 'QUOTA_EXCEEDED', depth, busy: never },
    },
  ];
}

/** Submits one review job under `parent` through the job submit service (depth and links as for any child). */
function submitReview(
  tx: Tx,
  parent: JobContext,
  capability: string,
  review: ReviewOf,
  implementation: unknown,
): void {
  const { spec } = parent;
  submitJob(
    tx,
    {
      title: `Review ${review.round}.${review.slot} of ${spec.title}`.slice(0, 500),
      type: 'review',
      priority: spec.priority,
      ...(spec.repositoryUrl !== undefined ? { repositoryUrl: spec.repositoryUrl } : {}),
      ...(spec.branchName !== undefined ? { branchName: spec.branchName } : {}),
      parentJobId: parent.id,
      dependsOn: [],
      capabilities: [capability],
      resources: [],
      workerCount: 1,
      // The replacement is the retry: a review job that fails is replaced once, not retried.
      execution: { maxRetries: 0 },
      leaseSeconds: spec.leaseSeconds,
      failParentOnFailure: false,
      metadata: {
        review: {
          jobId: parent.id,
          round: review.round,
          slot: review.slot,
          attempt: review.attempt,
          implementation: implementation ?? null,
        },
      },
      hold: false,
    },
    undefined,
    review,
  );
}

/**
 * Spawns a trigger's review jobs for `round` as children of `jobId` (type `review`, the trigger's capability, the
 * implementation artifact and the round in `metadata.review`); the worker holding the job may not claim them.
 */
export function spawnReviews(
  tx: Tx,
  jobId: string,
  round: number,
  trigger: Trigger,
  implementation: unknown,
): void {
  const parent = tx.get('job', jobId).context;
  for (let slot = 1; slot <= trigger.spawn_reviews.count; slot++)
    submitReview(
      tx,
      parent,
      trigger.spawn_reviews.capability,
      { round, slot, attempt: 1, excludedWorkerId: parent.workerId },
      implementation,
    );
}

/** The review jobs of a round by slot, oldest attempt first. */
function roundJobs(tx: Tx, jobId: string, round: number): Map<number, { id: string; status: JobStatus }[]> {
  const slots = new Map<number, { id: string; status: JobStatus }[]>();
  for (const id of tx.get('job', jobId).context.children) {
    const child = tx.get('job', id);
    const r = child.context.review;
    if (r?.round !== round) continue;
    const jobs = slots.get(r.slot) ?? [];
    jobs[r.attempt - 1] = { id, status: child.value };
    slots.set(r.slot, jobs);
  }
  return slots;
}

/** What a round's review jobs handed in: the schema-checked reviews, and the slots that can hand in none. */
export interface RoundReviews {
  reviews: ReviewArtifact[];
  lost: LostReview[];
}

/**
 * The reviews of a round, read only from the round's review jobs that completed (their `result.review`, checked
 * when they completed); a slot whose last job ended FAILED, CANCELED or BLOCKED is lost. Anything else is pending.
 */
export function roundReviews(tx: Tx, jobId: string, round: number): RoundReviews {
  const reviews: ReviewArtifact[] = [];
  const lost: LostReview[] = [];
  for (const [slot, jobs] of [...roundJobs(tx, jobId, round)].sort(([a], [b]) => a - b)) {
    const present = jobs.filter((j) => j !== undefined);
    const last = present[present.length - 1]!;
    if (last.status === 'COMPLETED') {
      const result = tx.get('job', last.id).context.result;
      const parsed = ReviewArtifactSchema.safeParse(reviewOf(result));
      if (parsed.success) reviews.push(parsed.data);
    } else if (LOST.includes(last.status)) {
      lost.push({
        slot,
        jobs: present.map((j) => j.id),
        reason: present.map((j) => `${j.id} ended ${j.status}`).join(', then its replacement '),
      });
    }
  }
  return { reviews, lost };
}

/**
 * Replaces a review job that ended FAILED, CANCELED or BLOCKED, once per slot, while its parent is still in the
 * reviewing phase of that round (the node calls it as a child ends; a second loss is left for the gate to report).
 */
export function replaceLostReview(tx: Tx, childId: string): void {
  const child = tx.get('job', childId);
  const r = child.context.review;
  const parentId = child.context.spec.parentJobId;
  if (!r || parentId === undefined || !LOST.includes(child.value) || r.attempt >= ATTEMPTS) return;
  const phase = tx.find('phase', parentId);
  if (phase?.value !== 'ACTIVE' || phase.context.round !== r.round) return;
  const workflow = workflowOf(tx, phase.context.workflow);
  if (!workflow.triggers.some((t) => t.on_enter === phase.context.phase)) return;
  const replaced = roundJobs(tx, parentId, r.round).get(r.slot)?.[r.attempt];
  if (replaced) return;
  const parent = tx.get('job', parentId).context;
  const meta = child.context.spec.metadata?.['review'] as { implementation?: unknown } | undefined;
  submitReview(
    tx,
    parent,
    child.context.spec.capabilities[0] ?? 'review',
    { ...r, attempt: r.attempt + 1 },
    meta?.implementation,
  );
}

/** Cancels the review jobs of earlier rounds that are still open: their verdicts are superseded. */
export function supersedeReviews(tx: Tx, jobId: string, round: number): void {
  for (const id of tx.get('job', jobId).context.children) {
    const child = tx.get('job', id);
    if (child.context.review && !isFinalJob(child.value))
      cancelTree(tx, id, `superseded: review round ${round} is over`);
  }
}

const reviewOf = (result: unknown): unknown =>
  typeof result === 'object' && result !== null ? (result as Record<string, unknown>)['review'] : undefined;

/**
 * A review job completes only with `result.review`, valid against the `review` schema and naming its round
 * (`VALIDATION_FAILED` otherwise, changing nothing). Other jobs are not checked.
 */
export function checkReviewResult(c: JobContext, result: unknown): void {
  if (!c.review) return;
  const parsed = ReviewArtifactSchema.safeParse(reviewOf(result));
  const issues = parsed.success
    ? parsed.data.round === c.review.round
      ? []
      : [{ path: 'result.review.round', message: `this review job reviews round ${c.review.round}` }]
    : parsed.error.issues.map((i) => ({
        path: ['result', 'review', ...i.path.map(String)].join('.'),
        message: i.message,
      }));
  if (issues.length > 0)
    throw new OverseerError(
      'VALIDATION_FAILED',
      `A review job completes with result.review, a valid review of round ${c.review.round}: ${issues[0]!.path}: ${issues[0]!.message}.`,
      { issues },
    );
}
