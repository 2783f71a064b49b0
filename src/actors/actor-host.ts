import type { AnyMachineSnapshot, EventObject } from 'xstate';
import type { Clock } from '../core/clock.ts';
import { OverseerError } from '../core/errors.ts';
import type { IdGenerator, IdPrefix } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { EntityKind } from '../contracts/journal.ts';
import type { Store, Write } from '../store/store.ts';
import type { Bus } from '../transport/bus.ts';
import { ActorReads, type ListOptions, type ListPage, type SnapshotView } from './actor-reads.ts';
import { CommitPipeline } from './commit-pipeline.ts';
import { DurableTimers, type TimerEntry } from './durable-timers.ts';
import { HostBatch } from './host-batch.ts';
import { IdempotencyTable, payloadHash } from './idempotency.ts';
import { JournalOutbox } from './journal-outbox.ts';
import { actorKey, type LiveActor } from './live-actor.ts';
import { MachineRunner, type Inspector } from './machine-runner.ts';
import type { Migrations } from './migrations.ts';
import type { ServiceEnv } from './settings.ts';
import { StatusCounts } from './status-counts.ts';
import { TimerHandlers, type TimerHandler } from './timer-handlers.ts';
import { Tx, type TransitionObserver, type TxHost } from './tx.ts';

export type { SnapshotView } from './actor-reads.ts';

export interface ActorHostOptions {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  bus: Bus;
  /** What services run with (settings, work state, jitter): every unit of work carries it (`tx.env`). */
  env: ServiceEnv;
  /**
   * Handed to every actor, so the Stately Inspector (or a test) sees the live system. With it, each entity in
   * memory is a real XState actor (see MachineRunner); without it, only a snapshot.
   */
  inspect?: Inspector;
  /** Actors unused this long leave memory (they come back from LMDB on demand). */
  passivateAfterMs: number;
  idempotencyTtlMs: number;
  migrations?: Migrations;
}

/** One command's request to the host. */
export interface ExecuteRequest<T = unknown> {
  ws: string;
  command: string;
  principal: string;
  idempotencyKey?: string | undefined;
  /** The form of the answer the idempotency record keeps (default: the answer): secrets are left out. */
  recordAs?: (answer: T) => unknown;
  /** The validated payload; its canonical hash guards the idempotency key. */
  payload?: unknown;
  /** Whether to record this answer under the key (default: yes); a long-poll records only its last pass. */
  recordAnswer?: () => boolean;
}

/**
 * The ActorHost: creates, finds, persists, restores and passivates the top-level actors (one per entity), runs
 * each command as a unit of work, and commits units in group batches with their journal records, outbox
 * entries, timer changes and idempotency records (DESIGN §2–§4).
 */
export class ActorHost implements TxHost {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly bus: Bus;
  readonly env: ServiceEnv;
  readonly timers: DurableTimers;
  readonly pipeline: CommitPipeline<HostBatch>;
  readonly idempotency: IdempotencyTable;
  private readonly ids: IdGenerator;
  private readonly options: ActorHostOptions;
  private readonly live = new Map<string, LiveActor>();
  private readonly runner: MachineRunner;
  private readonly journalOutbox: JournalOutbox;
  private readonly counts: StatusCounts;
  private readonly reads: ActorReads;
  private readonly timerHandlers = new TimerHandlers();
  private readonly resetHandlers: (() => void)[] = [];
  private readonly observers: TransitionObserver[] = [];
  private passivationHandle: unknown = null;
  private closed = false;

  private constructor(options: ActorHostOptions) {
    this.options = options;
    this.store = options.store;
    this.clock = options.clock;
    this.ids = options.ids;
    this.log = options.log.child({ component: 'actor-host' });
    this.bus = options.bus;
    this.env = options.env;
    this.idempotency = new IdempotencyTable(options.store);
    this.pipeline = new CommitPipeline(
      options.store,
      this.log,
      (err) => this.recover(err),
      (id) => new HostBatch(id),
    );
    this.timers = new DurableTimers(options.clock, (entry) => this.fire(entry));
    this.runner = new MachineRunner(options.clock, options.inspect);
    this.journalOutbox = new JournalOutbox(options.store, options.clock, options.bus, this.pipeline);
    this.counts = new StatusCounts(options.store, options.clock);
    this.reads = new ActorReads(options.store, this.pipeline, this.live, options.migrations ?? {});
  }

  /** Opens the host on a store: loads timers (re-arming overdue heartbeats and leases) and replays the outbox. */
  static async open(options: ActorHostOptions): Promise<ActorHost> {
    const host = new ActorHost(options);
    await host.boot();
    host.schedulePassivation();
    return host;
  }

  private async boot(): Promise<void> {
    const rearmed = this.timers.load(this.store, this.clock.now());
    const writes: Write[] = [...rearmed, ...this.journalOutbox.replay()];
    if (writes.length > 0) {
      const batch = this.pipeline.current();
      batch.writes.push(...writes);
      await batch.durable;
    }
    this.timers.start();
  }

  /** Registers what to drop when memory is rebuilt from LMDB after a failed commit. */
  onReset(fn: () => void): void {
    this.resetHandlers.push(fn);
  }

  /** Registers a function that sees every unit's journal records as it merges, and answers writes to commit with them. */
  observeTransitions(fn: TransitionObserver): void {
    this.observers.push(fn);
  }

  /** Registers what a timer named `name` does when it fires (default: deliver its event to its actor). */
  onTimer(name: string, handler: TimerHandler): void {
    this.timerHandlers.on(name, handler);
  }

  mint(prefix: IdPrefix): string {
    return this.ids.next(prefix);
  }

  /** Number of actors in memory. */
  get liveCount(): number {
    return this.live.size;
  }

  // ── TxHost ────────────────────────────────────────────────────────────────

  load(ws: string, kind: EntityKind, id: string): LiveActor | undefined {
    const key = actorKey(ws, kind, id);
    const existing = this.live.get(key);
    if (existing) {
      existing.lastUsed = this.clock.now();
      return existing;
    }
    const snapshot = this.reads.stored(ws, kind, id);
    if (!snapshot) return undefined;
    const entry = this.runner.restore(key, ws, kind, id, snapshot, this.clock.now());
    this.live.set(key, entry);
    return entry;
  }

  spawn(ws: string, kind: EntityKind, id: string, input: unknown): LiveActor {
    const key = actorKey(ws, kind, id);
    // Ids are minted (time-sortable, random): a clash with a stored actor is not possible; one in memory is a bug.
    if (this.live.has(key)) {
      throw new OverseerError('INTERNAL', `The ${kind} ${id} already exists.`);
    }
    const entry = this.runner.spawn(key, ws, kind, id, input, this.clock.now());
    this.live.set(key, entry);
    return entry;
  }

  accepts(entry: LiveActor, event: EventObject): boolean {
    return this.runner.can(entry, event);
  }

  step(entry: LiveActor, event: EventObject): AnyMachineSnapshot {
    return this.runner.send(entry, event);
  }

  revert(entry: LiveActor, before: AnyMachineSnapshot | null): void {
    if (before === null) {
      this.runner.stop(entry);
      this.live.delete(entry.key);
      return;
    }
    this.runner.reset(entry, before);
  }

  /** Whether `close()` has begun: no command runs any more, reads included. */
  get isClosed(): boolean {
    return this.closed;
  }

  // ── Commands ──────────────────────────────────────────────────────────────

  /**
   * Runs `fn` as one unit of work and answers after its batch is durable. Idempotency: a replay by the same caller
   * (`principal`) with the same key and payload returns the first answer (waiting for it if it is not yet flushed);
   * another payload under the same key answers IDEMPOTENCY_KEY_REUSED; another caller's key is not this one's.
   */
  async execute<T>(req: ExecuteRequest<T>, fn: (tx: Tx) => T): Promise<T> {
    if (this.closed) throw new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is closed.');
    const now = this.clock.now();
    let hash: string | undefined;
    if (req.idempotencyKey !== undefined) {
      hash = payloadHash(req.payload ?? null);
      const hit = this.idempotency.lookup(req.ws, req.command, req.principal, req.idempotencyKey, hash, now);
      if (hit) return (hit.state === 'pending' ? await hit.answer : hit.answer) as T;
    }
    const tx = new Tx(this, this.env, req.ws, req.principal, now);
    let answer: T;
    try {
      answer = fn(tx);
    } catch (err) {
      tx.revert();
      if (err instanceof OverseerError) throw err;
      this.log.error({ err, command: req.command }, 'command failed');
      throw new OverseerError('INTERNAL', undefined, {}, { cause: err });
    }
    const record = req.idempotencyKey !== undefined && (req.recordAnswer?.() ?? true);
    if (!tx.changed && !record) return answer;
    const batch = this.merge(tx);
    if (record && req.idempotencyKey !== undefined && hash !== undefined) {
      batch.writes.push(
        ...this.idempotency.record(
          req.ws,
          req.command,
          req.principal,
          req.idempotencyKey,
          hash,
          req.recordAs ? req.recordAs(answer) : answer,
          now + this.options.idempotencyTtlMs,
          batch.durable,
        ),
      );
    }
    for (const fn of tx.afterMerge) {
      try {
        fn();
      } catch (err) {
        this.log.error({ err, command: req.command }, 'after-merge hook failed');
      }
    }
    await batch.durable;
    return answer;
  }

  /** Merges a finished unit of work into the open batch: seqs, journal, timers, writes, snapshots. */
  private merge(tx: Tx): HostBatch {
    const batch = this.pipeline.current();
    if (!batch.prepared) this.prepare(batch);
    if (tx.changed) batch.workspaces.add(tx.ws);
    this.journalOutbox.append(batch, tx.records);
    if (tx.records.length > 0) {
      this.counts.count(batch, tx.records);
      this.counts.rate(tx.ws, tx.records.length);
      for (const observe of this.observers) batch.writes.push(...observe(tx.ws, tx.records, tx.now));
    }
    for (const op of tx.timerOps) {
      batch.writes.push(
        ...(op.op === 'set' ? this.timers.set(op.entry) : this.timers.cancel(tx.ws, op.kind, op.id, op.name)),
      );
    }
    batch.writes.push(...tx.writes);
    for (const w of tx.latestWrites) batch.writeLatest(w);
    for (const { entry } of tx.touched.values()) {
      if (entry.batchId !== batch.id) {
        entry.batchId = batch.id;
        batch.dirty.push(entry);
      }
    }
    batch.afterDurable.push(...tx.afterDurable);
    return batch;
  }

  /** Sets up a new batch: when it closes it writes the snapshots of its actors, its outbox, counts and latest values. */
  private prepare(batch: HostBatch): void {
    batch.prepared = true;
    batch.finalizers.push(() => {
      batch.writeSnapshots(this.runner);
      this.journalOutbox.writeOutbox(batch);
      this.counts.write(batch);
      batch.writeLatestValues();
    });
    batch.afterDurable.push(() => this.journalOutbox.durable(batch));
  }

  /** Journal records (state transitions) of a workspace committed in the last 60 seconds. */
  transitionsLastMinute(ws: string): number {
    return this.counts.transitionsLastMinute(ws);
  }

  /** How many actors of a kind are in each status (statuses with none are left out). */
  statusCounts(ws: string, kind: EntityKind): Record<string, number> {
    return this.counts.of(ws, kind);
  }

  /** Runs a due timer as a system command: cancel it and react, in one unit of work. */
  private fire(entry: TimerEntry): void {
    this.execute({ ws: entry.ws, command: `timer.${entry.name}`, principal: 'system' }, (tx) =>
      this.timerHandlers.fire(tx, entry),
    ).catch((err: unknown) => this.log.warn({ err, timer: entry.name, id: entry.id }, 'timer failed'));
  }

  // ── Reads ─────────────────────────────────────────────────────────────────

  /** The current state of an actor, waiting first for an unflushed change of it to be durable. */
  view<K extends EntityKind>(ws: string, kind: K, id: string): Promise<SnapshotView<K> | undefined> {
    return this.reads.view(ws, kind, id);
  }

  /**
   * A number that changes whenever a batch that changed something in `ws` becomes durable (or memory is rebuilt):
   * what a reader read after {@link settled} stays valid while it is unchanged.
   */
  durableVersion(ws: string): number {
    return this.journalOutbox.durableVersion(ws);
  }

  /** Resolves once every batch opened before the call has settled (durable or failed). */
  settled(): Promise<void> {
    return this.pipeline.settled();
  }

  /** A page of one kind's actors in id (creation) order after `cursor`, filtered (see {@link ActorReads.list}). */
  list<K extends EntityKind>(ws: string, kind: K, opts: ListOptions<K>): Promise<ListPage<K>> {
    return this.reads.list(ws, kind, opts);
  }

  /** A page of a workspace's journal after `afterSeq`. */
  journal(ws: string, afterSeq: number, limit: number): ReturnType<ActorReads['journal']> {
    return this.reads.journal(ws, afterSeq, limit);
  }

  /** Every workspace that has journal records. */
  workspaces(): string[] {
    return this.journalOutbox.workspaces();
  }

  // ── Memory ────────────────────────────────────────────────────────────────

  /** Drops actors unused for `passivateAfterMs` whose changes are all durable. Returns how many left. */
  passivate(olderThan = this.clock.now() - this.options.passivateAfterMs): number {
    let n = 0;
    for (const [key, entry] of this.live) {
      if (entry.lastUsed > olderThan || entry.batchId > this.pipeline.durableId) continue;
      this.runner.stop(entry);
      this.live.delete(key);
      n++;
    }
    return n;
  }

  private schedulePassivation(): void {
    const every = Math.max(100, Math.floor(this.options.passivateAfterMs / 2));
    this.passivationHandle = this.clock.setTimeout(() => {
      if (this.closed) return;
      this.passivate();
      this.schedulePassivation();
    }, every);
  }

  /** After a failed commit: memory is thrown away and rebuilt from what LMDB holds. */
  private recover(err: unknown): void {
    this.log.error({ err }, 'commit failed: restoring every actor from the store');
    this.journalOutbox.reset();
    for (const entry of this.live.values()) this.runner.stop(entry);
    this.live.clear();
    this.counts.reset();
    this.idempotency.clear();
    this.timers.clear();
    for (const fn of this.resetHandlers) fn();
    if (this.closed) return;
    try {
      const writes = this.timers.load(this.store, this.clock.now());
      if (writes.length > 0) this.pipeline.defer(writes);
      this.timers.start();
    } catch (loadErr) {
      this.log.error({ err: loadErr }, 'could not reload timers');
    }
  }

  /** Commits what is pending, stops every actor and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.journalOutbox.stop();
    this.timers.stop();
    if (this.passivationHandle !== null) this.clock.clearTimeout(this.passivationHandle);
    await this.pipeline.stop();
    for (const entry of this.live.values()) this.runner.stop(entry);
    this.live.clear();
    await this.store.close();
  }
}
