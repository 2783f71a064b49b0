import {
  WorkerCredentialSchema,
  WorkerPageSchema,
  WorkerRegistrationSchema,
} from '../../contracts/answers.ts';
import {
  CrashReportSchema,
  WorkerListSchema,
  WorkerRegisterSchema,
  WorkerSchema,
} from '../../contracts/worker.ts';
import {
  deregisterWorker,
  liveWorker,
  pauseWorker,
  registerWorker,
  reportCrash,
  restartWorker,
  resumeWorker,
  terminateWorker,
} from '../../actors/services/workers.ts';
import { workerView } from '../../actors/views.ts';
import { mutation, query } from '../command.ts';
import { wakeClaimOf } from '../../actors/work/parking.ts';
import { cachedRead } from '../read-cache.ts';
import { body, idOnly, query as fromQuery, withId } from '../route-input.ts';
import { heartbeatCommand, OWNED, WORKER_SCOPES } from './queue.ts';
import { registrationSecrets } from '../worker-credentials.ts';
import { Reason, REFUSABLE, viewOrNotFound, WorkerRef } from './refs.ts';

/** The workers service: register agents, inspect them, and the supervisor's directives. */
export const workerCommands = [
  mutation({
    name: 'workers.register',
    summary: 'Register a worker; answers it with a credential bound to it.',
    input: WorkerRegisterSchema,
    output: WorkerRegistrationSchema,
    scopes: ['queue:work', 'workers:register'],
    example: { name: 'agent-1', capabilities: ['typescript'], metadata: { host: 'box-1' } },
    http: [{ method: 'POST', path: '/api/v1/workers', status: 201, tag: 'workers', input: body }],
    owner: 'unbound',
    apply: (tx, input) => registerWorker(tx, input),
    secrets: registrationSecrets,
  }),
  mutation({
    name: 'workers.credential',
    summary: "Mint a new credential bound to a worker (a runner handing it to the worker's agent).",
    input: WorkerRef,
    output: WorkerCredentialSchema,
    scopes: ['workers:register', 'queue:work', 'supervisor:write'],
    errors: OWNED,
    http: [
      {
        method: 'POST',
        path: '/api/v1/workers/:id/credential',
        tag: 'workers',
        input: idOnly('workerId'),
      },
    ],
    owner: { worker: 'workerId' },
    apply: (tx, input) => liveWorker(tx, input.workerId),
    secrets: { reveal: (ctx, workerId) => ctx.credentials.mintWorkerCredential(ctx.ws, workerId) },
  }),
  query({
    name: 'workers.list',
    summary: 'List workers, filtered by status.',
    input: WorkerListSchema,
    output: WorkerPageSchema,
    scopes: ['supervisor:read'],
    http: [
      { method: 'GET', path: '/api/supervisor/workers', tag: 'supervisor', input: fromQuery },
      { method: 'GET', path: '/api/v1/workers', tag: 'workers', input: fromQuery },
    ],
    run: (ctx, input) =>
      cachedRead(ctx, input.cursor === undefined, `workers.list ${JSON.stringify(input)}`, async () => {
        const page = await ctx.host.list(ctx.ws, 'worker', {
          cursor: input.cursor,
          limit: input.limit,
          filter: (s) => !input.status || s.value === input.status,
        });
        return { workers: page.items.map(workerView), nextCursor: page.nextCursor };
      }),
  }),
  query({
    name: 'workers.get',
    summary: 'Get a worker.',
    input: WorkerRef,
    output: WorkerSchema,
    scopes: ['supervisor:read'],
    http: [
      { method: 'GET', path: '/api/supervisor/workers/:id', tag: 'supervisor', input: idOnly('workerId') },
      { method: 'GET', path: '/api/v1/workers/:id', tag: 'workers', input: idOnly('workerId') },
    ],
    run: (ctx, input) => viewOrNotFound(ctx.host, ctx.ws, 'worker', input.workerId, workerView),
  }),
  mutation({
    name: 'workers.pause',
    summary: 'Pause a worker at its next safe point.',
    input: WorkerRef,
    output: WorkerSchema,
    scopes: ['supervisor:write'],
    errors: REFUSABLE,
    http: [
      {
        method: 'POST',
        path: '/api/supervisor/workers/:id/pause',
        tag: 'supervisor',
        input: idOnly('workerId'),
      },
    ],
    apply: (tx, input) => pauseWorker(tx, input.workerId),
    afterCommit: (ctx, input) => wakeClaimOf(ctx, input.workerId),
  }),
  mutation({
    name: 'workers.resume',
    summary: 'Resume a paused worker.',
    input: WorkerRef,
    output: WorkerSchema,
    scopes: ['supervisor:write'],
    errors: REFUSABLE,
    http: [
      {
        method: 'POST',
        path: '/api/supervisor/workers/:id/resume',
        tag: 'supervisor',
        input: idOnly('workerId'),
      },
    ],
    apply: (tx, input) => resumeWorker(tx, input.workerId),
  }),
  mutation({
    name: 'workers.terminate',
    summary: 'Terminate a worker (its job is re-queued).',
    input: WorkerRef.extend(Reason.shape),
    output: WorkerSchema,
    scopes: ['supervisor:write'],
    errors: REFUSABLE,
    example: { reason: 'Stuck for an hour.' },
    http: [
      {
        method: 'POST',
        path: '/api/supervisor/workers/:id/terminate',
        tag: 'supervisor',
        input: withId('workerId'),
      },
    ],
    apply: (tx, input) => terminateWorker(tx, input.workerId, input.reason),
    afterCommit: (ctx, input) => wakeClaimOf(ctx, input.workerId),
  }),
  heartbeatCommand('workers.heartbeat', { leaseToken: '1' }, [
    { method: 'POST', path: '/api/v1/workers/:id/heartbeat', tag: 'workers', input: withId('workerId') },
  ]),
  mutation({
    name: 'workers.reportCrash',
    summary: 'Report that the agent crashed.',
    input: WorkerRef.extend(CrashReportSchema.shape),
    output: WorkerSchema,
    scopes: WORKER_SCOPES,
    owner: { worker: 'workerId' },
    errors: OWNED,
    example: { reason: 'The agent exited with code 137.' },
    http: [{ method: 'POST', path: '/api/v1/workers/:id/crash', tag: 'workers', input: withId('workerId') }],
    apply: (tx, input) => reportCrash(tx, input.workerId, input.reason),
  }),
  mutation({
    name: 'workers.restart',
    summary: 'Restart a failed worker.',
    input: WorkerRef,
    output: WorkerSchema,
    scopes: WORKER_SCOPES,
    owner: { worker: 'workerId' },
    errors: OWNED,
    http: [
      { method: 'POST', path: '/api/v1/workers/:id/restart', tag: 'workers', input: idOnly('workerId') },
    ],
    apply: (tx, input) => restartWorker(tx, input.workerId),
  }),
  mutation({
    name: 'workers.deregister',
    summary: 'Drain a worker: it completes when it holds no job.',
    input: WorkerRef,
    output: WorkerSchema,
    scopes: WORKER_SCOPES,
    owner: { worker: 'workerId' },
    errors: OWNED,
    http: [{ method: 'DELETE', path: '/api/v1/workers/:id', tag: 'workers', input: idOnly('workerId') }],
    apply: (tx, input) => deregisterWorker(tx, input.workerId),
    afterCommit: (ctx, input) => wakeClaimOf(ctx, input.workerId),
  }),
] as const;
