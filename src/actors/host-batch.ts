import type { JournalRecord } from '../contracts/journal.ts';
import { machines } from '../machines/registry.ts';
import type { StoredActor } from './actor-reads.ts';
import { Batch } from './commit-pipeline.ts';
import type { LiveActor } from './live-actor.ts';
import type { MachineRunner } from './machine-runner.ts';
import type { LatestWrite } from './tx.ts';

/**
 * A group commit as the host fills it: besides the writes, what it derives from memory when it closes (the
 * snapshots of the actors it changed, one outbox entry per workspace, status counts, latest values) and what it
 * publishes once durable.
 */
export class HostBatch extends Batch {
  /** Whether the host has set it up (its finalizer and its after-durable step); done on the first merge. */
  prepared = false;
  /** Its journal records per workspace, in seq order. */
  readonly records = new Map<string, JournalRecord[]>();
  /** The workspaces it changed, whose durable versions advance once it is durable. */
  readonly workspaces = new Set<string>();
  /** The actors whose snapshots it writes when it closes. */
  readonly dirty: LiveActor[] = [];
  /** The (workspace, kind) pairs whose status counts it writes. */
  readonly countsChanged = new Set<string>();
  /** Latest-value writes by key: the last one per key wins, its value is taken when the batch closes. */
  readonly latest = new Map<string, LatestWrite>();

  /** Adds the persisted snapshot of each actor it changed, with its machine's version, to the writes. */
  writeSnapshots(runner: MachineRunner): void {
    for (const entry of this.dirty) {
      this.writes.push({
        db: 'actors',
        key: [entry.ws, entry.kind, entry.id],
        value: { v: machines[entry.kind].version, s: runner.persist(entry) } satisfies StoredActor,
      });
    }
  }

  /** Adds a latest-value write (see `Tx.writeLatest`). */
  writeLatest(w: LatestWrite): void {
    this.latest.set(`${w.db}\u0000${w.key.join('\u0000')}`, w);
  }

  /** Adds the latest values to the writes (when the batch closes). */
  writeLatestValues(): void {
    for (const l of this.latest.values()) this.writes.push({ db: l.db, key: l.key, value: l.value() });
  }
}
