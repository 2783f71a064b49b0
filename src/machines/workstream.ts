import { assign, setup } from 'xstate';

/** Bumped whenever the persisted shape of a workstream changes. */
export const WORKSTREAM_MACHINE_VERSION = 1;

/** One task of a workstream and the job made for it. */
export interface WorkstreamTask {
  taskId: string;
  jobId: string;
  dependsOn: string[];
  estimateSeconds: number;
}

export interface WorkstreamContext {
  id: string;
  workspaceId: string;
  definitionId: string;
  name: string;
  jobIds: string[];
  tasks: WorkstreamTask[];
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface WorkstreamInput {
  id: string;
  workspaceId: string;
  definitionId: string;
  name: string;
  at: number;
}

export type WorkstreamEvent =
  | { type: 'JOBS_CREATED'; at: number; tasks: WorkstreamTask[] }
  | { type: 'START'; at: number }
  | { type: 'ALL_COMPLETED'; at: number }
  | { type: 'JOB_FAILED'; at: number; reason: string }
  | { type: 'CANCEL'; at: number; reason?: string };

/** PLANNED → READY → EXECUTING → COMPLETED / FAILED / CANCELED. */
export const workstreamMachine = setup({
  types: {} as { context: WorkstreamContext; events: WorkstreamEvent; input: WorkstreamInput },
  actions: {
    touch: assign({ updatedAt: ({ event }) => event.at }),
    recordJobs: assign(({ event }) =>
      event.type === 'JOBS_CREATED' ? { tasks: event.tasks, jobIds: event.tasks.map((t) => t.jobId) } : {},
    ),
    recordReason: assign({
      lastError: ({ event }) =>
        event.type === 'JOB_FAILED'
          ? event.reason
          : event.type === 'CANCEL'
            ? (event.reason ?? 'canceled')
            : null,
    }),
  },
}).createMachine({
  id: 'workstream',
  initial: 'PLANNED',
  context: ({ input }) => ({
    id: input.id,
    workspaceId: input.workspaceId,
    definitionId: input.definitionId,
    name: input.name,
    jobIds: [],
    tasks: [],
    lastError: null,
    createdAt: input.at,
    updatedAt: input.at,
  }),
  // CANCEL is declared on every non-final state, not on the root: in xstate 5.33 a final state still
  // takes its ancestors' transitions (`snapshot.can()` is true and `machine.transition()` leaves it).
  states: {
    PLANNED: {
      on: {
        JOBS_CREATED: { target: 'READY', actions: ['recordJobs', 'touch'] },
        CANCEL: { target: 'CANCELED', actions: ['recordReason', 'touch'] },
      },
    },
    READY: {
      on: {
        START: { target: 'EXECUTING', actions: 'touch' },
        CANCEL: { target: 'CANCELED', actions: ['recordReason', 'touch'] },
      },
    },
    EXECUTING: {
      on: {
        ALL_COMPLETED: { target: 'COMPLETED', actions: 'touch' },
        JOB_FAILED: { target: 'FAILED', actions: ['recordReason', 'touch'] },
        CANCEL: { target: 'CANCELED', actions: ['recordReason', 'touch'] },
      },
    },
    COMPLETED: { type: 'final' },
    FAILED: { type: 'final' },
    CANCELED: { type: 'final' },
  },
});
