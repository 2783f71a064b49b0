import { OverseerError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Store, Write } from '../store/store.ts';

/** One group commit: the writes of every command merged into it, committed in one transaction. */
export class Batch {
  readonly id: number;
  readonly writes: Write[] = [];
  /** Called just before the transaction is built, to add writes derived from memory (actor snapshots). */
  readonly finalizers: (() => void)[] = [];
  /** Called once the batch is durable (effects: published events, woken waiters). */
  readonly afterDurable: (() => void)[] = [];
  readonly durable: Promise<void>;
  resolve!: () => void;
  reject!: (err: unknown) => void;

  constructor(id: number) {
    this.id = id;
    this.durable = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // A batch nobody awaits (retention, outbox marks) must not raise an unhandled rejection.
    this.durable.catch(() => undefined);
  }

  get empty(): boolean {
    return this.writes.length === 0 && this.finalizers.length === 0;
  }
}

/**
 * Group commit (DESIGN §2, §4): commands merge into the open batch; one transaction commits it while the next
 * batch fills. The transaction is asked for as soon as a batch opens (when none is committing), and the batch
 * closes when LMDB's writer is ready for it: waking the writer overlaps with the commands still merging. In mode
 * 'flush' a batch is acknowledged after it is on disk, so many commands share each flush.
 */
export class CommitPipeline<B extends Batch = Batch> {
  private open: B | null = null;
  private committing = false;
  private nextId = 1;
  private scheduled = false;
  /** Id of the newest batch known durable: actors changed by a batch with a higher id have unflushed changes. */
  durableId = 0;
  private settledId = 0;
  private waiters: { id: number; resolve: () => void }[] = [];
  private deferred: Write[] = [];
  private deferredTimer: NodeJS.Timeout | null = null;
  private readonly store: Store;
  private readonly log: Logger;
  private readonly onFailure: (err: unknown) => void;
  private readonly make: (id: number) => B;
  private stopped = false;

  /** `make` creates each batch, so a user of the pipeline keeps its own typed fields on it. */
  constructor(store: Store, log: Logger, onFailure: (err: unknown) => void, make: (id: number) => B) {
    this.store = store;
    this.log = log;
    this.onFailure = onFailure;
    this.make = make;
  }

  /** The batch new work joins; its transaction is asked for at once and closes it when the writer is ready. */
  current(): B {
    if (this.stopped) throw new OverseerError('STORAGE_UNAVAILABLE', 'The runtime is closing.');
    if (!this.open) {
      this.open = this.make(this.nextId++);
      if (this.deferred.length > 0) {
        this.open.writes.push(...this.deferred);
        this.deferred = [];
        // They ride along with this batch: no commit of their own is needed for them.
        if (this.deferredTimer) clearTimeout(this.deferredTimer);
        this.deferredTimer = null;
      }
    }
    this.schedule();
    return this.open;
  }

  /**
   * Writes that may wait for the next batch (housekeeping such as marking outbox entries done). They join the next
   * batch that opens; only when none opens within 50 ms do they get a commit of their own, so that steady traffic
   * one command at a time never waits behind a housekeeping commit.
   */
  defer(writes: Write[]): void {
    if (this.open) {
      this.open.writes.push(...writes);
      return;
    }
    this.deferred.push(...writes);
    this.deferredTimer ??= setTimeout(() => {
      this.deferredTimer = null;
      if (this.deferred.length > 0 && !this.stopped) this.current();
    }, 50).unref();
  }

  /** Commits deferred housekeeping now and waits for every open batch. */
  async flushDeferred(): Promise<void> {
    if (this.deferred.length > 0 && !this.stopped) this.current();
    await this.idle();
  }

  /** Id of the newest batch opened so far (open, committing or done). */
  get latestId(): number {
    return this.nextId - 1;
  }

  /** Resolves once batch `id` and every batch before it has settled (durable or failed). */
  settled(id: number = this.latestId): Promise<void> {
    if (id <= this.settledId) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ id, resolve }));
  }

  /** Resolves once every batch opened so far has settled. */
  async idle(): Promise<void> {
    while (this.latestId > this.settledId) await this.settled();
  }

  private settle(id: number): void {
    if (id > this.settledId) this.settledId = id;
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.id <= this.settledId);
    this.waiters = this.waiters.filter((w) => w.id > this.settledId);
    for (const w of ready) w.resolve();
  }

  private schedule(): void {
    if (this.scheduled || this.committing) return;
    this.scheduled = true;
    // After the caller's synchronous part (it merges into the batch it just got), never inside it.
    queueMicrotask(() => {
      this.scheduled = false;
      void this.commitOpen();
    });
  }

  private async commitOpen(): Promise<void> {
    const batch = this.open;
    if (!batch || this.committing) return;
    this.committing = true;
    try {
      await this.store.commit(() => {
        // The writer is ready: the batch closes with everything merged so far; later work opens the next one.
        if (this.open === batch) this.open = null;
        for (const finalize of batch.finalizers) finalize();
        return batch.writes;
      });
    } catch (err) {
      if (this.open === batch) this.open = null;
      this.committing = false;
      this.fail(batch, err);
      return;
    }
    // Ask for this batch's flush before the next batch can queue a transaction: lmdb-js's `flushed` follows the
    // newest write queued, and waiting for the next batch's sync too would double the latency under steady load.
    const flushed = this.store.durability === 'flush' ? this.store.flushed() : undefined;
    this.committing = false;
    if (this.open) this.schedule();
    try {
      await flushed;
    } catch (err) {
      this.fail(batch, err);
      return;
    }
    if (batch.id > this.durableId) this.durableId = batch.id;
    batch.resolve();
    this.settle(batch.id);
    for (const fn of batch.afterDurable) {
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'after-commit effect failed');
      }
    }
  }

  private fail(batch: Batch, cause: unknown): void {
    this.log.error({ err: cause, batch: batch.id }, 'commit failed');
    const err = new OverseerError('STORAGE_UNAVAILABLE', undefined, {}, { cause });
    batch.reject(err);
    // Work merged after the failed batch was computed on memory that is being thrown away.
    const open = this.open;
    this.open = null;
    if (open) open.reject(err);
    this.settle(open?.id ?? batch.id);
    this.onFailure(cause);
  }

  /** Commits what is open and refuses new work. */
  async stop(): Promise<void> {
    if (this.deferred.length > 0) this.current();
    await this.idle();
    this.stopped = true;
    if (this.deferredTimer) clearTimeout(this.deferredTimer);
  }
}
