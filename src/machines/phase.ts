import { assign, setup } from 'xstate';
import { admitsMove, type PhaseMove, type PhasePosition } from '../domain/workflow/admits-move.ts';

/** Bumped whenever the persisted shape of a phase actor changes. */
export const PHASE_MACHINE_VERSION = 1;

/** An artifact the job handed in: its digest (the body is kept in the `artifacts` store), phase and epoch. */
export interface ArtifactRecord {
  digest: string;
  phase: string;
  epoch: number;
  at: number;
}

/** One gate's outcome of the last move. */
export interface GateSummary {
  gate: string;
  outcome: 'pass' | 'fail' | 'error';
  reason: string;
}

/** A job's position in its workflow (the phase ids are the workflow's, not the chart's states). */
export interface PhaseContext extends PhasePosition {
  jobId: string;
  workspaceId: string;
  /** The newest version of each artifact handed in so far, by name. */
  artifacts: Record<string, ArtifactRecord>;
  /** The gates of the last move (and whether permissive mode let blockers through). */
  lastGates: GateSummary[];
  warned: boolean;
  canceledReason: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface PhaseInput {
  jobId: string;
  workspaceId: string;
  workflow: { name: string; version: number };
  /** The workflow's first phase. */
  phase: string;
  at: number;
}

export type PhaseEvent =
  | {
      type: 'TRANSITION';
      at: number;
      to: string;
      move: PhaseMove;
      artifacts: Record<string, ArtifactRecord>;
      gates: GateSummary[];
      warned: boolean;
    }
  | { type: 'CANCEL'; at: number; reason?: string };

const admitted = (context: PhaseContext, event: PhaseEvent) =>
  event.type === 'TRANSITION' && admitsMove(context, event.to, event.move);

/**
 * The phase actor of a job under a workflow (DESIGN §1): generic, so the workflow's phases live in the context
 * and its rules in `domain/workflow` (`planTransition` decides, `admitsMove` checks the decision here). ACTIVE
 * until a move into a final phase (COMPLETE) or a cancel (CANCELED). Flat and assign-only.
 */
export const phaseMachine = setup({
  types: {} as { context: PhaseContext; events: PhaseEvent; input: PhaseInput },
  guards: {
    admittedToFinal: ({ context, event }) =>
      admitted(context, event) && event.type === 'TRANSITION' && event.move.final,
    admitted: ({ context, event }) => admitted(context, event),
  },
  actions: {
    touch: assign({ updatedAt: ({ event }) => event.at }),
    move: assign(({ context, event }) =>
      event.type === 'TRANSITION'
        ? {
            phase: event.to,
            epoch: context.epoch + 1,
            round: event.move.round,
            artifacts: { ...context.artifacts, ...event.artifacts },
            lastGates: event.gates,
            warned: event.warned,
          }
        : {},
    ),
    recordCancel: assign({
      canceledReason: ({ event }) => (event.type === 'CANCEL' ? (event.reason ?? 'canceled') : null),
    }),
  },
}).createMachine({
  id: 'phase',
  initial: 'ACTIVE',
  context: ({ input }) => ({
    jobId: input.jobId,
    workspaceId: input.workspaceId,
    workflow: { name: input.workflow.name, version: input.workflow.version },
    phase: input.phase,
    epoch: 0,
    round: 0,
    artifacts: {},
    lastGates: [],
    warned: false,
    canceledReason: null,
    createdAt: input.at,
    updatedAt: input.at,
  }),
  states: {
    ACTIVE: {
      on: {
        TRANSITION: [
          { guard: 'admittedToFinal', target: 'COMPLETE', actions: ['move', 'touch'] },
          { guard: 'admitted', actions: ['move', 'touch'] },
        ],
        CANCEL: { target: 'CANCELED', actions: ['recordCancel', 'touch'] },
      },
    },
    COMPLETE: { type: 'final' },
    CANCELED: { type: 'final' },
  },
});
