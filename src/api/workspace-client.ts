import type { CommandOptions, ListOptions } from '../contracts/common.ts';
import { embeddedAdmin, type Principal } from '../contracts/scopes.ts';
import type { CommandInput, CommandName, CommandOutput } from './commands.ts';
import type { Dispatch } from './dispatch.ts';
import { typedCall } from './typed-call.ts';
import { parseWorkspaceId } from './validation.ts';

/** What a command takes. */
type In<N extends CommandName> = CommandInput<N>;
/** What a command answers. */
type Out<N extends CommandName> = CommandOutput<N>;
/** What a command takes besides the id its method names first. */
type Rest<N extends CommandName, K extends keyof In<N>> = Omit<In<N>, K>;
/** The options of a call that may give a reason. */
type WithReason = CommandOptions & { reason?: string };

/** A page of a list. */
export type Page<K extends string, T> = { [P in K]: T[] } & { nextCursor: string | null };

/** A client scoped to one workspace; every call goes through the command table, typed by its schemas. */
export interface WorkspaceClient {
  readonly id: string;
  jobs: {
    submit(input: In<'jobs.submit'>, options?: CommandOptions): Promise<Out<'jobs.submit'>>;
    submitMany(
      inputs: In<'jobs.submitMany'>['jobs'],
      options?: CommandOptions,
    ): Promise<Out<'jobs.submitMany'>['jobs']>;
    get(jobId: string): Promise<Out<'jobs.get'>>;
    list(query?: In<'jobs.list'>): Promise<Out<'jobs.list'>>;
    cancel(jobId: string, options?: WithReason): Promise<Out<'jobs.cancel'>>;
    update(
      jobId: string,
      patch: Rest<'jobs.update', 'jobId'>,
      options?: CommandOptions,
    ): Promise<Out<'jobs.update'>>;
  };
  queue: {
    enqueue(input: In<'queue.enqueue'>, options?: CommandOptions): Promise<Out<'queue.enqueue'>>;
    claim(input: In<'queue.claim'>, options?: CommandOptions): Promise<Out<'queue.claim'>>;
    complete(input: In<'queue.complete'>, options?: CommandOptions): Promise<Out<'queue.complete'>>;
    fail(input: In<'queue.fail'>, options?: CommandOptions): Promise<Out<'queue.fail'>>;
    heartbeat(input: In<'queue.heartbeat'>, options?: CommandOptions): Promise<Out<'queue.heartbeat'>>;
    stats(): Promise<Out<'queue.stats'>>;
  };
  resources: {
    quotas(): Promise<Out<'resources.quotas'>>;
    usage(): Promise<Out<'resources.usage'>>;
    allocate(input: In<'resources.allocate'>, options?: CommandOptions): Promise<Out<'resources.allocate'>>;
    release(input: In<'resources.release'>, options?: CommandOptions): Promise<Out<'resources.release'>>;
  };
  workers: {
    register(input: In<'workers.register'>, options?: CommandOptions): Promise<Out<'workers.register'>>;
    /** Mints another credential bound to the worker (a runner handing it to the worker's agent). */
    credential(workerId: string, options?: CommandOptions): Promise<Out<'workers.credential'>>;
    get(workerId: string): Promise<Out<'workers.get'>>;
    list(query?: In<'workers.list'>): Promise<Out<'workers.list'>>;
    heartbeat(
      workerId: string,
      input?: Rest<'workers.heartbeat', 'workerId'>,
      options?: CommandOptions,
    ): Promise<Out<'workers.heartbeat'>>;
    pause(workerId: string, options?: CommandOptions): Promise<Out<'workers.pause'>>;
    resume(workerId: string, options?: CommandOptions): Promise<Out<'workers.resume'>>;
    terminate(workerId: string, options?: WithReason): Promise<Out<'workers.terminate'>>;
    reportCrash(
      workerId: string,
      input: Rest<'workers.reportCrash', 'workerId'>,
      options?: CommandOptions,
    ): Promise<Out<'workers.reportCrash'>>;
    restart(workerId: string, options?: CommandOptions): Promise<Out<'workers.restart'>>;
    deregister(workerId: string, options?: CommandOptions): Promise<Out<'workers.deregister'>>;
  };
  sessions: {
    open(input: In<'sessions.open'>, options?: CommandOptions): Promise<Out<'sessions.open'>>;
    get(sessionId: string): Promise<Out<'sessions.get'>>;
    touch(sessionId: string, options?: CommandOptions): Promise<Out<'sessions.touch'>>;
    idle(sessionId: string, options?: CommandOptions): Promise<Out<'sessions.idle'>>;
    close(sessionId: string, options?: WithReason): Promise<Out<'sessions.close'>>;
  };
  workstreams: {
    submit(
      definition: In<'workstreams.submit'>['definition'],
      options?: CommandOptions & { start?: boolean },
    ): Promise<Out<'workstreams.submit'>>;
    list(query?: In<'workstreams.list'>): Promise<Out<'workstreams.list'>>;
    get(workstreamId: string): Promise<Out<'workstreams.get'>>;
    plan(workstreamId: string): Promise<Out<'workstreams.plan'>>;
    start(workstreamId: string, options?: CommandOptions): Promise<Out<'workstreams.start'>>;
    cancel(workstreamId: string, options?: WithReason): Promise<Out<'workstreams.cancel'>>;
  };
  events: {
    list(query?: In<'events.list'>): Promise<Out<'events.list'>>;
  };
  /** Workflow versions registered in the workspace (scope `workflows:admin`). */
  workflows: {
    /** Registers a version: `{ yaml }` (the file's text) or `{ workflow }` (JSON), with `schemas` it names. */
    put(input: In<'workflows.put'>, options?: CommandOptions): Promise<Out<'workflows.put'>>;
    /** The version named, or the newest. */
    get(name: string, version?: number): Promise<Out<'workflows.get'>>;
    list(): Promise<Out<'workflows.list'>['workflows']>;
  };
  /** A workflow job's phase, as its agent works it (the principal of its phase or check token). */
  workflow: {
    /** Moves the job to another phase: allowed with the new phase token, or refused with blockers. */
    transition(
      input: In<'workflow.transition'>,
      options?: CommandOptions,
    ): Promise<Out<'workflow.transition'>>;
    /** The job, its phase, what the phase allows, and the work around it. */
    snapshot(jobId?: string): Promise<Out<'state.snapshot'>>;
    /** A new phase token (and check token) for the current phase while the lease lives. */
    refreshTokens(jobId?: string): Promise<Out<'tokens.refresh'>>;
    /** The job's workflow rendered for its agent's prompt. */
    contract(jobId: string): Promise<Out<'workflow.contract'>>;
    /** Test evidence from an executor elsewhere (the lease holder's worker credential only). */
    evidence(input: In<'workflow.evidence'>, options?: CommandOptions): Promise<Out<'workflow.evidence'>>;
  };
}

/** Builds the library client of one workspace over a dispatch function. */
export function createWorkspaceClient(
  dispatch: Dispatch,
  workspaceId: string,
  principal: Principal = embeddedAdmin(workspaceId),
): WorkspaceClient {
  const id = parseWorkspaceId(workspaceId);
  const call = typedCall(dispatch, id, principal);
  const reasonOf = (options?: { reason?: string }) => (options?.reason ? { reason: options.reason } : {});
  return {
    id,
    jobs: {
      submit: (input, options) => call('jobs.submit', input, options),
      submitMany: async (inputs, options) => (await call('jobs.submitMany', { jobs: inputs }, options)).jobs,
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
      credential: (workerId, options) => call('workers.credential', { workerId }, options),
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
      list: (query) => call('workstreams.list', query ?? {}),
      get: (workstreamId) => call('workstreams.get', { workstreamId }),
      plan: (workstreamId) => call('workstreams.plan', { workstreamId }),
      start: (workstreamId, options) => call('workstreams.start', { workstreamId }, options),
      cancel: (workstreamId, options) =>
        call('workstreams.cancel', { workstreamId, ...reasonOf(options) }, options),
    },
    events: {
      list: (query) => call('events.list', query ?? {}),
    },
    workflows: {
      put: (input, options) => call('workflows.put', input, options),
      get: (name, version) => call('workflows.get', { name, ...(version !== undefined ? { version } : {}) }),
      list: async () => (await call('workflows.list', {})).workflows,
    },
    workflow: {
      transition: (input, options) => call('workflow.transition', input, options),
      snapshot: (jobId) => call('state.snapshot', jobId === undefined ? {} : { jobId }),
      refreshTokens: (jobId) => call('tokens.refresh', jobId === undefined ? {} : { jobId }),
      contract: (jobId) => call('workflow.contract', { jobId }),
      evidence: (input, options) => call('workflow.evidence', input, options),
    },
  };
}

export type { ListOptions };
