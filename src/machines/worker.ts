import { assign, setup } from 'xstate';
import type { WorkerStatus } from '../contracts/worker.ts';

/** Bumped whenever the persisted shape of a worker changes. */
export const WORKER_MACHINE_VERSION = 2;

/** The states a paused or offline worker returns to. */
type Resumable = Extract<WorkerStatus, 'IDLE' | 'RUNNING' | 'WAITING' | 'PAUSED' | 'FAILED' | 'RETRYING'>;

export interface WorkerContext {
  id: string;
  workspaceId: string;
  name: string;
  capabilities: string[];
  metadata?: Record<string, unknown>;
  /** The subject of the token that registered it: an unbound `queue:work` token of that subject may act on it. */
  registeredBy: string | null;
  jobId: string | null;
  /** The fencing number of the lease it holds. */
  leaseFence: string | null;
  /** SHA-256 of that lease's secret token. */
  leaseDigest: string | null;
  /** The digest of the last lease revoked by CANCEL or TERMINATE: a heartbeat carrying it is told to cancel. */
  revokedLeaseDigest: string | null;
  /** The state PAUSE left; RESUME goes back there (IDLE when the job ended meanwhile). */
  pausedFrom: Resumable | null;
  /** The state a heartbeat lapse left; a heartbeat goes back there while the job's lease is live. */
  offlineFrom: Resumable | null;
  /** Deregistered: completes as soon as it holds no job. */
  draining: boolean;
  /** A one-shot directive for the next heartbeat (after RESUME). */
  pendingDirective: 'resume' | null;
  lastHeartbeatAt: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface WorkerInput {
  id: string;
  workspaceId: string;
  name: string;
  capabilities: string[];
  metadata?: Record<string, unknown>;
  registeredBy: string;
  at: number;
}

export type WorkerEvent =
  | { type: 'CLAIMED'; at: number; jobId: string; leaseFence: string; leaseDigest: string }
  | { type: 'REKEY_LEASE'; at: number; leaseDigest: string }
  | { type: 'JOB_ENDED'; at: number; revoked?: boolean }
  | { type: 'ASK'; at: number }
  | { type: 'ANSWERED'; at: number }
  | { type: 'PAUSE'; at: number }
  | { type: 'RESUME'; at: number }
  | { type: 'CRASH'; at: number; reason: string }
  | { type: 'RESTART'; at: number }
  | { type: 'HEARTBEAT'; at: number; leaseLive: boolean }
  | { type: 'HEARTBEAT_TIMEOUT'; at: number }
  | { type: 'DRAIN'; at: number }
  | { type: 'TERMINATE'; at: number; reason?: string };

/** The worker lifecycle of DESIGN §1. */
/**
 * Away from its job loop (PAUSED, FAILED, RETRYING, OFFLINE) a worker can still lose its job or be deregistered:
 * a draining worker completes as soon as it holds no job.
 */
/** A new secret for the lease it holds (an idempotent replay of its claim): every state that may hold a job. */
const rekeys = { REKEY_LEASE: { actions: 'rekeyLease' } } as const;

const drainsOnceJobless = {
  JOB_ENDED: [
    { guard: 'draining', target: 'COMPLETED', actions: ['dropJob', 'touch'] },
    { actions: ['dropJob', 'touch'] },
  ],
  DRAIN: [
    { guard: 'noJob', target: 'COMPLETED', actions: ['markDraining', 'touch'] },
    { actions: ['markDraining', 'touch'] },
  ],
} as const;

export const workerMachine = setup({
  types: {} as { context: WorkerContext; events: WorkerEvent; input: WorkerInput },
  guards: {
    draining: ({ context }) => context.draining,
    drainingWithoutJob: ({ context }) => context.draining && context.jobId === null,
    noJob: ({ context }) => context.jobId === null,
    pausedFromRunning: ({ context }) => context.pausedFrom === 'RUNNING',
    pausedFromWaiting: ({ context }) => context.pausedFrom === 'WAITING',
    leaseLiveWithJob: ({ context, event }) =>
      event.type === 'HEARTBEAT' && event.leaseLive && context.jobId !== null,
    backToRunning: ({ context, event }) =>
      event.type === 'HEARTBEAT' &&
      event.leaseLive &&
      context.jobId !== null &&
      context.offlineFrom === 'RUNNING',
    backToWaiting: ({ context, event }) =>
      event.type === 'HEARTBEAT' &&
      event.leaseLive &&
      context.jobId !== null &&
      context.offlineFrom === 'WAITING',
    backToPaused: ({ context }) => context.offlineFrom === 'PAUSED',
    backToFailed: ({ context, event }) =>
      event.type === 'HEARTBEAT' &&
      event.leaseLive &&
      context.jobId !== null &&
      context.offlineFrom === 'FAILED',
    /** The restarted agent's first heartbeat ends OFFLINE too: RETRYING + a live lease → RUNNING. */
    restartedWithLiveLease: ({ context, event }) =>
      event.type === 'HEARTBEAT' &&
      event.leaseLive &&
      context.jobId !== null &&
      context.offlineFrom === 'RETRYING',
  },
  actions: {
    touch: assign({ updatedAt: ({ event }) => event.at }),
    beat: assign({ lastHeartbeatAt: ({ event }) => event.at, pendingDirective: null }),
    takeJob: assign(({ event }) =>
      event.type === 'CLAIMED'
        ? { jobId: event.jobId, leaseFence: event.leaseFence, leaseDigest: event.leaseDigest }
        : {},
    ),
    rekeyLease: assign(({ event }) =>
      event.type === 'REKEY_LEASE' ? { leaseDigest: event.leaseDigest } : {},
    ),
    dropJob: assign(({ event, context }) => ({
      jobId: null,
      leaseFence: null,
      leaseDigest: null,
      // A lease revoked by CANCEL, a timeout or TERMINATE: a heartbeat carrying it is told to cancel.
      revokedLeaseDigest:
        ((event.type === 'JOB_ENDED' && event.revoked) || event.type === 'TERMINATE') &&
        context.leaseDigest !== null
          ? context.leaseDigest
          : context.revokedLeaseDigest,
    })),
    rememberPausedFrom: assign((_, params: { from: Resumable }) => ({ pausedFrom: params.from })),
    clearPausedFrom: assign({ pausedFrom: null }),
    announceResume: assign({ pendingDirective: 'resume' }),
    rememberOfflineFrom: assign((_, params: { from: Resumable }) => ({ offlineFrom: params.from })),
    clearOfflineFrom: assign({ offlineFrom: null }),
    markDraining: assign({ draining: true }),
    recordError: assign(({ event }) =>
      event.type === 'CRASH'
        ? { lastError: event.reason }
        : event.type === 'TERMINATE'
          ? { lastError: event.reason ?? null }
          : {},
    ),
  },
}).createMachine({
  id: 'worker',
  initial: 'IDLE',
  context: ({ input }) => ({
    id: input.id,
    workspaceId: input.workspaceId,
    name: input.name,
    capabilities: input.capabilities,
    ...(input.metadata ? { metadata: input.metadata } : {}),
    registeredBy: input.registeredBy,
    jobId: null,
    leaseFence: null,
    leaseDigest: null,
    revokedLeaseDigest: null,
    pausedFrom: null,
    offlineFrom: null,
    draining: false,
    pendingDirective: null,
    lastHeartbeatAt: input.at,
    lastError: null,
    createdAt: input.at,
    updatedAt: input.at,
  }),
  // TERMINATE is declared on every non-final state, not on the root: in xstate 5.33 a final state still
  // takes its ancestors' transitions (`snapshot.can()` is true and `machine.transition()` leaves it).
  states: {
    IDLE: {
      on: {
        HEARTBEAT_TIMEOUT: {
          target: 'OFFLINE',
          actions: [{ type: 'rememberOfflineFrom', params: { from: 'IDLE' } }, 'touch'],
        },
        CLAIMED: { target: 'RUNNING', actions: ['takeJob', 'touch'] },
        PAUSE: {
          target: 'PAUSED',
          actions: [{ type: 'rememberPausedFrom', params: { from: 'IDLE' } }, 'touch'],
        },
        HEARTBEAT: { actions: 'beat' },
        DRAIN: { target: 'COMPLETED', actions: ['markDraining', 'touch'] },
        TERMINATE: { target: 'TERMINATED', actions: ['recordError', 'dropJob', 'touch'] },
      },
    },
    RUNNING: {
      on: {
        ...rekeys,
        HEARTBEAT_TIMEOUT: {
          target: 'OFFLINE',
          actions: [{ type: 'rememberOfflineFrom', params: { from: 'RUNNING' } }, 'touch'],
        },
        JOB_ENDED: [
          { guard: 'draining', target: 'COMPLETED', actions: ['dropJob', 'touch'] },
          { target: 'IDLE', actions: ['dropJob', 'touch'] },
        ],
        ASK: { target: 'WAITING', actions: 'touch' },
        PAUSE: {
          target: 'PAUSED',
          actions: [{ type: 'rememberPausedFrom', params: { from: 'RUNNING' } }, 'touch'],
        },
        CRASH: { target: 'FAILED', actions: ['recordError', 'touch'] },
        HEARTBEAT: { actions: 'beat' },
        DRAIN: { actions: ['markDraining', 'touch'] },
        TERMINATE: { target: 'TERMINATED', actions: ['recordError', 'dropJob', 'touch'] },
      },
    },
    WAITING: {
      on: {
        ...rekeys,
        HEARTBEAT_TIMEOUT: {
          target: 'OFFLINE',
          actions: [{ type: 'rememberOfflineFrom', params: { from: 'WAITING' } }, 'touch'],
        },
        ANSWERED: { target: 'RUNNING', actions: 'touch' },
        JOB_ENDED: [
          { guard: 'draining', target: 'COMPLETED', actions: ['dropJob', 'touch'] },
          { target: 'IDLE', actions: ['dropJob', 'touch'] },
        ],
        PAUSE: {
          target: 'PAUSED',
          actions: [{ type: 'rememberPausedFrom', params: { from: 'WAITING' } }, 'touch'],
        },
        HEARTBEAT: { actions: 'beat' },
        DRAIN: { actions: ['markDraining', 'touch'] },
        TERMINATE: { target: 'TERMINATED', actions: ['recordError', 'dropJob', 'touch'] },
      },
    },
    PAUSED: {
      on: {
        HEARTBEAT_TIMEOUT: {
          target: 'OFFLINE',
          actions: [{ type: 'rememberOfflineFrom', params: { from: 'PAUSED' } }, 'touch'],
        },
        RESUME: [
          // A draining worker without a job completes on DRAIN or JOB_ENDED now, but one persisted by an earlier
          // version in that state (paused, draining, its job ended) must still complete, never go back to work.
          { guard: 'drainingWithoutJob', target: 'COMPLETED', actions: ['clearPausedFrom', 'touch'] },
          { guard: 'noJob', target: 'IDLE', actions: ['clearPausedFrom', 'announceResume', 'touch'] },
          {
            guard: 'pausedFromRunning',
            target: 'RUNNING',
            actions: ['clearPausedFrom', 'announceResume', 'touch'],
          },
          {
            guard: 'pausedFromWaiting',
            target: 'WAITING',
            actions: ['clearPausedFrom', 'announceResume', 'touch'],
          },
          { target: 'IDLE', actions: ['clearPausedFrom', 'announceResume', 'touch'] },
        ],
        ...drainsOnceJobless,
        ...rekeys,
        HEARTBEAT: { actions: 'beat' },
        TERMINATE: { target: 'TERMINATED', actions: ['recordError', 'dropJob', 'touch'] },
      },
    },
    FAILED: {
      on: {
        HEARTBEAT_TIMEOUT: {
          target: 'OFFLINE',
          actions: [{ type: 'rememberOfflineFrom', params: { from: 'FAILED' } }, 'touch'],
        },
        RESTART: { target: 'RETRYING', actions: 'touch' },
        ...drainsOnceJobless,
        ...rekeys,
        TERMINATE: { target: 'TERMINATED', actions: ['recordError', 'dropJob', 'touch'] },
      },
    },
    RETRYING: {
      on: {
        HEARTBEAT_TIMEOUT: {
          target: 'OFFLINE',
          actions: [{ type: 'rememberOfflineFrom', params: { from: 'RETRYING' } }, 'touch'],
        },
        HEARTBEAT: [
          { guard: 'leaseLiveWithJob', target: 'RUNNING', actions: ['beat', 'touch'] },
          { guard: 'draining', target: 'COMPLETED', actions: ['beat', 'dropJob', 'touch'] },
          { target: 'IDLE', actions: ['beat', 'dropJob', 'touch'] },
        ],
        ...drainsOnceJobless,
        ...rekeys,
        TERMINATE: { target: 'TERMINATED', actions: ['recordError', 'dropJob', 'touch'] },
      },
    },
    OFFLINE: {
      on: {
        HEARTBEAT: [
          { guard: 'backToPaused', target: 'PAUSED', actions: ['beat', 'clearOfflineFrom', 'touch'] },
          { guard: 'backToRunning', target: 'RUNNING', actions: ['beat', 'clearOfflineFrom', 'touch'] },
          { guard: 'backToWaiting', target: 'WAITING', actions: ['beat', 'clearOfflineFrom', 'touch'] },
          { guard: 'backToFailed', target: 'FAILED', actions: ['beat', 'clearOfflineFrom', 'touch'] },
          {
            guard: 'restartedWithLiveLease',
            target: 'RUNNING',
            actions: ['beat', 'clearOfflineFrom', 'touch'],
          },
          {
            guard: 'draining',
            target: 'COMPLETED',
            actions: ['beat', 'clearOfflineFrom', 'dropJob', 'touch'],
          },
          { target: 'IDLE', actions: ['beat', 'clearOfflineFrom', 'dropJob', 'touch'] },
        ],
        ...drainsOnceJobless,
        ...rekeys,
        TERMINATE: { target: 'TERMINATED', actions: ['recordError', 'dropJob', 'touch'] },
      },
    },
    COMPLETED: { type: 'final' },
    TERMINATED: { type: 'final' },
  },
});
