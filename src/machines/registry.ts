import type { AnyStateMachine } from 'xstate';
import type { EntityKind } from '../contracts/journal.ts';
import { jobMachine, JOB_MACHINE_VERSION } from './job.ts';
import { workerMachine, WORKER_MACHINE_VERSION } from './worker.ts';
import { sessionMachine, SESSION_MACHINE_VERSION } from './session.ts';
import { workstreamMachine, WORKSTREAM_MACHINE_VERSION } from './workstream.ts';

/** A machine and the version its persisted snapshots carry. */
export interface MachineEntry {
  machine: AnyStateMachine;
  version: number;
}

/** Every entity kind's statechart. */
export const machines: Record<EntityKind, MachineEntry> = {
  job: { machine: jobMachine, version: JOB_MACHINE_VERSION },
  worker: { machine: workerMachine, version: WORKER_MACHINE_VERSION },
  session: { machine: sessionMachine, version: SESSION_MACHINE_VERSION },
  workstream: { machine: workstreamMachine, version: WORKSTREAM_MACHINE_VERSION },
};
