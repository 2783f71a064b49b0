import {
  createActor,
  createMachine,
  type Actor,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type InspectionEvent,
  type Observer,
} from 'xstate';
import type { Clock } from '../core/clock.ts';
import type { EntityKind } from '../contracts/journal.ts';
import { machines } from '../machines/registry.ts';
import { compileFlatMachine, type FlatMachine } from './flat-machine.ts';
import type { LiveActor } from './live-actor.ts';

/** One observer shared by every inspected actor (one per actor costs ~0.5 KB of heap each). */
const IGNORE_ERRORS = { error: () => undefined };

/** The actor scope a machine's pure transitions take. */
type MachineScope = Parameters<AnyStateMachine['transition']>[2];

/** The inspection observer the host hands to XState. */
export type Inspector = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/**
 * Runs the machines of the host's actors (DESIGN §2). By default an actor in memory is only its immutable
 * `MachineSnapshot`, stepped by `machine.transition` in **one** inert actor scope shared by the host: the machines
 * are pure (assign only, deadlines are durable timers), so an XState `Actor` per entity — its system, mailbox,
 * closures and maps, ~4 KB of heap and ~25 µs to create — buys nothing. With an `inspect` observer every entity
 * gets a real XState actor instead, so the inspector sees the usual `@xstate.actor`, `@xstate.event` and
 * `@xstate.snapshot` events of each one (restored actors included); both modes compute the same snapshots.
 *
 * Without `inspect`, a machine inside the flat, assign-only subset is stepped by its compiled form
 * (`flat-machine.ts`: the same snapshots as XState's `transition`, about ten times cheaper); any other machine, or
 * a snapshot that is not of that form, goes through XState's own functions. Snapshots are persisted by the compiled
 * form in both modes, so user data in a context is never rewritten into an actor reference on its way to disk;
 * with `inspect`, restoring is XState's own, which still revives objects shaped `{ xstate$$type: 1, id }`.
 */
export class MachineRunner {
  private readonly scope: MachineScope;
  private readonly clock: Clock;
  private readonly inspect: Inspector | undefined;
  private readonly flat: Partial<Record<EntityKind, FlatMachine>> = {};

  constructor(clock: Clock, inspect?: Inspector) {
    this.clock = clock;
    this.inspect = inspect;
    this.scope = inertScope(clock);
    for (const kind of Object.keys(machines) as EntityKind[]) {
      const compiled = compileFlatMachine(machines[kind].machine, this.scope);
      if (compiled) this.flat[kind] = compiled;
    }
  }

  /** A new entity in its initial state; throws what its initial actions threw. */
  spawn(key: string, ws: string, kind: EntityKind, id: string, input: unknown, now: number): LiveActor {
    if (this.inspect) return this.inspected(key, ws, kind, id, { input }, now);
    const flat = this.flat[kind];
    if (flat) return entry(key, ws, kind, id, flat.initial(input), null, now);
    const snapshot = machines[kind].machine.getInitialSnapshot(this.scope, input) as AnyMachineSnapshot;
    if (snapshot.status === 'error') throw snapshot.error;
    return entry(key, ws, kind, id, snapshot, null, now);
  }

  /** An entity back from its persisted snapshot. */
  restore(key: string, ws: string, kind: EntityKind, id: string, persisted: unknown, now: number): LiveActor {
    if (this.inspect) return this.inspected(key, ws, kind, id, { snapshot: persisted }, now);
    const restored = this.flat[kind]?.restore(persisted);
    if (restored) return entry(key, ws, kind, id, restored, null, now);
    const snapshot = machines[kind].machine.restoreSnapshot(
      persisted as never,
      this.scope,
    ) as AnyMachineSnapshot;
    return entry(key, ws, kind, id, snapshot, null, now);
  }

  /** Whether the entity accepts the event now (what `snapshot.can(event)` answers). */
  can(live: LiveActor, event: EventObject): boolean {
    const flat = live.actor ? undefined : this.compiled(live.kind, live.snapshot, event);
    return flat ? flat.can(live.snapshot, event) : live.snapshot.can(event);
  }

  /** Sends an event (the caller checked `can`); returns the new snapshot, or throws what an action threw. */
  send(live: LiveActor, event: EventObject): AnyMachineSnapshot {
    let next: AnyMachineSnapshot;
    if (live.actor) {
      live.actor.send(event);
      next = live.actor.getSnapshot();
      if (next.status === 'error') throw next.error;
    } else {
      const flat = this.compiled(live.kind, live.snapshot, event);
      next = flat
        ? flat.transition(live.snapshot, event)
        : (machines[live.kind].machine.transition(live.snapshot, event, this.scope) as AnyMachineSnapshot);
    }
    live.snapshot = next;
    return next;
  }

  /** Puts an entity back to an earlier snapshot (undo of a failed unit of work). */
  reset(live: LiveActor, before: AnyMachineSnapshot): void {
    if (live.actor) {
      live.actor.stop();
      live.actor = this.startActor(live.kind, { snapshot: this.persisted(live.kind, before) });
      live.snapshot = live.actor.getSnapshot();
      return;
    }
    // Snapshots are immutable (assign builds new contexts), so the old one is the old state.
    live.snapshot = before;
  }

  /** The persisted (JSON-safe) form of the entity's current snapshot. */
  persist(live: LiveActor): unknown {
    return this.persisted(live.kind, live.snapshot);
  }

  /** Releases what an entity holds besides its snapshot (an inspected actor is stopped). */
  stop(live: LiveActor): void {
    live.actor?.stop();
  }

  private persisted(kind: EntityKind, snapshot: AnyMachineSnapshot): unknown {
    const flat = this.compiled(kind, snapshot);
    return flat ? flat.persist(snapshot) : machines[kind].machine.getPersistedSnapshot(snapshot);
  }

  /** The compiled machine that steps this snapshot (and event), if there is one. */
  private compiled(
    kind: EntityKind,
    snapshot: AnyMachineSnapshot,
    event?: EventObject,
  ): FlatMachine | undefined {
    const flat = this.flat[kind];
    return flat?.owns(snapshot, event) ? flat : undefined;
  }

  private inspected(
    key: string,
    ws: string,
    kind: EntityKind,
    id: string,
    init: { input: unknown } | { snapshot: unknown },
    now: number,
  ): LiveActor {
    const actor = this.startActor(kind, init);
    const snapshot = actor.getSnapshot();
    if (snapshot.status === 'error') {
      actor.stop();
      throw snapshot.error;
    }
    return entry(key, ws, kind, id, snapshot, actor, now);
  }

  private startActor(
    kind: EntityKind,
    init: { input: unknown } | { snapshot: unknown },
  ): Actor<AnyStateMachine> {
    const actor = createActor(machines[kind].machine, {
      ...init,
      clock: this.clock,
      inspect: this.inspect,
    } as never);
    // Errors thrown by actions become an 'error' snapshot that `send` rethrows.
    actor.subscribe(IGNORE_ERRORS);
    actor.start();
    return actor;
  }
}

/** The host's map entry of an actor, written as one literal so every entry shares one hidden class. */
function entry(
  key: string,
  ws: string,
  kind: EntityKind,
  id: string,
  snapshot: AnyMachineSnapshot,
  actor: Actor<AnyStateMachine> | null,
  now: number,
): LiveActor {
  return { key, ws, kind, id, snapshot, actor, lastUsed: now, batchId: 0 };
}

/**
 * The actor scope every snapshot transition runs in: that of one started, empty actor, whose system has no
 * inspector. Actions other than `assign` (which resolves inside the transition) would reach `actionExecutor`,
 * and `defer` serves only spawned children: the machines have neither, so both refuse loudly rather than keep
 * or drop work silently.
 */
function inertScope(clock: Clock): MachineScope {
  const actor = createActor(createMachine({}), { clock }).start();
  const base = (actor as unknown as { _actorScope: MachineScope })._actorScope;
  return {
    ...base,
    actionExecutor: (action) => {
      throw new Error(`Machine action ${action.type} is not pure: the host runs only assign actions.`);
    },
    defer: () => {
      throw new Error('Machines of the host may not spawn or defer work.');
    },
  };
}
