import type { AnyMachineSnapshot, EventObject } from 'xstate';
import type { Clock } from '../core/clock.ts';
import { OverseerError } from '../core/errors.ts';
import type { IdGenerator, IdPrefix } from '../core/ids.ts';
import type { Logger } from '../core/log.ts';
import type { EntityKind, JournalRecord } from '../contracts/journal.ts';
import { machines } from '../machines/registry.ts';
import type { Key, Store, Write } from '../store/store.ts';
import type { Bus } from '../transport/bus.ts';
import { subjects } from '../transport/subjects.ts';
import { CommitPipeline, type Batch } from './commit-pipeline.ts';
import { DurableTimers, type TimerEntry } from './durable-timers.ts';
import { IdempotencyTable, payloadHash } from './idempotency.ts';
import { actorKey, type LiveActor } from './live-actor.ts';
import { MachineRunner, type Inspector } from './machine-runner.ts';
import { migrateSnapshot, type Migrations } from './migrations.ts';
import { outboxDone, outboxWrite, pendingOutbox } from './outbox.ts';
import { Tx, type LatestWrite, type SendItem, type TxHost } from './tx.ts';

/** What the host stores per actor: the machine version and the persisted snapshot. */
interface StoredActor {
  v: number;
  s: unknown;
}

/** The parts of a snapshot that views read. */
export interface SnapshotView {
  value: string;
  context: Record<string, unknown>;
}

export interface ActorHostOptions {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  bus: Bus;
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
export interface ExecuteRequest {
  ws: string;
  command: string;
  principal: string;
  idempotencyKey?: string | undefined;
  /** The validated payload; its canonical hash guards the idempotency key. */
  payload?: unknown;
  /**
   * Whether this answer is recorded under the idempotency key (default: always). A long-poll that runs again under
   * one key records only the answer that ends the poll, not the empty passes before it parks.
   */
  recordAnswer?: () => boolean;
}

/** Reacts to a durable timer inside the unit of work that cancels it. */
export type TimerHandler = (tx: Tx, entry: TimerEntry) => void;

const LAST_SEQ = Number.MAX_SAFE_INTEGER;

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
  readonly timers: DurableTimers;
  readonly pipeline: CommitPipeline;
  readonly idempotency: IdempotencyTable;
  private readonly ids: IdGenerator;
  private readonly options: ActorHostOptions;
  private readonly live = new Map<string, LiveActor>();
  private readonly runner: MachineRunner;
  private readonly seqs = new Map<string, number>();
  private readonly timerHandlers = new Map<string, TimerHandler>();
  private readonly resetHandlers: (() => void)[] = [];
  /** Journal records per second over the last minute, per workspace: [second, count] ring of 60. */
  private readonly rates = new Map<string, { second: number[]; count: number[] }>();
  /** Actors per status, per (workspace, kind): kept from the journal, persisted in meta. */
  private readonly counts = new Map<string, Record<string, number>>();
  private passivationHandle: unknown = null;
  private closed = false;
  /** Batches that hold journal records, per workspace: ws → records in seq order. */
  private readonly batchRecords = new WeakMap<Batch, Map<string, JournalRecord[]>>();
  /** The workspaces each batch changed, to advance their durable versions once it is durable. */
  private readonly batchWorkspaces = new WeakMap<Batch, Set<string>>();
  private readonly durableVersions = new Map<string, number>();
  private versionEpoch = 0;

  private constructor(options: ActorHostOptions) {
    this.options = options;
    this.store = options.store;
    this.clock = options.clock;
    this.ids = options.ids;
    this.log = options.log.child({ component: 'actor-host' });
    this.bus = options.bus;
    this.idempotency = new IdempotencyTable(options.store);
    this.pipeline = new CommitPipeline(options.store, this.log, (err) => this.recover(err));
    this.timers = new DurableTimers(options.clock, (entry) => this.fire(entry));
    this.runner = new MachineRunner(options.clock, options.inspect);
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
    const replay = pendingOutbox(this.store);
    const writes: Write[] = [...rearmed];
    for (const { key, records } of replay) {
      for (const record of records) this.publish(record);
      writes.push({ db: 'outbox', key });
    }
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

  /** Registers what a timer named `name` does when it fires (default: deliver its event to its actor). */
  onTimer(name: string, handler: TimerHandler): void {
    this.timerHandlers.set(name, handler);
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
    const stored = this.store.get('actors', [ws, kind, id]) as StoredActor | undefined;
    if (!stored) return undefined;
    const { version } = machines[kind];
    const snapshot = migrateSnapshot(kind, id, stored, version, this.options.migrations ?? {});
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
   * Runs `fn` as one unit of work and answers after its batch is durable. Idempotency: a replay with the same
   * key and payload returns the first answer (waiting for it if it is not yet flushed); another payload under the
   * same key answers IDEMPOTENCY_KEY_REUSED.
   */
  async execute<T>(req: ExecuteRequest, fn: (tx: Tx) => T): Promise<T> {
    if (this.closed) throw new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is closed.');
    const now = this.clock.now();
    let hash: string | undefined;
    if (req.idempotencyKey !== undefined) {
      hash = payloadHash(req.payload ?? null);
      const hit = this.idempotency.lookup(req.ws, req.command, req.idempotencyKey, hash, now);
      if (hit) return (hit.state === 'pending' ? await hit.answer : hit.answer) as T;
    }
    const tx = new Tx(this, req.ws, req.principal, now);
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
          req.idempotencyKey,
          hash,
          answer,
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
  private merge(tx: Tx): Batch {
    const batch = this.pipeline.current();
    if (!this.batchRecords.has(batch)) this.prepare(batch);
    if (tx.changed) this.batchWorkspaces.get(batch)!.add(tx.ws);
    const byWs = this.batchRecords.get(batch)!;
    for (const pending of tx.records) {
      // An explicit literal, not `{ seq, ...pending }`: records stay referenced until the batch is durable.
      const record: JournalRecord = {
        seq: this.nextSeq(pending.workspaceId),
        at: pending.at,
        workspaceId: pending.workspaceId,
        kind: pending.kind,
        id: pending.id,
        event: pending.event,
        from: pending.from,
        to: pending.to,
        severity: pending.severity,
        principal: pending.principal,
        reason: pending.reason,
      };
      batch.writes.push({ db: 'journal', key: [record.workspaceId, record.seq], value: record });
      let list = byWs.get(record.workspaceId);
      if (!list) byWs.set(record.workspaceId, (list = []));
      list.push(record);
    }
    if (tx.records.length > 0) {
      this.countStatuses(batch, tx.records);
      this.countRate(tx.ws, tx.records.length);
    }
    for (const op of tx.timerOps) {
      batch.writes.push(
        ...(op.op === 'set' ? this.timers.set(op.entry) : this.timers.cancel(tx.ws, op.kind, op.id, op.name)),
      );
    }
    batch.writes.push(...tx.writes);
    for (const w of tx.latestWrites) writeLatest(batch, w);
    for (const { entry } of tx.touched.values()) {
      if (entry.batchId !== batch.id) {
        entry.batchId = batch.id;
        dirty(batch).push(entry);
      }
    }
    batch.afterDurable.push(...tx.afterDurable);
    return batch;
  }

  /** Counts actors by status from the states they enter and leave; the totals are written with the batch. */
  private countStatuses(
    batch: Batch,
    records: readonly { workspaceId: string; kind: EntityKind; from: string | null; to: string }[],
  ): void {
    let changed = countChanges.get(batch);
    if (!changed) {
      countChanges.set(batch, (changed = new Set()));
      batch.finalizers.push(() => {
        for (const key of changed!) {
          const [ws, kind] = key.split('\u0000') as [string, string];
          batch.writes.push({ db: 'meta', key: ['counts', ws, kind], value: { ...this.counts.get(key) } });
        }
      });
    }
    for (const r of records) {
      if (r.from === r.to) continue;
      const key = `${r.workspaceId}\u0000${r.kind}`;
      const counts = this.countsOf(r.workspaceId, r.kind);
      if (r.from !== null) counts[r.from] = (counts[r.from] ?? 0) - 1;
      counts[r.to] = (counts[r.to] ?? 0) + 1;
      changed.add(key);
    }
  }

  private countsOf(ws: string, kind: EntityKind): Record<string, number> {
    const key = `${ws}\u0000${kind}`;
    let counts = this.counts.get(key);
    if (!counts) {
      counts = {
        ...((this.store.get('meta', ['counts', ws, kind]) as Record<string, number> | undefined) ?? {}),
      };
      this.counts.set(key, counts);
    }
    return counts;
  }

  private countRate(ws: string, n: number): void {
    let ring = this.rates.get(ws);
    if (!ring)
      this.rates.set(
        ws,
        (ring = { second: new Array<number>(60).fill(-1), count: new Array<number>(60).fill(0) }),
      );
    const second = Math.floor(this.clock.now() / 1000);
    const i = second % 60;
    if (ring.second[i] !== second) {
      ring.second[i] = second;
      ring.count[i] = 0;
    }
    ring.count[i]! += n;
  }

  /** Journal records (state transitions) of a workspace committed in the last 60 seconds. */
  transitionsLastMinute(ws: string): number {
    const ring = this.rates.get(ws);
    if (!ring) return 0;
    const now = Math.floor(this.clock.now() / 1000);
    let total = 0;
    for (let i = 0; i < 60; i++) if (ring.second[i]! > now - 60) total += ring.count[i]!;
    return total;
  }

  /** How many actors of a kind are in each status (statuses with none are left out). */
  statusCounts(ws: string, kind: EntityKind): Record<string, number> {
    return Object.fromEntries(Object.entries(this.countsOf(ws, kind)).filter(([, n]) => n > 0));
  }

  /** Sets up a new batch: snapshots of dirty actors and outbox entries are written when it closes. */
  private prepare(batch: Batch): void {
    const byWs = new Map<string, JournalRecord[]>();
    this.batchRecords.set(batch, byWs);
    const touched = new Set<string>();
    this.batchWorkspaces.set(batch, touched);
    batch.finalizers.push(() => {
      for (const entry of dirty(batch)) {
        const { version } = machines[entry.kind];
        batch.writes.push({
          db: 'actors',
          key: [entry.ws, entry.kind, entry.id],
          value: { v: version, s: this.runner.persist(entry) } satisfies StoredActor,
        });
      }
      for (const [ws, records] of byWs) if (records.length > 0) batch.writes.push(outboxWrite(ws, records));
    });
    batch.afterDurable.push(() => {
      for (const ws of touched) this.durableVersions.set(ws, (this.durableVersions.get(ws) ?? 0) + 1);
      const done: Write[] = [];
      for (const [ws, records] of byWs) {
        if (records.length === 0) continue;
        for (const record of records) this.publish(record);
        done.push(outboxDone(ws, records[0]!.seq));
      }
      if (done.length > 0 && !this.closed) this.pipeline.defer(done);
    });
  }

  private publish(record: JournalRecord): void {
    this.bus.publish(subjects.event(record.workspaceId, record.kind, record.id, record.to), record);
  }

  /** The next journal seq of a workspace (per-workspace, gap-free, from 1). */
  private nextSeq(ws: string): number {
    let last = this.seqs.get(ws);
    if (last === undefined) {
      last = 0;
      for (const key of this.store.keys('journal', {
        start: [ws, LAST_SEQ],
        end: [ws, 0],
        reverse: true,
        limit: 1,
      })) {
        last = key[1] as number;
      }
      if (last === 0 && this.store.get('meta', ['ws', ws]) === undefined) {
        this.pipeline
          .current()
          .writes.push({ db: 'meta', key: ['ws', ws], value: { createdAt: this.clock.now() } });
      }
    }
    this.seqs.set(ws, last + 1);
    return last + 1;
  }

  /** Runs a due timer as a system command: cancel it and react, in one unit of work. */
  private fire(entry: TimerEntry): void {
    const handler = this.timerHandlers.get(entry.name) ?? deliverTimerEvent;
    this.execute({ ws: entry.ws, command: `timer.${entry.name}`, principal: 'system' }, (tx) => {
      tx.cancelTimer(entry.kind, entry.id, entry.name);
      handler(tx, entry);
    }).catch((err: unknown) => this.log.warn({ err, timer: entry.name, id: entry.id }, 'timer failed'));
  }

  // ── Reads ─────────────────────────────────────────────────────────────────

  /** The current state of an actor, waiting first for an unflushed change of it to be durable. */
  async view(ws: string, kind: EntityKind, id: string): Promise<SnapshotView | undefined> {
    const key = actorKey(ws, kind, id);
    for (let entry = this.live.get(key); entry; entry = this.live.get(key)) {
      if (entry.batchId <= this.pipeline.durableId) return entry.snapshot;
      await this.pipeline.settled(entry.batchId);
    }
    return this.storedView(ws, kind, id);
  }

  private storedView(ws: string, kind: EntityKind, id: string): SnapshotView | undefined {
    const stored = this.store.get('actors', [ws, kind, id]) as StoredActor | undefined;
    if (!stored) return undefined;
    return migrateSnapshot(
      kind,
      id,
      stored,
      machines[kind].version,
      this.options.migrations ?? {},
    ) as SnapshotView;
  }

  /**
   * A page of one kind's actors in id (creation) order after `cursor`, filtered. Reads committed state after every
   * batch opened before the call has settled; scans at most `scanLimit` entries, so a page may come back short
   * with a cursor to go on from.
   */
  /**
   * A number that changes whenever a batch that changed something in `ws` becomes durable (or memory is rebuilt):
   * what a reader read after {@link settled} stays valid while it is unchanged.
   */
  durableVersion(ws: string): number {
    return this.versionEpoch * 2 ** 32 + (this.durableVersions.get(ws) ?? 0);
  }

  /** Resolves once every batch opened before the call has settled (durable or failed). */
  settled(): Promise<void> {
    return this.pipeline.settled();
  }

  async list(
    ws: string,
    kind: EntityKind,
    opts: {
      cursor?: string | undefined;
      limit: number;
      filter?: (view: SnapshotView) => boolean;
      scanLimit?: number;
    },
  ): Promise<{ items: SnapshotView[]; nextCursor: string | null }> {
    await this.pipeline.settled();
    const items: SnapshotView[] = [];
    const scanLimit = opts.scanLimit ?? 10_000;
    let scanned = 0;
    let lastId: string | null = null;
    const start: Key = opts.cursor ? [ws, kind, opts.cursor] : [ws, kind];
    for (const { key, value } of this.store.range('actors', { start, end: [ws, kind, '\uffff'] })) {
      const id = key[2] as string;
      if (id === opts.cursor) continue;
      if (items.length >= opts.limit || scanned >= scanLimit) return { items, nextCursor: lastId };
      scanned++;
      lastId = id;
      const view = migrateSnapshot(
        kind,
        id,
        value as StoredActor,
        machines[kind].version,
        this.options.migrations ?? {},
      ) as SnapshotView;
      if (!opts.filter || opts.filter(view)) items.push(view);
    }
    return { items, nextCursor: null };
  }

  /** A page of a workspace's journal after `afterSeq`. */
  async journal(
    ws: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ events: JournalRecord[]; nextCursor: number | null }> {
    await this.pipeline.settled();
    const events: JournalRecord[] = [];
    for (const { value } of this.store.range('journal', {
      start: [ws, afterSeq + 1],
      end: [ws, LAST_SEQ],
      limit: limit + 1,
    })) {
      events.push(value as JournalRecord);
    }
    const more = events.length > limit;
    if (more) events.pop();
    return { events, nextCursor: more ? events[events.length - 1]!.seq : null };
  }

  /** Every workspace that has journal records. */
  workspaces(): string[] {
    const out: string[] = [];
    for (const key of this.store.keys('meta', { start: ['ws'], end: ['ws', '\uffff'] }))
      out.push(key[1] as string);
    for (const ws of this.seqs.keys()) if (!out.includes(ws)) out.push(ws);
    return out;
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
    this.durableVersions.clear();
    this.versionEpoch++;
    for (const entry of this.live.values()) this.runner.stop(entry);
    this.live.clear();
    this.seqs.clear();
    this.counts.clear();
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
    this.timers.stop();
    if (this.passivationHandle !== null) this.clock.clearTimeout(this.passivationHandle);
    await this.pipeline.stop();
    for (const entry of this.live.values()) this.runner.stop(entry);
    this.live.clear();
    await this.store.close();
  }
}

const dirtyLists = new WeakMap<Batch, LiveActor[]>();
const countChanges = new WeakMap<Batch, Set<string>>();
const latestByBatch = new WeakMap<Batch, Map<string, LatestWrite>>();

/** Adds a latest-value write to a batch: the last one per key wins, its value is taken when the batch closes. */
function writeLatest(batch: Batch, w: LatestWrite): void {
  let latest = latestByBatch.get(batch);
  if (!latest) {
    const map = new Map<string, LatestWrite>();
    latestByBatch.set(batch, (latest = map));
    batch.finalizers.push(() => {
      for (const l of map.values()) batch.writes.push({ db: l.db, key: l.key, value: l.value() });
    });
  }
  latest.set(`${w.db}\u0000${w.key.join('\u0000')}`, w);
}
function dirty(batch: Batch): LiveActor[] {
  let list = dirtyLists.get(batch);
  if (!list) dirtyLists.set(batch, (list = []));
  return list;
}

/** The default timer reaction: deliver its event to its actor if the actor still accepts it. */
export const deliverTimerEvent: TimerHandler = (tx, entry) => {
  const event = { ...entry.event, at: tx.now } as SendItem['event'];
  const snapshot = tx.find(entry.kind, entry.id);
  if (snapshot?.can(event)) tx.send([{ kind: entry.kind, id: entry.id, event }]);
};
