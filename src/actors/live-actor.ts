import type { Actor, AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import type { EntityKind } from '../contracts/journal.ts';

/** An actor held in memory by the host: its current snapshot (see MachineRunner). */
export interface LiveActor {
  readonly key: string;
  readonly ws: string;
  readonly kind: EntityKind;
  readonly id: string;
  /** The current state; immutable, replaced by each transition. */
  snapshot: AnyMachineSnapshot;
  /** The XState actor behind the snapshot, only when the host runs with `inspect`; null otherwise. */
  actor: Actor<AnyStateMachine> | null;
  /** Clock time of the last use, for passivation. */
  lastUsed: number;
  /** Id of the newest batch holding a change of this actor; 0 when it has none. */
  batchId: number;
}

/** The map key of an actor. */
export const actorKey = (ws: string, kind: string, id: string): string => `${ws}\u0000${kind}\u0000${id}`;
