import type { CommandOptions, ListOptions } from '../contracts/common.ts';
import type { Job, JobListQuery, JobSubmitInput } from '../contracts/job.ts';
import type { EventListQuery, JournalRecord } from '../contracts/journal.ts';
import type { Session, SessionOpenInput } from '../contracts/session.ts';
import type { Worker, WorkerListQuery, WorkerRegisterInput } from '../contracts/worker.ts';
import type { HeartbeatAnswer } from '../actors/services/workers.ts';
import type { ClaimAnswer } from '../actors/services/queue.ts';
import type { Allocation, Quota, Usage } from '../contracts/resources.ts';
import type { ResourceRequest, Priority } from '../contracts/job.ts';
import type { WorkstreamDefinitionInput } from '../contracts/task-definition.ts';
import type { Workstream, WorkstreamPlan } from '../contracts/workstream.ts';
import type { Dispatch } from './dispatch.ts';
import { parseWorkspaceId } from './validation.ts';

/** A page of a list. */
export type Page<K extends string, T> = { [P in K]: T[] } & { nextCursor: string | null };

/** A client scoped to one workspace; every call goes through the command table. */
export interface WorkspaceClient {
  readonly id: string;
  jobs: {
    submit(input: JobSubmitInput, options?: CommandOptions): Promise<Job>;
    submitMany(inputs: JobSubmitInput[], options?: CommandOptions): Promise<Job[]>;
    get(jobId: string): Promise<Job>;
    list(query?: JobListQuery): Promise<Page<'jobs', Job>>;
    cancel(jobId: string, options?: CommandOptions & { reason?: string }): Promise<Job>;
    update(
      jobId: string,
      patch: { title?: string; description?: string; priority?: Priority },
      options?: CommandOptions,
    ): Promise<Job>;
  };
  queue: {
    enqueue(input: { jobId: string }, options?: CommandOptions): Promise<Job>;
    claim(input: { workerId: string; waitMs?: number }, options?: CommandOptions): Promise<ClaimAnswer>;
    complete(
      input: { jobId: string; leaseToken: string; result?: unknown; claimNext?: boolean },
      options?: CommandOptions,
    ): Promise<{ job: Job; next?: ClaimAnswer }>;
    fail(
      input: { jobId: string; leaseToken: string; reason: string; retryable?: boolean },
      options?: CommandOptions,
    ): Promise<Job>;
    heartbeat(
      input: { workerId: string; leaseToken?: string },
      options?: CommandOptions,
    ): Promise<HeartbeatAnswer>;
    stats(): Promise<{ depth: Record<Priority, number>; jobs: Record<string, number> }>;
  };
  resources: {
    quotas(): Promise<{ depth: Quota[]; workspace: Quota; pools: Record<string, number> }>;
    usage(): Promise<{
      byDepth: Usage[];
      workspace: Usage;
      pools: Record<string, { size: number; used: number }>;
      locks: Record<string, string>;
    }>;
    allocate(
      input: { jobId: string; resources: ResourceRequest[]; waitMs?: number },
      options?: CommandOptions,
    ): Promise<{ allocation: Allocation }>;
    release(
      input: { jobId: string; resources: ResourceRequest[] },
      options?: CommandOptions,
    ): Promise<{ allocation: Allocation | null }>;
  };
  workers: {
    register(input: WorkerRegisterInput, options?: CommandOptions): Promise<Worker>;
    get(workerId: string): Promise<Worker>;
    list(query?: WorkerListQuery): Promise<Page<'workers', Worker>>;
    heartbeat(
      workerId: string,
      input?: { leaseToken?: string },
      options?: CommandOptions,
    ): Promise<HeartbeatAnswer>;
    pause(workerId: string, options?: CommandOptions): Promise<Worker>;
    resume(workerId: string, options?: CommandOptions): Promise<Worker>;
    terminate(workerId: string, options?: CommandOptions & { reason?: string }): Promise<Worker>;
    reportCrash(workerId: string, input: { reason: string }, options?: CommandOptions): Promise<Worker>;
    restart(workerId: string, options?: CommandOptions): Promise<Worker>;
    deregister(workerId: string, options?: CommandOptions): Promise<Worker>;
  };
  sessions: {
    open(input: SessionOpenInput, options?: CommandOptions): Promise<Session>;
    get(sessionId: string): Promise<Session>;
    touch(sessionId: string, options?: CommandOptions): Promise<Session>;
    idle(sessionId: string, options?: CommandOptions): Promise<Session>;
    close(sessionId: string, options?: CommandOptions & { reason?: string }): Promise<Session>;
  };
  workstreams: {
    submit(
      definition: WorkstreamDefinitionInput,
      options?: CommandOptions & { start?: boolean },
    ): Promise<Workstream>;
    get(workstreamId: string): Promise<Workstream>;
    plan(workstreamId: string): Promise<WorkstreamPlan>;
    start(workstreamId: string, options?: CommandOptions): Promise<Workstream>;
    cancel(workstreamId: string, options?: CommandOptions & { reason?: string }): Promise<Workstream>;
  };
  events: {
    list(query?: EventListQuery): Promise<{ events: JournalRecord[]; nextCursor: number | null }>;
  };
}

/** Builds the library client of one workspace over a dispatch function. */
export function createWorkspaceClient(
  dispatch: Dispatch,
  workspaceId: string,
  principal: string,
): WorkspaceClient {
  const id = parseWorkspaceId(workspaceId);
  const call = <T>(name: string, input: unknown, options?: CommandOptions): Promise<T> =>
    dispatch(name, id, input, { principal, idempotencyKey: options?.idempotencyKey }) as Promise<T>;
  const reasonOf = (options?: { reason?: string }) => (options?.reason ? { reason: options.reason } : {});
  return {
    id,
    jobs: {
      submit: (input, options) => call('jobs.submit', input, options),
      submitMany: async (inputs, options) =>
        (await call<{ jobs: Job[] }>('jobs.submitMany', { jobs: inputs }, options)).jobs,
      get: (jobId) => call('jobs.get', { jobId }),
      list: (query) => call('jobs.list', query ?? {}),
      cancel: (jobId, options) => call('jobs.cancel', { jobId, ...reasonOf(options) }, options),
      update: (jobId, patch, options) => call('jobs.update', { jobId, ...patch }, options),
    },
    queue: {
      enqueue: (input, options) => call('queue.enqueue', input, options),
      claim: (input, options) => call('queue.claim', input, options),
      complete: (input, options) => call('queue.complete', input, options),
      fail: (input, options) => call('queue.fail', input, options),
      heartbeat: (input, options) => call('queue.heartbeat', input, options),
      stats: () => call('queue.stats', {}),
    },
    resources: {
      quotas: () => call('resources.quotas', {}),
      usage: () => call('resources.usage', {}),
      allocate: (input, options) => call('resources.allocate', input, options),
      release: (input, options) => call('resources.release', input, options),
    },
    workers: {
      register: (input, options) => call('workers.register', input, options),
      get: (workerId) => call('workers.get', { workerId }),
      list: (query) => call('workers.list', query ?? {}),
      heartbeat: (workerId, input, options) => call('workers.heartbeat', { workerId, ...input }, options),
      pause: (workerId, options) => call('workers.pause', { workerId }, options),
      resume: (workerId, options) => call('workers.resume', { workerId }, options),
      terminate: (workerId, options) =>
        call('workers.terminate', { workerId, ...reasonOf(options) }, options),
      reportCrash: (workerId, input, options) => call('workers.reportCrash', { workerId, ...input }, options),
      restart: (workerId, options) => call('workers.restart', { workerId }, options),
      deregister: (workerId, options) => call('workers.deregister', { workerId }, options),
    },
    sessions: {
      open: (input, options) => call('sessions.open', input, options),
      get: (sessionId) => call('sessions.get', { sessionId }),
      touch: (sessionId, options) => call('sessions.touch', { sessionId }, options),
      idle: (sessionId, options) => call('sessions.idle', { sessionId }, options),
      close: (sessionId, options) => call('sessions.close', { sessionId, ...reasonOf(options) }, options),
    },
    workstreams: {
      submit: (definition, options) =>
        call(
          'workstreams.submit',
          { definition, ...(options?.start !== undefined ? { start: options.start } : {}) },
          options,
        ),
      get: (workstreamId) => call('workstreams.get', { workstreamId }),
      plan: (workstreamId) => call('workstreams.plan', { workstreamId }),
      start: (workstreamId, options) => call('workstreams.start', { workstreamId }, options),
      cancel: (workstreamId, options) =>
        call('workstreams.cancel', { workstreamId, ...reasonOf(options) }, options),
    },
    events: {
      list: (query) => call('events.list', query ?? {}),
    },
  };
}

export type { ListOptions };
