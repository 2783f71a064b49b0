import { z } from 'zod';
import { OverseerError } from '../core/errors.ts';
import { IdSchema } from '../contracts/common.ts';
import { JobListSchema, JobSubmitSchema } from '../contracts/job.ts';
import { EventListSchema, type EntityKind } from '../contracts/journal.ts';
import {
  ClaimSchema,
  CompleteSchema,
  EnqueueSchema,
  FailSchema,
  JobUpdateSchema,
} from '../contracts/queue.ts';
import { AllocateSchema, ReleaseSchema } from '../contracts/resources.ts';
import { SessionOpenSchema } from '../contracts/session.ts';
import {
  CrashReportSchema,
  HeartbeatSchema,
  WorkerListSchema,
  WorkerRegisterSchema,
} from '../contracts/worker.ts';
import type { ActorHost } from '../actors/actor-host.ts';
import { cancelJob, releaseJob, submitJob, updateJob } from '../actors/services/jobs.ts';
import { claim, complete, fail } from '../actors/services/queue.ts';
import { allocate, release } from '../actors/services/resources.ts';
import { closeSession, idleSession, openSession, touchSession } from '../actors/services/sessions.ts';
import {
  deregisterWorker,
  heartbeat,
  pauseWorker,
  registerWorker,
  reportCrash,
  restartWorker,
  resumeWorker,
  terminateWorker,
} from '../actors/services/workers.ts';
import { jobView, sessionView, workerView, type Viewable } from '../actors/views.ts';
import {
  cancelWorkstream,
  planOf,
  startWorkstream,
  submitWorkstream,
  workstreamView,
} from '../actors/services/workstreams.ts';
import { WorkstreamDefinitionSchema } from '../contracts/task-definition.ts';
import { mutation, query, type CommandDef } from './command.ts';
import { cachedRead } from './read-cache.ts';
import { claimWithWait, allocateWithWait, wakeClaimOf } from '../actors/work/parking.ts';

const JobRef = z.object({ jobId: IdSchema });
const WorkerRef = z.object({ workerId: IdSchema });
const SessionRef = z.object({ sessionId: IdSchema });
const Reason = z.object({ reason: z.string().min(1).max(10_000).optional() });
const Empty = z.object({});

async function viewOrNotFound<K extends EntityKind, T>(
  host: ActorHost,
  ws: string,
  kind: K,
  id: string,
  view: (s: Viewable<K>) => T,
): Promise<T> {
  const snapshot = await host.view(ws, kind, id);
  if (!snapshot) throw new OverseerError('NOT_FOUND', `No ${kind} ${id} in workspace ${ws}.`, { kind, id });
  return view(snapshot);
}

const heartbeatCommand = (name: string) =>
  mutation(
    name,
    ['queue:work'],
    WorkerRef.extend(HeartbeatSchema.shape),
    'Keep a worker alive (and extend its lease); answers its directive.',
    (tx, input) => heartbeat(tx, input.workerId, input.leaseToken),
  );

/** Every command of the runtime. HTTP routes and NATS endpoints are adapters over this table. */
export const commands = [
  // ── jobs ──
  mutation('jobs.submit', ['jobs:write'], JobSubmitSchema, 'Submit a job.', (tx, input) =>
    submitJob(tx, input),
  ),
  mutation(
    'jobs.submitMany',
    ['jobs:write'],
    z.object({ jobs: z.array(JobSubmitSchema).min(1).max(1000) }),
    'Submit many jobs in one commit (a worker submits its children this way).',
    (tx, input) => ({
      jobs: input.jobs.map((job) => submitJob(tx, job)),
    }),
  ),
  query('jobs.get', ['jobs:read'], JobRef, 'Get a job.', (ctx, input) =>
    viewOrNotFound(ctx.host, ctx.ws, 'job', input.jobId, jobView),
  ),
  query('jobs.list', ['jobs:read'], JobListSchema, 'List jobs in creation order, filtered.', (ctx, input) =>
    cachedRead(ctx, input.cursor === undefined, `jobs.list ${JSON.stringify(input)}`, async () => {
      const page = await ctx.host.list(ctx.ws, 'job', {
        cursor: input.cursor,
        limit: input.limit,
        filter: (s) => {
          const job = jobView(s);
          return (
            (!input.status || job.status === input.status) &&
            (!input.priority || job.priority === input.priority) &&
            (!input.parentJobId || job.parentJobId === input.parentJobId)
          );
        },
      });
      return { jobs: page.items.map(jobView), nextCursor: page.nextCursor };
    }),
  ),
  mutation(
    'jobs.update',
    ['jobs:write'],
    JobUpdateSchema,
    'Edit title, description or priority of a job not yet RUNNING.',
    (tx, input) =>
      updateJob(tx, input.jobId, {
        title: input.title,
        description: input.description,
        priority: input.priority,
      }),
  ),
  mutation(
    'jobs.cancel',
    ['jobs:write'],
    JobRef.extend(Reason.shape),
    'Cancel a job and its descendants.',
    (tx, input) => cancelJob(tx, input.jobId, input.reason),
  ),

  // ── queue ──
  mutation('queue.enqueue', ['queue:work'], EnqueueSchema, 'Release a held job to the queue.', (tx, input) =>
    releaseJob(tx, input.jobId),
  ),
  {
    name: 'queue.claim',
    summary: 'Claim the next job the worker can run; waits up to waitMs for one.',
    input: ClaimSchema,
    scopes: ['queue:work'],
    mutates: true,
    run: (ctx, input) => claimWithWait(ctx, input, (tx) => claim(tx, input.workerId)),
  } satisfies CommandDef<typeof ClaimSchema>,
  mutation(
    'queue.complete',
    ['queue:work'],
    CompleteSchema,
    "Report the worker's part of a job done (claimNext: and claim the next).",
    (tx, input) => complete(tx, input),
  ),
  mutation(
    'queue.fail',
    ['queue:work'],
    FailSchema,
    'Report a job failed (retried with backoff when retryable).',
    (tx, input) => fail(tx, input),
  ),
  heartbeatCommand('queue.heartbeat'),
  query(
    'queue.stats',
    ['queue:work'],
    Empty,
    'Queue depth by priority and job counts by status.',
    async (ctx) => {
      await ctx.host.pipeline.settled();
      return {
        depth: ctx.host.env.work.get(ctx.ws).queue.depthByPriority(),
        jobs: ctx.host.statusCounts(ctx.ws, 'job'),
      };
    },
  ),

  // ── resources ──
  query(
    'resources.quotas',
    ['resources:read'],
    Empty,
    'Quotas per depth and per workspace, and pool sizes.',
    (ctx) =>
      Promise.resolve({
        depth: ctx.host.env.settings.resources.depth,
        workspace: ctx.host.env.settings.resources.workspace,
        pools: ctx.host.env.settings.resources.pools,
      }),
  ),
  query(
    'resources.usage',
    ['resources:read'],
    Empty,
    'Usage per depth and per workspace, pools and locks held.',
    async (ctx) => {
      await ctx.host.pipeline.settled();
      return ctx.host.env.work.get(ctx.ws).ledger.usage();
    },
  ),
  {
    name: 'resources.allocate',
    summary: "Add named resources to a RUNNING job's allocation; waits up to waitMs (FIFO) while busy.",
    input: AllocateSchema,
    scopes: ['resources:write'],
    mutates: true,
    run: (ctx, input) => allocateWithWait(ctx, input, (tx, mayWait) => allocate(tx, input, mayWait)),
  } satisfies CommandDef<typeof AllocateSchema>,
  mutation(
    'resources.release',
    ['resources:write'],
    ReleaseSchema,
    "Free part of a job's allocation early.",
    (tx, input) => release(tx, input),
  ),

  // ── workers ──
  mutation('workers.register', ['queue:work'], WorkerRegisterSchema, 'Register a worker.', (tx, input) =>
    registerWorker(tx, input),
  ),
  query('workers.get', ['supervisor:read'], WorkerRef, 'Get a worker.', (ctx, input) =>
    viewOrNotFound(ctx.host, ctx.ws, 'worker', input.workerId, workerView),
  ),
  query(
    'workers.list',
    ['supervisor:read'],
    WorkerListSchema,
    'List workers, filtered by status.',
    (ctx, input) =>
      cachedRead(ctx, input.cursor === undefined, `workers.list ${JSON.stringify(input)}`, async () => {
        const page = await ctx.host.list(ctx.ws, 'worker', {
          cursor: input.cursor,
          limit: input.limit,
          filter: (s) => !input.status || s.value === input.status,
        });
        return { workers: page.items.map(workerView), nextCursor: page.nextCursor };
      }),
  ),
  heartbeatCommand('workers.heartbeat'),
  mutation(
    'workers.pause',
    ['supervisor:write'],
    WorkerRef,
    'Pause a worker at its next safe point.',
    (tx, input) => pauseWorker(tx, input.workerId),
    (ctx, input) => wakeClaimOf(ctx, input.workerId),
  ),
  mutation('workers.resume', ['supervisor:write'], WorkerRef, 'Resume a paused worker.', (tx, input) =>
    resumeWorker(tx, input.workerId),
  ),
  mutation(
    'workers.terminate',
    ['supervisor:write'],
    WorkerRef.extend(Reason.shape),
    'Terminate a worker (its job is re-queued).',
    (tx, input) => terminateWorker(tx, input.workerId, input.reason),
    (ctx, input) => wakeClaimOf(ctx, input.workerId),
  ),
  mutation(
    'workers.reportCrash',
    ['queue:work'],
    WorkerRef.extend(CrashReportSchema.shape),
    'Report that the agent crashed.',
    (tx, input) => reportCrash(tx, input.workerId, input.reason),
  ),
  mutation('workers.restart', ['queue:work'], WorkerRef, 'Restart a failed worker.', (tx, input) =>
    restartWorker(tx, input.workerId),
  ),
  mutation(
    'workers.deregister',
    ['queue:work'],
    WorkerRef,
    'Drain a worker: it completes when it holds no job.',
    (tx, input) => deregisterWorker(tx, input.workerId),
    (ctx, input) => wakeClaimOf(ctx, input.workerId),
  ),

  // ── sessions ──
  mutation(
    'sessions.open',
    ['queue:work'],
    SessionOpenSchema,
    'Open an agent session bound to a worker.',
    (tx, input) => openSession(tx, input),
  ),
  query('sessions.get', ['supervisor:read', 'queue:work'], SessionRef, 'Get a session.', (ctx, input) =>
    viewOrNotFound(ctx.host, ctx.ws, 'session', input.sessionId, sessionView),
  ),
  mutation('sessions.touch', ['queue:work'], SessionRef, 'Report session activity (ACTIVE).', (tx, input) =>
    touchSession(tx, input.sessionId),
  ),
  mutation('sessions.idle', ['queue:work'], SessionRef, 'Report the session idle (IDLE).', (tx, input) =>
    idleSession(tx, input.sessionId),
  ),
  mutation(
    'sessions.close',
    ['queue:work'],
    SessionRef.extend(Reason.shape),
    'Terminate a session.',
    (tx, input) => closeSession(tx, input.sessionId, input.reason),
  ),

  // ── workstreams ──
  mutation(
    'workstreams.submit',
    ['jobs:write'],
    z.object({ definition: WorkstreamDefinitionSchema, start: z.boolean().default(true) }),
    'Create a workstream and all its jobs in one commit, and start it unless start is false.',
    (tx, input) => submitWorkstream(tx, input.definition, input.start),
  ),
  query(
    'workstreams.get',
    ['jobs:read'],
    z.object({ workstreamId: IdSchema }),
    'Get a workstream.',
    (ctx, input) => viewOrNotFound(ctx.host, ctx.ws, 'workstream', input.workstreamId, workstreamView),
  ),
  query(
    'workstreams.plan',
    ['jobs:read'],
    z.object({ workstreamId: IdSchema }),
    'Topological order, stages and critical path.',
    async (ctx, input) =>
      planOf(await viewOrNotFound(ctx.host, ctx.ws, 'workstream', input.workstreamId, workstreamView)),
  ),
  mutation(
    'workstreams.start',
    ['jobs:write'],
    z.object({ workstreamId: IdSchema }),
    'Start a READY workstream.',
    (tx, input) => startWorkstream(tx, input.workstreamId),
  ),
  mutation(
    'workstreams.cancel',
    ['jobs:write'],
    z.object({ workstreamId: IdSchema }).extend(Reason.shape),
    'Cancel a workstream and its jobs.',
    (tx, input) => cancelWorkstream(tx, input.workstreamId, input.reason),
  ),

  // ── supervisor ──
  query(
    'supervisor.metrics',
    ['supervisor:read'],
    Empty,
    'Workers and jobs by status, queue depth, usage by depth, transitions per minute.',
    async (ctx) => {
      await ctx.host.pipeline.settled();
      const work = ctx.host.env.work.get(ctx.ws);
      return {
        workers: ctx.host.statusCounts(ctx.ws, 'worker'),
        jobs: ctx.host.statusCounts(ctx.ws, 'job'),
        queueDepth: work.queue.depthByPriority(),
        resources: work.ledger.usage().byDepth.map((u, depth) => ({ depth, ...u })),
        transitionsPerMinute: ctx.host.transitionsLastMinute(ctx.ws),
      };
    },
  ),

  // ── auth ──
  query(
    'auth.whoami',
    [],
    Empty,
    "The token's subject and the workspace it runs in (any valid token).",
    (ctx) => Promise.resolve({ sub: ctx.principal, workspaceId: ctx.ws }),
  ),

  // ── events ──
  query(
    'events.list',
    ['jobs:read', 'supervisor:read'],
    EventListSchema,
    "This workspace's journal records after a seq.",
    (ctx, input) => ctx.host.journal(ctx.ws, input.afterSeq, input.limit),
  ),
] as const satisfies readonly CommandDef[];

/** Command names. */
export type CommandName = (typeof commands)[number]['name'];

/** The table by name. */
export const commandTable: ReadonlyMap<string, CommandDef> = new Map(
  commands.map((c) => [c.name, c as unknown as CommandDef]),
);
