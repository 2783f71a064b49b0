import type { EntityKind, JournalRecord } from '../contracts/journal.ts';
import { machines, type SnapshotOf } from '../machines/registry.ts';
import type { Key, Store } from '../store/store.ts';
import type { CommitPipeline } from './commit-pipeline.ts';
import type { HostBatch } from './host-batch.ts';
import { LAST_SEQ } from './journal-outbox.ts';
import { actorKey, type LiveActor } from './live-actor.ts';
import { migrateSnapshot, type Migrations } from './migrations.ts';

/** What the host stores per actor: the machine version and the persisted snapshot. */
export interface StoredActor {
  v: number;
  s: unknown;
}

/** The parts of a kind's snapshot that views read: its state and its typed context. */
export interface SnapshotView<K extends EntityKind = EntityKind> {
  value: string;
  context: SnapshotOf<K>['context'];
}

/** What a list reads: a page after `cursor`, filtered, scanning at most `scanLimit` entries (default 10,000). */
export interface ListOptions<K extends EntityKind> {
  cursor?: string | undefined;
  limit: number;
  filter?: (view: SnapshotView<K>) => boolean;
  scanLimit?: number;
}

/** A page of a list: `nextCursor` is where to go on from (null: the end). */
export interface ListPage<K extends EntityKind> {
  items: SnapshotView<K>[];
  nextCursor: string | null;
}

/**
 * Reads of committed state (`jobs.get`, lists, `events.list`): they wait for any batch holding an unflushed change
 * they would see, then read memory (an actor in memory) or LMDB.
 */
export class ActorReads {
  private readonly store: Store;
  private readonly pipeline: CommitPipeline<HostBatch>;
  private readonly live: ReadonlyMap<string, LiveActor>;
  private readonly migrations: Migrations;

  constructor(
    store: Store,
    pipeline: CommitPipeline<HostBatch>,
    live: ReadonlyMap<string, LiveActor>,
    migrations: Migrations,
  ) {
    this.store = store;
    this.pipeline = pipeline;
    this.live = live;
    this.migrations = migrations;
  }

  /** The current state of an actor, waiting first for an unflushed change of it to be durable. */
  async view<K extends EntityKind>(ws: string, kind: K, id: string): Promise<SnapshotView<K> | undefined> {
    const key = actorKey(ws, kind, id);
    for (let entry = this.live.get(key); entry; entry = this.live.get(key)) {
      // Made by the kind's own machine (see the registry), so its context is that machine's.
      if (entry.batchId <= this.pipeline.durableId) return entry.snapshot as SnapshotView<K>;
      await this.pipeline.settled(entry.batchId);
    }
    return this.stored(ws, kind, id);
  }

  /** An actor's snapshot as LMDB holds it, migrated to its machine's version; undefined when none is stored. */
  stored<K extends EntityKind>(ws: string, kind: K, id: string): SnapshotView<K> | undefined {
    const stored = this.store.get('actors', [ws, kind, id]) as StoredActor | undefined;
    return stored ? this.restored(kind, id, stored) : undefined;
  }

  /** A stored snapshot, migrated to its machine's version. */
  private restored<K extends EntityKind>(kind: K, id: string, stored: StoredActor): SnapshotView<K> {
    return migrateSnapshot(kind, id, stored, machines[kind].version, this.migrations) as SnapshotView<K>;
  }

  /**
   * A page of one kind's actors in id (creation) order after `cursor`, filtered. Reads committed state after every
   * batch opened before the call has settled; scans at most `scanLimit` entries, so a page may come back short
   * with a cursor to go on from.
   */
  async list<K extends EntityKind>(ws: string, kind: K, opts: ListOptions<K>): Promise<ListPage<K>> {
    await this.pipeline.settled();
    const items: SnapshotView<K>[] = [];
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
      const view = this.restored(kind, id, value as StoredActor);
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
}
