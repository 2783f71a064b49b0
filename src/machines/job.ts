import { assign, setup } from 'xstate';
import type { JobSubmit } from '../contracts/job.ts';
import type { WorkflowId } from '../contracts/workflow-registry.ts';

/** Bumped whenever the persisted shape of a job changes; restoring another version needs a migration. */
export const JOB_MACHINE_VERSION = 3;

/** What a job keeps of its submit: everything but `hold`, and `workflow` as it was resolved. */
export type JobSpec = Omit<JobSubmit, 'hold' | 'workflow'>;

/**
 * What makes a job one of its parent's review jobs (set only by the node when a `spawn_reviews` trigger fires,
 * never by a submit): the round and slot it reviews, its attempt (2 = the replacement), the author's worker.
 */
export interface ReviewOf {
  round: number;
  slot: number;
  attempt: number;
  /** The worker that held the reviewed job when the round began: it may not claim this job. */
  excludedWorkerId: string | null;
}

/** A job's data, kept in its actor's context (the snapshot is the entity). */
export interface JobContext {
  id: string;
  workspaceId: string;
  spec: JobSpec;
  depth: number;
  retryCount: number;
  workerId: string | null;
  /** The claim's fencing number (orders claims; not a secret). */
  leaseFence: string | null;
  /** SHA-256 of the lease's secret token: the secret itself is never stored. */
  leaseDigest: string | null;
  leaseExpiresAt: number | null;
  lastError: string | null;
  result?: unknown;
  /** The worker reported its own part done; the job completes when its children are final. */
  ownPartDone: boolean;
  /** Parent, grandparent, … (nearest first): locks they hold are re-entrant for this job. */
  ancestors: string[];
  children: string[];
  /** Jobs whose `dependsOn` names this one. */
  dependents: string[];
  /** The task id and workstream of a job created from a workstream definition. */
  taskId: string | null;
  workstreamId: string | null;
  /** The workflow version the job follows, resolved at submit and never changed. */
  workflow: WorkflowId | null;
  /** A review job spawned by its parent's workflow (absent on every other job, and on jobs made before reviews). */
  review?: ReviewOf;
  createdAt: number;
  updatedAt: number;
}

export interface JobInput {
  id: string;
  workspaceId: string;
  spec: JobSpec;
  depth: number;
  ancestors?: string[];
  taskId?: string | null;
  workstreamId?: string | null;
  workflow?: WorkflowId | null;
  review?: ReviewOf;
  at: number;
}

export type JobEvent =
  | { type: 'ENQUEUE'; at: number; unmetDependencies: number }
  | { type: 'DEPENDENCIES_MET'; at: number }
  | { type: 'DEPENDENCY_FAILED'; at: number; reason: string }
  | {
      type: 'CLAIM';
      at: number;
      workerId: string;
      leaseFence: string;
      leaseDigest: string;
      leaseExpiresAt: number;
    }
  | { type: 'EXTEND_LEASE'; at: number; leaseExpiresAt: number }
  | { type: 'REKEY_LEASE'; at: number; leaseDigest: string }
  | { type: 'COMPLETE'; at: number; result?: unknown; openChildren: number }
  | { type: 'CHILDREN_SETTLED'; at: number }
  | { type: 'CHILD_FAILED'; at: number; reason: string }
  | { type: 'FAIL'; at: number; reason: string; retryable: boolean }
  | { type: 'TIMEOUT'; at: number }
  | { type: 'LEASE_EXPIRED'; at: number }
  | { type: 'REQUEUE'; at: number; reason: string }
  | { type: 'RETRY'; at: number }
  | { type: 'UPDATE'; at: number; patch: Partial<Pick<JobSubmit, 'title' | 'description' | 'priority'>> }
  | { type: 'CANCEL'; at: number; reason?: string }
  | { type: 'CHILD_ADDED'; at: number; childId: string }
  | { type: 'DEPENDENT_ADDED'; at: number; dependentId: string };

const retriesLeft = (c: JobContext) => c.retryCount < c.spec.execution.maxRetries;

/** The job lifecycle of DESIGN §1. Flat states named after the upper-case status. */
export const jobMachine = setup({
  types: {} as { context: JobContext; events: JobEvent; input: JobInput },
  guards: {
    hasUnmetDependencies: ({ event }) => event.type === 'ENQUEUE' && event.unmetDependencies > 0,
    hasOpenChildren: ({ event }) => event.type === 'COMPLETE' && event.openChildren > 0,
    ownPartDone: ({ context }) => context.ownPartDone,
    ownPartNotDone: ({ context }) => !context.ownPartDone,
    // A parent whose own part is done is not retried: its children already exist.
    canRetry: ({ context, event }) =>
      (event.type === 'FAIL' ? event.retryable : true) && retriesLeft(context) && !context.ownPartDone,
  },
  actions: {
    touch: assign({ updatedAt: ({ event }) => event.at }),
    recordClaim: assign(({ event }) =>
      event.type === 'CLAIM'
        ? {
            workerId: event.workerId,
            leaseFence: event.leaseFence,
            leaseDigest: event.leaseDigest,
            leaseExpiresAt: event.leaseExpiresAt,
            updatedAt: event.at,
          }
        : {},
    ),
    extendLease: assign(({ event }) =>
      event.type === 'EXTEND_LEASE' ? { leaseExpiresAt: event.leaseExpiresAt, updatedAt: event.at } : {},
    ),
    rekeyLease: assign(({ event }) =>
      event.type === 'REKEY_LEASE' ? { leaseDigest: event.leaseDigest } : {},
    ),
    releaseLease: assign({ workerId: null, leaseFence: null, leaseDigest: null, leaseExpiresAt: null }),
    recordResult: assign(({ event }) =>
      event.type === 'COMPLETE' ? { result: event.result, updatedAt: event.at } : {},
    ),
    markOwnPartDone: assign({ ownPartDone: true }),
    recordReason: assign(({ event }) => {
      switch (event.type) {
        case 'FAIL':
        case 'DEPENDENCY_FAILED':
        case 'CHILD_FAILED':
        case 'REQUEUE':
          return { lastError: event.reason };
        case 'TIMEOUT':
          return { lastError: 'timed out' };
        case 'LEASE_EXPIRED':
          return { lastError: 'lease expired' };
        case 'CANCEL':
          return { lastError: event.reason ?? 'canceled' };
        default:
          return {};
      }
    }),
    countRetry: assign({ retryCount: ({ context }) => context.retryCount + 1 }),
    // Linking is idempotent: a child or dependent is recorded once.
    addChild: assign({
      children: ({ context, event }) =>
        event.type === 'CHILD_ADDED' && !context.children.includes(event.childId)
          ? [...context.children, event.childId]
          : context.children,
    }),
    addDependent: assign({
      dependents: ({ context, event }) =>
        event.type === 'DEPENDENT_ADDED' && !context.dependents.includes(event.dependentId)
          ? [...context.dependents, event.dependentId]
          : context.dependents,
    }),
    applyPatch: assign(({ context, event }) =>
      event.type === 'UPDATE' ? { spec: { ...context.spec, ...event.patch }, updatedAt: event.at } : {},
    ),
  },
}).createMachine({
  id: 'job',
  initial: 'SUBMITTED',
  context: ({ input }) => ({
    id: input.id,
    workspaceId: input.workspaceId,
    spec: input.spec,
    depth: input.depth,
    retryCount: 0,
    workerId: null,
    leaseFence: null,
    leaseDigest: null,
    leaseExpiresAt: null,
    lastError: null,
    ownPartDone: false,
    ancestors: input.ancestors ?? [],
    children: [],
    dependents: [],
    taskId: input.taskId ?? null,
    workstreamId: input.workstreamId ?? null,
    workflow: input.workflow ?? null,
    ...(input.review ? { review: input.review } : {}),
    createdAt: input.at,
    updatedAt: input.at,
  }),
  // CANCEL is declared on every non-final state, not on the root: in xstate 5.33 a final state still
  // takes its ancestors' transitions (`snapshot.can()` is true and `machine.transition()` leaves it).
  states: {
    SUBMITTED: {
      on: {
        ENQUEUE: [
          { guard: 'hasUnmetDependencies', target: 'PENDING', actions: 'touch' },
          { target: 'QUEUED', actions: 'touch' },
        ],
        DEPENDENCY_FAILED: { target: 'BLOCKED', actions: ['recordReason', 'touch'] },
        UPDATE: { actions: 'applyPatch' },
        CANCEL: { target: 'CANCELED', actions: ['releaseLease', 'recordReason', 'touch'] },
        CHILD_ADDED: { actions: 'addChild' },
        // A failed child fails its parent from any non-final state (the parent need not be running).
        CHILD_FAILED: { target: 'FAILED', actions: ['releaseLease', 'recordReason', 'touch'] },
        DEPENDENT_ADDED: { actions: 'addDependent' },
      },
    },
    PENDING: {
      on: {
        DEPENDENCIES_MET: { target: 'QUEUED', actions: 'touch' },
        DEPENDENCY_FAILED: { target: 'BLOCKED', actions: ['recordReason', 'touch'] },
        UPDATE: { actions: 'applyPatch' },
        CANCEL: { target: 'CANCELED', actions: ['releaseLease', 'recordReason', 'touch'] },
        CHILD_ADDED: { actions: 'addChild' },
        // A failed child fails its parent from any non-final state (the parent need not be running).
        CHILD_FAILED: { target: 'FAILED', actions: ['releaseLease', 'recordReason', 'touch'] },
        DEPENDENT_ADDED: { actions: 'addDependent' },
      },
    },
    QUEUED: {
      on: {
        CLAIM: { target: 'RUNNING', actions: 'recordClaim' },
        UPDATE: { actions: 'applyPatch' },
        CANCEL: { target: 'CANCELED', actions: ['releaseLease', 'recordReason', 'touch'] },
        CHILD_ADDED: { actions: 'addChild' },
        // A failed child fails its parent from any non-final state (the parent need not be running).
        CHILD_FAILED: { target: 'FAILED', actions: ['releaseLease', 'recordReason', 'touch'] },
        DEPENDENT_ADDED: { actions: 'addDependent' },
      },
    },
    RUNNING: {
      on: {
        EXTEND_LEASE: { actions: 'extendLease' },
        REKEY_LEASE: { actions: 'rekeyLease' },
        COMPLETE: [
          { guard: 'hasOpenChildren', actions: ['markOwnPartDone', 'releaseLease', 'recordResult'] },
          { target: 'COMPLETED', actions: ['releaseLease', 'recordResult'] },
        ],
        CHILDREN_SETTLED: { guard: 'ownPartDone', target: 'COMPLETED', actions: 'touch' },
        FAIL: [
          {
            guard: 'canRetry',
            target: 'RETRY_WAIT',
            actions: ['releaseLease', 'recordReason', 'countRetry', 'touch'],
          },
          { target: 'FAILED', actions: ['releaseLease', 'recordReason', 'touch'] },
        ],
        TIMEOUT: [
          {
            guard: 'canRetry',
            target: 'RETRY_WAIT',
            actions: ['releaseLease', 'recordReason', 'countRetry', 'touch'],
          },
          { target: 'FAILED', actions: ['releaseLease', 'recordReason', 'touch'] },
        ],
        LEASE_EXPIRED: [
          { guard: 'ownPartDone', actions: 'touch' },
          {
            guard: 'canRetry',
            target: 'QUEUED',
            actions: ['releaseLease', 'recordReason', 'countRetry', 'touch'],
          },
          { target: 'FAILED', actions: ['releaseLease', 'recordReason', 'touch'] },
        ],
        REQUEUE: {
          guard: 'ownPartNotDone',
          target: 'QUEUED',
          actions: ['releaseLease', 'recordReason', 'touch'],
        },
        CANCEL: { target: 'CANCELED', actions: ['releaseLease', 'recordReason', 'touch'] },
        CHILD_ADDED: { actions: 'addChild' },
        // A failed child fails its parent from any non-final state (the parent need not be running).
        CHILD_FAILED: { target: 'FAILED', actions: ['releaseLease', 'recordReason', 'touch'] },
        DEPENDENT_ADDED: { actions: 'addDependent' },
      },
    },
    RETRY_WAIT: {
      on: {
        RETRY: { target: 'QUEUED', actions: 'touch' },
        CANCEL: { target: 'CANCELED', actions: ['releaseLease', 'recordReason', 'touch'] },
        CHILD_ADDED: { actions: 'addChild' },
        // A failed child fails its parent from any non-final state (the parent need not be running).
        CHILD_FAILED: { target: 'FAILED', actions: ['releaseLease', 'recordReason', 'touch'] },
        DEPENDENT_ADDED: { actions: 'addDependent' },
      },
    },
    COMPLETED: { type: 'final' },
    FAILED: { type: 'final' },
    CANCELED: { type: 'final' },
    BLOCKED: { type: 'final' },
  },
});
