/**
 * Overseer: the control plane for fleets of AI coding agents, as an embeddable durable actor runtime.
 *
 * @example
 * ```ts
 * const ov = await createOverseer({ dataDir: '.overseer' });
 * const ws = ov.workspace('acme');
 * const job = await ws.jobs.submit({ title: 'Add login', priority: 'high' }, { idempotencyKey: 'k1' });
 * await ov.close();
 * ```
 */
import type { JournalRecord } from './contracts/journal.ts';
import { createWorkspaceClient, type WorkspaceClient } from './api/workspace-client.ts';
import { embeddedAdmin, type Principal } from './contracts/scopes.ts';
import { createRuntime, type OverseerOptions, type Runtime } from './runtime.ts';
import { subjects } from './transport/subjects.ts';

/** A running Overseer. */
export interface Overseer {
  /**
   * A client scoped to one workspace (ids match `^[a-z0-9][a-z0-9_-]{0,62}$`), acting as `principal`: by default
   * an admin of that workspace; give one (e.g. `await ov.authenticate(credential)`) to run under the same scope
   * and ownership rules as HTTP and NATS callers.
   */
  workspace(id: string, options?: { principal?: Principal }): WorkspaceClient;
  /** The principal of a token or worker credential this runtime signed (UNAUTHENTICATED, TOKEN_EXPIRED otherwise). */
  authenticate(token: string): Promise<Principal>;
  events: {
    /** Calls `listener` with every journal record after it is durable; returns the unsubscribe function. */
    subscribe(listener: (record: JournalRecord) => void): () => void;
  };
  /** The composed runtime, for adapters (HTTP, NATS) and tools. */
  readonly runtime: Runtime;
  /** Commits what is pending, stops every actor and releases the data dir. */
  close(): Promise<void>;
}

/**
 * Starts Overseer embedded: LMDB in `dataDir` (default `.overseer`), the in-process bus, the system clock,
 * pino, durability `'flush'`.
 *
 * @example
 * ```ts
 * const ov = await createOverseer({ dataDir: '.overseer', durability: 'commit' });
 * ```
 */
export async function createOverseer(options: OverseerOptions = {}): Promise<Overseer> {
  const runtime = await createRuntime(options);
  return {
    runtime,
    workspace: (id, opts) =>
      createWorkspaceClient(runtime.dispatch, id, opts?.principal ?? embeddedAdmin(id)),
    authenticate: (token) => runtime.authenticator.authenticate(token),
    events: {
      subscribe(listener) {
        const sub = runtime.bus.subscribe(subjects.allEvents, (payload) =>
          listener(payload as JournalRecord),
        );
        return () => sub.unsubscribe();
      },
    },
    close: () => runtime.close(),
  };
}

export type { OverseerOptions, Runtime, RuntimeSample, WorkspaceSample } from './runtime.ts';
export type { WorkspaceClient, Page } from './api/workspace-client.ts';
export { OverseerError, ErrorCodes, isOverseerError } from './core/errors.ts';
export type { ErrorCode, ErrorEnvelope } from './core/errors.ts';
export type { Clock } from './core/clock.ts';
export { systemClock } from './core/clock.ts';
export type { IdGenerator } from './core/ids.ts';
export type { Job, JobSubmitInput, JobStatus, Priority, JobType, JobListQuery } from './contracts/job.ts';
export type {
  Worker,
  WorkerRegisterInput,
  WorkerStatus,
  Directive,
  WorkerListQuery,
} from './contracts/worker.ts';
export type { Session, SessionOpenInput, SessionStatus } from './contracts/session.ts';
export type { JournalRecord, EventListQuery, EntityKind } from './contracts/journal.ts';
export type { CommandOptions } from './contracts/common.ts';
export type { Principal, Scope, Role } from './contracts/scopes.ts';
export { ROLES } from './contracts/scopes.ts';
export type { ClaimAnswer, CompleteAnswer, HeartbeatAnswer } from './contracts/answers.ts';
export type { Allocation, Quota, Usage, ResourceConfig } from './contracts/resources.ts';
export type { Workstream, WorkstreamPlan, WorkstreamStatus } from './contracts/workstream.ts';
export type { WorkstreamDefinitionInput, TaskDefinitionInput } from './contracts/task-definition.ts';
export type { ResourceRequest } from './contracts/job.ts';
export type { Workflow, WorkflowInput } from './contracts/workflow.ts';
export type {
  RegisteredWorkflow,
  WorkflowId,
  WorkflowPutInput,
  WorkflowListAnswer,
} from './contracts/workflow-registry.ts';
export type { Migration, Migrations } from './actors/migrations.ts';
export { NatsBus } from './transport/nats-bus.ts';
export type { NatsBusOptions } from './transport/nats-bus.ts';
export type { Bus } from './transport/bus.ts';
