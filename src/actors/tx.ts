import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { OverseerError } from '../core/errors.ts';
import type { IdPrefix } from '../core/ids.ts';
import type { EntityKind, JournalRecord, Severity } from '../contracts/journal.ts';
import type { JobEvent } from '../machines/job.ts';
import type { SessionEvent } from '../machines/session.ts';
import type { WorkerEvent } from '../machines/worker.ts';
import type { WorkstreamEvent } from '../machines/workstream.ts';
import type { PhaseEvent } from '../machines/phase.ts';
import { statusOf, type SnapshotOf } from '../machines/registry.ts';
import type { DbName, Key, Write } from '../store/store.ts';
import type { TimerEntry } from './durable-timers.ts';
import type { LiveActor } from './live-actor.ts';
import type { ServiceEnv } from './settings.ts';

/** What a unit of work needs from the host. */
export interface TxHost {
  load(ws: string, kind: EntityKind, id: string): LiveActor | undefined;
  spawn(ws: string, kind: EntityKind, id: string, input: unknown): LiveActor;
  /** Whether the actor accepts the event now (what `snapshot.can(event)` answers). */
  accepts(entry: LiveActor, event: EventObject): boolean;
  /** Sends an event to an actor that accepts it; returns its new snapshot, or throws what an action threw. */
  step(entry: LiveActor, event: EventObject): AnyMachineSnapshot;
  revert(entry: LiveActor, before: AnyMachineSnapshot | null): void;
  mint(prefix: IdPrefix): string;
}

/** An event sent to one actor. */
export interface SendItem {
  kind: EntityKind;
  id: string;
  event: JobEvent | WorkerEvent | SessionEvent | WorkstreamEvent | PhaseEvent;
}

/** A journal record before the commit gives it its seq. */
export type PendingRecord = Omit<JournalRecord, 'seq'>;

/** Sees a unit's journal records as it merges into its batch; answers writes to commit in the same batch. */
export type TransitionObserver = (
  ws: string,
  records: readonly PendingRecord[],
  now: number,
) => readonly Write[];

/** A change of the durable timers, applied when the unit of work merges into its batch. */
export type TimerOp =
  { op: 'set'; entry: TimerEntry } | { op: 'cancel'; kind: EntityKind; id: string; name: string };

/**
 * Events that change no state and are too frequent to journal (a heartbeat every few seconds per agent), or carry
 * nothing a reader of the journal could use (a lease's new secret digest).
 */
const QUIET_EVENTS = new Set(['HEARTBEAT', 'EXTEND_LEASE', 'ACTIVITY', 'REKEY_LEASE']);

/** See {@link Tx.writeLatest}. */
export interface LatestWrite {
  db: DbName;
  key: Key;
  value: () => unknown;
}

/**
 * One command's unit of work (DESIGN §2): finds and creates actors, checks `can()` on all before sending any
 * event, and collects journal records, timer changes and writes. Everything it did to memory is reverted if the
 * command throws; otherwise the host merges it into the open batch and acknowledges after the commit.
 */
export class Tx {
  readonly ws: string;
  readonly now: number;
  readonly principal: string;
  /** What services run with besides the unit of work: settings, the work state, jitter. */
  readonly env: ServiceEnv;
  readonly records: PendingRecord[] = [];
  readonly timerOps: TimerOp[] = [];
  readonly writes: Write[] = [];
  /** Writes of a value that only its latest state matters for: one per key and batch, taken when it closes. */
  readonly latestWrites: LatestWrite[] = [];
  readonly afterDurable: (() => void)[] = [];
  /** Runs right after the unit merged into its batch (wakes parked claimers into the same batch). */
  readonly afterMerge: (() => void)[] = [];
  /** Undoes changes to in-memory indexes (queue, ledger) if the unit throws; run in reverse. */
  private readonly undos: (() => void)[] = [];
  /** Actors this unit changed, with the snapshot each had before (null: created here). */
  readonly touched = new Map<string, { entry: LiveActor; before: AnyMachineSnapshot | null }>();
  private readonly host: TxHost;
  /** The actor looked up last: a command reads the same actor several times in a row. */
  private last: LiveActor | undefined = undefined;

  constructor(host: TxHost, env: ServiceEnv, ws: string, principal: string, now: number) {
    this.host = host;
    this.env = env;
    this.ws = ws;
    this.principal = principal;
    this.now = now;
  }

  /** Whether this unit of work changed anything that must be committed. */
  get changed(): boolean {
    return (
      this.touched.size > 0 ||
      this.timerOps.length > 0 ||
      this.writes.length > 0 ||
      this.latestWrites.length > 0
    );
  }

  mint(prefix: IdPrefix): string {
    return this.host.mint(prefix);
  }

  /** The current snapshot of an actor of this workspace, restoring it if it was passivated. */
  find<K extends EntityKind>(kind: K, id: string): SnapshotOf<K> | undefined {
    // The registry made this actor from the kind's own machine, so its snapshot is that machine's.
    return this.entry(kind, id)?.snapshot as SnapshotOf<K> | undefined;
  }

  /** The host's entry of an actor (the last one looked up is kept: no key string, no map lookup). */
  private entry(kind: EntityKind, id: string): LiveActor | undefined {
    const last = this.last;
    if (last !== undefined && last.id === id && last.kind === kind) return last;
    const entry = this.host.load(this.ws, kind, id);
    if (entry !== undefined) this.last = entry;
    return entry;
  }

  /** Like `find`, but answers `NOT_FOUND`. */
  get<K extends EntityKind>(kind: K, id: string): SnapshotOf<K> {
    const snapshot = this.find(kind, id);
    if (!snapshot)
      throw new OverseerError('NOT_FOUND', `No ${kind} ${id} in workspace ${this.ws}.`, { kind, id });
    return snapshot;
  }

  /** Whether the actor would accept the event now. */
  can(kind: EntityKind, id: string, event: EventObject): boolean {
    this.get(kind, id); // answers NOT_FOUND
    return this.host.accepts(this.entry(kind, id)!, event);
  }

  /** Creates a new top-level actor and journals its first state. */
  create<K extends EntityKind>(
    kind: K,
    id: string,
    input: unknown,
    opts: { event: string; reason?: string },
  ): SnapshotOf<K> {
    const entry = this.host.spawn(this.ws, kind, id, input);
    this.last = entry;
    this.touched.set(entry.key, { entry, before: null });
    const snapshot = entry.snapshot;
    this.journal(kind, id, opts.event, null, statusOf(kind, snapshot), opts.reason ?? null, 'info');
    return snapshot as SnapshotOf<K>;
  }

  /**
   * Sends each event to its actor. Every `can()` is checked before any event is sent: if one actor refuses,
   * nothing changes and the command answers `INVALID_STATE_TRANSITION` with that actor's state.
   */
  send(items: readonly SendItem[], opts: { reason?: string; severity?: Severity } = {}): void {
    const entries = items.map((item) => {
      const entry = this.entry(item.kind, item.id);
      if (!entry)
        throw new OverseerError('NOT_FOUND', `No ${item.kind} ${item.id} in workspace ${this.ws}.`, {
          kind: item.kind,
          id: item.id,
        });
      return entry;
    });
    entries.forEach((entry, i) => {
      const item = items[i]!;
      const snapshot = entry.snapshot;
      if (!this.host.accepts(entry, item.event)) {
        throw new OverseerError(
          'INVALID_STATE_TRANSITION',
          `The ${item.kind} ${item.id} is ${statusOf(item.kind, snapshot)}; it does not accept ${item.event.type}.`,
          { kind: item.kind, id: item.id, state: statusOf(item.kind, snapshot), event: item.event.type },
        );
      }
    });
    entries.forEach((entry, i) => {
      const item = items[i]!;
      const before = entry.snapshot;
      if (!this.touched.has(entry.key)) this.touched.set(entry.key, { entry, before });
      const from = statusOf(item.kind, before);
      const to = statusOf(item.kind, this.host.step(entry, item.event));
      if (from !== to || !QUIET_EVENTS.has(item.event.type)) {
        const reason =
          opts.reason ?? ((item.event as { reason?: unknown }).reason as string | undefined) ?? null;
        this.journal(item.kind, item.id, item.event.type, from, to, reason, opts.severity ?? 'info');
      }
    });
  }

  /** Sets (or moves) the durable timer `name` of an actor. */
  setTimer(
    kind: EntityKind,
    id: string,
    name: string,
    due: number,
    event: TimerEntry['event'],
    rearmMs: number | null = null,
  ): void {
    this.timerOps.push({ op: 'set', entry: { ws: this.ws, kind, id, name, due, event, rearmMs } });
  }

  cancelTimer(kind: EntityKind, id: string, name: string): void {
    this.timerOps.push({ op: 'cancel', kind, id, name });
  }

  /** Adds a raw write to the batch (the idempotency record, ledger rows). */
  write(w: Write): void {
    this.writes.push(w);
  }

  /**
   * Writes `value()` under `key` once per batch, when the batch closes (a counter many units of one batch move,
   * such as the fencing token): the batch commits its latest value, not one write per unit.
   */
  writeLatest(db: DbName, key: Key, value: () => unknown): void {
    this.latestWrites.push({ db, key, value });
  }

  /** Runs after the batch holding this unit is durable. */
  onDurable(fn: () => void): void {
    this.afterDurable.push(fn);
  }

  /** Runs once the unit has merged into its batch. */
  onMerged(fn: () => void): void {
    this.afterMerge.push(fn);
  }

  /** Registers how to undo an in-memory change if the unit throws. */
  onRevert(fn: () => void): void {
    this.undos.push(fn);
  }

  /** Undoes everything this unit did to memory. */
  revert(): void {
    this.last = undefined;
    for (const undo of this.undos.splice(0).reverse()) undo();
    for (const { entry, before } of [...this.touched.values()].reverse()) this.host.revert(entry, before);
    this.touched.clear();
  }

  private journal(
    kind: EntityKind,
    id: string,
    event: string,
    from: string | null,
    to: string,
    reason: string | null,
    severity: Severity,
  ): void {
    this.records.push({
      at: this.now,
      workspaceId: this.ws,
      kind,
      id,
      event,
      from,
      to,
      severity,
      principal: this.principal,
      reason,
    });
  }
}
