import type { Clock } from '../core/clock.ts';
import type { JournalRecord } from '../contracts/journal.ts';
import type { Store, Write } from '../store/store.ts';
import type { Bus } from '../transport/bus.ts';
import { subjects } from '../transport/subjects.ts';
import type { CommitPipeline } from './commit-pipeline.ts';
import type { HostBatch } from './host-batch.ts';
import { outboxDone, outboxWrite, pendingOutbox } from './outbox.ts';
import type { PendingRecord } from './tx.ts';

/** Above every seq: the end of a workspace's journal range. */
export const LAST_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * The journal and the outbox (DESIGN §2 steps 4 and 6): gives each record its per-workspace seq, writes it with
 * its batch, writes one outbox entry per workspace when the batch closes, publishes the records once the batch
 * is durable and marks the entry done in a later batch; at start, publishes what a crash left undone.
 */
export class JournalOutbox {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly bus: Bus;
  private readonly pipeline: CommitPipeline<HostBatch>;
  /** The last seq given out, per workspace. */
  private readonly seqs = new Map<string, number>();
  /** Durable batches that changed each workspace (see `durableVersion`). */
  private readonly durableVersions = new Map<string, number>();
  private versionEpoch = 0;
  private stopped = false;

  constructor(store: Store, clock: Clock, bus: Bus, pipeline: CommitPipeline<HostBatch>) {
    this.store = store;
    this.clock = clock;
    this.bus = bus;
    this.pipeline = pipeline;
  }

  /** Publishes the records of outbox entries a crash left undone; answers the writes that mark them done. */
  replay(): Write[] {
    const writes: Write[] = [];
    for (const { key, records } of pendingOutbox(this.store)) {
      for (const record of records) this.publish(record);
      writes.push({ db: 'outbox', key });
    }
    return writes;
  }

  /** Gives the records of a unit of work their seqs and adds them to the batch. */
  append(batch: HostBatch, pendings: readonly PendingRecord[]): void {
    for (const pending of pendings) {
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
      let list = batch.records.get(record.workspaceId);
      if (!list) batch.records.set(record.workspaceId, (list = []));
      list.push(record);
    }
  }

  /** Adds one outbox entry per workspace with records to the batch's writes (when it closes). */
  writeOutbox(batch: HostBatch): void {
    for (const [ws, records] of batch.records)
      if (records.length > 0) batch.writes.push(outboxWrite(ws, records));
  }

  /** Once the batch is durable: advances the durable versions, publishes its records, marks its entries done. */
  durable(batch: HostBatch): void {
    for (const ws of batch.workspaces) this.durableVersions.set(ws, (this.durableVersions.get(ws) ?? 0) + 1);
    const done: Write[] = [];
    for (const [ws, records] of batch.records) {
      if (records.length === 0) continue;
      for (const record of records) this.publish(record);
      done.push(outboxDone(ws, records[0]!.seq));
    }
    if (done.length > 0 && !this.stopped) this.pipeline.defer(done);
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

  /**
   * A number that changes whenever a batch that changed something in `ws` becomes durable (or memory is rebuilt):
   * what a reader read after the batches settled stays valid while it is unchanged.
   */
  durableVersion(ws: string): number {
    return this.versionEpoch * 2 ** 32 + (this.durableVersions.get(ws) ?? 0);
  }

  /** Every workspace that has journal records. */
  workspaces(): string[] {
    const out: string[] = [];
    for (const key of this.store.keys('meta', { start: ['ws'], end: ['ws', '\uffff'] }))
      out.push(key[1] as string);
    for (const ws of this.seqs.keys()) if (!out.includes(ws)) out.push(ws);
    return out;
  }

  /** Forgets the seqs and moves every durable version (after a failed commit: memory is rebuilt from LMDB). */
  reset(): void {
    this.durableVersions.clear();
    this.versionEpoch++;
    this.seqs.clear();
  }

  /** No more outbox marks are deferred (the host is closing). */
  stop(): void {
    this.stopped = true;
  }
}
