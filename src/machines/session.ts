import { assign, setup } from 'xstate';

/** Bumped whenever the persisted shape of a session changes. */
export const SESSION_MACHINE_VERSION = 1;

export interface SessionContext {
  id: string;
  workspaceId: string;
  workerId: string;
  jobId: string | null;
  externalId: string | null;
  metadata?: Record<string, unknown>;
  lastActivityAt: number;
  endedReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface SessionInput {
  id: string;
  workspaceId: string;
  workerId: string;
  jobId?: string | undefined;
  externalId?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  at: number;
}

export type SessionEvent =
  | { type: 'ACTIVITY'; at: number }
  | { type: 'IDLE'; at: number }
  | { type: 'IDLE_TIMEOUT'; at: number }
  | { type: 'MAX_AGE_REACHED'; at: number }
  | { type: 'TERMINATE'; at: number; reason?: string };

/** ACTIVE ⇄ IDLE → TERMINATED; the idle and age limits arrive as durable timer events. */
export const sessionMachine = setup({
  types: {} as { context: SessionContext; events: SessionEvent; input: SessionInput },
  actions: {
    touch: assign({ updatedAt: ({ event }) => event.at }),
    recordActivity: assign({ lastActivityAt: ({ event }) => event.at }),
    recordEnd: assign({
      endedReason: ({ event }) =>
        event.type === 'IDLE_TIMEOUT'
          ? 'idle_timeout'
          : event.type === 'MAX_AGE_REACHED'
            ? 'max_age'
            : event.type === 'TERMINATE'
              ? (event.reason ?? 'closed')
              : null,
    }),
  },
}).createMachine({
  id: 'session',
  initial: 'ACTIVE',
  context: ({ input }) => ({
    id: input.id,
    workspaceId: input.workspaceId,
    workerId: input.workerId,
    jobId: input.jobId ?? null,
    externalId: input.externalId ?? null,
    ...(input.metadata ? { metadata: input.metadata } : {}),
    lastActivityAt: input.at,
    endedReason: null,
    createdAt: input.at,
    updatedAt: input.at,
  }),
  // TERMINATE and MAX_AGE_REACHED are declared on every non-final state, not on the root: in xstate 5.33
  // a final state still takes its ancestors' transitions (`snapshot.can()` is true and
  // `machine.transition()` leaves it).
  states: {
    ACTIVE: {
      on: {
        ACTIVITY: { actions: ['recordActivity', 'touch'] },
        IDLE: { target: 'IDLE', actions: 'touch' },
        TERMINATE: { target: 'TERMINATED', actions: ['recordEnd', 'touch'] },
        MAX_AGE_REACHED: { target: 'TERMINATED', actions: ['recordEnd', 'touch'] },
      },
    },
    IDLE: {
      on: {
        ACTIVITY: { target: 'ACTIVE', actions: ['recordActivity', 'touch'] },
        IDLE_TIMEOUT: { target: 'TERMINATED', actions: ['recordEnd', 'touch'] },
        TERMINATE: { target: 'TERMINATED', actions: ['recordEnd', 'touch'] },
        MAX_AGE_REACHED: { target: 'TERMINATED', actions: ['recordEnd', 'touch'] },
      },
    },
    TERMINATED: { type: 'final' },
  },
});
