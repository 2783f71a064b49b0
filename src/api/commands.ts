import { z } from 'zod';
import { OverseerError } from '../core/errors.ts';
import { IdSchema } from '../contracts/common.ts';
import { JobListSchema, JobSubmitSchema } from '../contracts/job.ts';
import { EventListSchema } from '../contracts/journal.ts';
import { SessionOpenSchema } from '../contracts/session.ts';
import {
  CrashReportSchema,
  HeartbeatSchema,
  WorkerListSchema,
  WorkerRegisterSchema,
} from '../contracts/worker.ts';
import { cancelJob, enqueueJob, submitJob } from '../actors/services/jobs.ts';
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
import { closeSession, idleSession, openSession, touchSession } from '../actors/services/sessions.ts';
import { jobView, sessionView, workerView, type Viewable } from '../actors/views.ts';
import type { ActorHost } from '../actors/actor-host.ts';
import type { EntityKind } from '../contracts/journal.ts';
import { mutation, query, type CommandDef } from './command.ts';

const JobRef = z.object({ jobId: IdSchema });
const WorkerRef = z.object({ workerId: IdSchema });
const SessionRef = z.object({ sessionId: IdSchema });
const Reason = z.object({ reason: z.string().min(1).max(10_000).optional() });

async function viewOrNotFound<T>(
  host: ActorHost,
  ws: string,
  kind: EntityKind,
  id: string,
  view: (s: Viewable) => T,
): Promise<T> {
  const snapshot = await host.view(ws, kind, id);
  if (!snapshot) throw new OverseerError('NOT_FOUND', `No ${kind} ${id} in workspace ${ws}.`, { kind, id });
  return view(snapshot);
}

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
    'Submit many jobs in one commit.',
    (tx, input) => ({
      jobs: input.jobs.map((job) => submitJob(tx, job)),
    }),
  ),
  query('jobs.get', ['jobs:read'], JobRef, 'Get a job.', (ctx, input) =>
    viewOrNotFound(ctx.host, ctx.ws, 'job', input.jobId, jobView),
  ),
  query(
    'jobs.list',
    ['jobs:read'],
    JobListSchema,
    'List jobs in creation order, filtered.',
    async (ctx, input) => {
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
    },
  ),
  mutation(
    'jobs.cancel',
    ['jobs:write'],
    JobRef.extend(Reason.shape),
    'Cancel a job (and its descendants).',
    (tx, input) => cancelJob(tx, input.jobId, input.reason),
  ),
  mutation(
    'queue.enqueue',
    ['queue:work', 'jobs:write'],
    JobRef,
    'Release a held job to the queue.',
    (tx, input) => enqueueJob(tx, input.jobId),
  ),

  // ── workers ──
  mutation(
    'workers.register',
    ['queue:work'],
    WorkerRegisterSchema,
    'Register a worker.',
    (tx, input, settings) => registerWorker(tx, input, settings),
  ),
  query('workers.get', ['supervisor:read'], WorkerRef, 'Get a worker.', (ctx, input) =>
    viewOrNotFound(ctx.host, ctx.ws, 'worker', input.workerId, workerView),
  ),
  query(
    'workers.list',
    ['supervisor:read'],
    WorkerListSchema,
    'List workers, filtered by status.',
    async (ctx, input) => {
      const page = await ctx.host.list(ctx.ws, 'worker', {
        cursor: input.cursor,
        limit: input.limit,
        filter: (s) => !input.status || s.value === input.status,
      });
      return { workers: page.items.map(workerView), nextCursor: page.nextCursor };
    },
  ),
  mutation(
    'workers.heartbeat',
    ['queue:work'],
    WorkerRef.extend(HeartbeatSchema.shape),
    'Keep a worker alive; answers its directive.',
    (tx, input, settings) => heartbeat(tx, input.workerId, settings),
  ),
  mutation(
    'workers.pause',
    ['supervisor:write'],
    WorkerRef,
    'Pause a worker at its next safe point.',
    (tx, input, s) => pauseWorker(tx, input.workerId, s),
  ),
  mutation('workers.resume', ['supervisor:write'], WorkerRef, 'Resume a paused worker.', (tx, input, s) =>
    resumeWorker(tx, input.workerId, s),
  ),
  mutation(
    'workers.terminate',
    ['supervisor:write'],
    WorkerRef.extend(Reason.shape),
    'Terminate a worker.',
    (tx, input, s) => terminateWorker(tx, input.workerId, s, input.reason),
  ),
  mutation(
    'workers.reportCrash',
    ['queue:work'],
    WorkerRef.extend(CrashReportSchema.shape),
    'Report that the agent crashed.',
    (tx, input, s) => reportCrash(tx, input.workerId, input.reason, s),
  ),
  mutation('workers.restart', ['queue:work'], WorkerRef, 'Restart a failed worker.', (tx, input, s) =>
    restartWorker(tx, input.workerId, s),
  ),
  mutation(
    'workers.deregister',
    ['queue:work'],
    WorkerRef,
    'Drain a worker: it completes when it holds no job.',
    (tx, input, s) => deregisterWorker(tx, input.workerId, s),
  ),

  // ── sessions ──
  mutation(
    'sessions.open',
    ['queue:work'],
    SessionOpenSchema,
    'Open an agent session bound to a worker.',
    (tx, input, s) => openSession(tx, input, s),
  ),
  query('sessions.get', ['supervisor:read', 'queue:work'], SessionRef, 'Get a session.', (ctx, input) =>
    viewOrNotFound(ctx.host, ctx.ws, 'session', input.sessionId, sessionView),
  ),
  mutation('sessions.touch', ['queue:work'], SessionRef, 'Report session activity (ACTIVE).', (tx, input) =>
    touchSession(tx, input.sessionId),
  ),
  mutation('sessions.idle', ['queue:work'], SessionRef, 'Report the session idle (IDLE).', (tx, input, s) =>
    idleSession(tx, input.sessionId, s),
  ),
  mutation(
    'sessions.close',
    ['queue:work'],
    SessionRef.extend(Reason.shape),
    'Terminate a session.',
    (tx, input) => closeSession(tx, input.sessionId, input.reason),
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
