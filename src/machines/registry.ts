import type { AnyStateMachine, EventFrom, SnapshotFrom } from 'xstate';
import type { EntityKind } from '../contracts/journal.ts';
import { jobMachine, JOB_MACHINE_VERSION } from './job.ts';
import { workerMachine, WORKER_MACHINE_VERSION } from './worker.ts';
import { sessionMachine, SESSION_MACHINE_VERSION } from './session.ts';
import { workstreamMachine, WORKSTREAM_MACHINE_VERSION } from './workstream.ts';
import { phaseMachine, PHASE_MACHINE_VERSION } from './phase.ts';

/** A machine and the version its persisted snapshots carry. */
export interface MachineEntry {
  machine: AnyStateMachine;
  version: number;
}

/** Each kind's own machine, typed (the registry below holds the same objects, seen as any machine). */
const byKind = {
  job: jobMachine,
  worker: workerMachine,
  session: sessionMachine,
  workstream: workstreamMachine,
  phase: phaseMachine,
} as const satisfies Record<EntityKind, AnyStateMachine>;

/** The statechart of an entity kind. */
export type MachineOf<K extends EntityKind> = (typeof byKind)[K];

/** The typed snapshot of an entity kind: its context, events and state values. */
export type SnapshotOf<K extends EntityKind> = SnapshotFrom<MachineOf<K>>;

/** The events an entity kind's machine takes. */
export type EventOf<K extends EntityKind> = EventFrom<MachineOf<K>>;

/** Every entity kind's statechart. */
export const machines: Record<EntityKind, MachineEntry> = {
  job: { machine: byKind.job, version: JOB_MACHINE_VERSION },
  worker: { machine: byKind.worker, version: WORKER_MACHINE_VERSION },
  session: { machine: byKind.session, version: SESSION_MACHINE_VERSION },
  workstream: { machine: byKind.workstream, version: WORKSTREAM_MACHINE_VERSION },
  phase: { machine: byKind.phase, version: PHASE_MACHINE_VERSION },
};

/**
 * The status a journal record names for an actor: its chart state, except a phase actor's, whose chart is generic
 * (ACTIVE) while the status worth recording is the workflow phase it is in (`TDD → IMPL`).
 */
export function statusOf(kind: EntityKind, snapshot: { value: unknown; context: unknown }): string {
  if (kind === 'phase' && snapshot.value === 'ACTIVE') return (snapshot.context as { phase: string }).phase;
  return snapshot.value as string;
}
