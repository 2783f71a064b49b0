import type { Clock } from '../core/clock.ts';
import type { EntityKind, JournalRecord } from '../contracts/journal.ts';
import type { Store } from '../store/store.ts';
import type { HostBatch } from './host-batch.ts';

/** The parts of a journal record that move the counts. */
type Move = Pick<JournalRecord, 'workspaceId' | 'kind' | 'from' | 'to'>;

/**
 * Actors per status, per (workspace, kind), kept from the journal records each batch commits and persisted in
 * `meta` with the batch; and journal records per second over the last minute, per workspace.
 */
export class StatusCounts {
  private readonly store: Store;
  private readonly clock: Clock;
  /** (workspace, kind) → status → actors. */
  private readonly counts = new Map<string, Record<string, number>>();
  /** Per workspace, a ring of 60 seconds: [second, records]. */
  private readonly rates = new Map<string, { second: number[]; count: number[] }>();

  constructor(store: Store, clock: Clock) {
    this.store = store;
    this.clock = clock;
  }

  /** Counts actors by status from the states they enter and leave; the batch writes the totals it changed. */
  count(batch: HostBatch, records: readonly Move[]): void {
    for (const r of records) {
      if (r.from === r.to) continue;
      const key = `${r.workspaceId}\u0000${r.kind}`;
      const counts = this.countsOf(r.workspaceId, r.kind);
      if (r.from !== null) counts[r.from] = (counts[r.from] ?? 0) - 1;
      counts[r.to] = (counts[r.to] ?? 0) + 1;
      batch.countsChanged.add(key);
    }
  }

  /** Adds the totals the batch changed to its writes (when it closes). */
  write(batch: HostBatch): void {
    for (const key of batch.countsChanged) {
      const [ws, kind] = key.split('\u0000') as [string, string];
      batch.writes.push({ db: 'meta', key: ['counts', ws, kind], value: { ...this.counts.get(key) } });
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

  /** Adds `n` journal records of a workspace to the current second. */
  rate(ws: string, n: number): void {
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
  of(ws: string, kind: EntityKind): Record<string, number> {
    return Object.fromEntries(Object.entries(this.countsOf(ws, kind)).filter(([, n]) => n > 0));
  }

  /** Forgets the counts (after a failed commit: they are read again from what LMDB holds). */
  reset(): void {
    this.counts.clear();
  }
}
