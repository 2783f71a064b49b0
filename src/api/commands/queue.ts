import {
  ClaimAnswerSchema,
  CompleteAnswerSchema,
  HeartbeatAnswerSchema,
  QueueStatsSchema,
} from '../../contracts/answers.ts';
import { JobSchema } from '../../contracts/job.ts';
import {
  ClaimSchema,
  CompleteSchema,
  EnqueueSchema,
  FailSchema,
  TaskClaimSchema,
} from '../../contracts/queue.ts';
import { HeartbeatSchema } from '../../contracts/worker.ts';
import { releaseJob } from '../../actors/services/jobs.ts';
import { claim, complete, fail } from '../../actors/services/queue.ts';
import { heartbeat } from '../../actors/services/workers.ts';
import { defineCommand, mutation, query, type CommandErrorCode } from '../command.ts';
import { claimWithWait } from '../../actors/work/parking.ts';
import { agentClaim, body, none, type HttpRoute } from '../route-input.ts';
import { checkOwner } from '../ownership.ts';
import { completionSecrets, revealLease } from '../lease-secrets.ts';
import { heartbeatSecrets } from '../worker-credentials.ts';
import {
  EXAMPLE_JOB_ID,
  EXAMPLE_LEASE_TOKEN,
  EXAMPLE_WORKER_ID,
  Empty,
  REFUSABLE,
  WorkerRef,
} from './refs.ts';

/** The codes of a call on a worker, a job it holds, or its session. */
export const OWNED: readonly CommandErrorCode[] = [...REFUSABLE, 'NOT_YOUR_WORKER'];
/** The codes of a call that presents a lease token. */
export const LEASED: readonly CommandErrorCode[] = [...OWNED, 'LEASE_LOST'];
/**
 * Who may act on a worker: its own credential, the unbound `queue:work` token that registered it, and supervisors
 * (`supervisor:write`, e.g. an operator draining a worker or failing its stuck job with its lease).
 */
export const WORKER_SCOPES = ['queue:work', 'supervisor:write'] as const;

/** A heartbeat under a name (`queue.heartbeat`, `workers.heartbeat`). */
export const heartbeatCommand = <N extends string>(
  name: N,
  example?: unknown,
  http: readonly HttpRoute[] = [],
) =>
  mutation({
    name,
    summary: 'Keep a worker alive (and extend its lease); answers its directive.',
    input: WorkerRef.extend(HeartbeatSchema.shape),
    output: HeartbeatAnswerSchema,
    scopes: WORKER_SCOPES,
    errors: LEASED,
    example,
    http,
    owner: { worker: 'workerId' },
    apply: (tx, input) => heartbeat(tx, input.workerId, input.leaseToken),
    secrets: heartbeatSecrets,
  });

/** The queue service: release, claim, complete and fail jobs under a lease. */
export const queueCommands = [
  mutation({
    name: 'queue.enqueue',
    summary: 'Release a held job to the queue.',
    input: EnqueueSchema,
    output: JobSchema,
    // Whoever may submit a held job releases it; a worker holds no such job, so an agent never may.
    scopes: ['jobs:write'],
    errors: REFUSABLE,
    example: { jobId: EXAMPLE_JOB_ID },
    http: [{ method: 'POST', path: '/api/v1/queue/enqueue', tag: 'queue', input: body }],
    apply: (tx, input) => releaseJob(tx, input.jobId),
  }),
  defineCommand({
    name: 'queue.claim',
    summary: 'Claim the next job the worker can run; waits up to waitMs for one.',
    input: ClaimSchema,
    output: ClaimAnswerSchema,
    scopes: WORKER_SCOPES,
    mutates: true,
    errors: OWNED,
    example: { workerId: EXAMPLE_WORKER_ID, waitMs: 5000 },
    http: [
      { method: 'POST', path: '/api/v1/queue/claim', tag: 'queue', input: body },
      {
        method: 'POST',
        path: '/api/v1/tasks/claim',
        tag: 'tasks',
        input: agentClaim,
        body: TaskClaimSchema,
        example: { agentId: EXAMPLE_WORKER_ID, capabilities: ['typescript'], waitMs: 5000 },
      },
    ],
    owner: { worker: 'workerId' },
    run: async (ctx, input) =>
      revealLease(
        ctx,
        await claimWithWait(ctx, input, (tx) => {
          checkOwner(tx, ctx.principal, { worker: 'workerId' }, input);
          return claim(tx, input.workerId, input.capabilities);
        }),
      ),
  }),
  mutation({
    name: 'queue.complete',
    summary: "Report the worker's part of a job done (claimNext: and claim the next).",
    input: CompleteSchema,
    output: CompleteAnswerSchema,
    scopes: WORKER_SCOPES,
    example: {
      jobId: EXAMPLE_JOB_ID,
      leaseToken: EXAMPLE_LEASE_TOKEN,
      result: { pullRequest: 42 },
      claimNext: false,
    },
    errors: [...LEASED, 'WORKFLOW_INCOMPLETE'],
    http: [{ method: 'POST', path: '/api/v1/queue/complete', tag: 'queue', input: body }],
    owner: { job: 'jobId' },
    apply: (tx, input) => complete(tx, input),
    secrets: completionSecrets,
  }),
  mutation({
    name: 'queue.fail',
    summary: 'Report a job failed (retried with backoff when retryable).',
    input: FailSchema,
    output: CompleteAnswerSchema,
    scopes: WORKER_SCOPES,
    errors: LEASED,
    example: {
      jobId: EXAMPLE_JOB_ID,
      leaseToken: EXAMPLE_LEASE_TOKEN,
      reason: 'The tests failed.',
      retryable: true,
    },
    http: [{ method: 'POST', path: '/api/v1/queue/fail', tag: 'queue', input: body }],
    owner: { job: 'jobId' },
    apply: (tx, input) => fail(tx, input),
  }),
  heartbeatCommand('queue.heartbeat'),
  query({
    name: 'queue.stats',
    summary: 'Queue depth by priority and job counts by status.',
    input: Empty,
    output: QueueStatsSchema,
    scopes: ['queue:work'],
    http: [{ method: 'GET', path: '/api/v1/queue/status', tag: 'queue', input: none }],
    run: async (ctx) => {
      await ctx.host.pipeline.settled();
      return {
        depth: ctx.host.env.work.get(ctx.ws).queue.depthByPriority(),
        jobs: ctx.host.statusCounts(ctx.ws, 'job'),
      };
    },
  }),
] as const;
