import type { Priority, ResourceRequest } from '../../contracts/job.ts';
import type { Key, Store, Write } from '../../store/store.ts';

/** Priority lanes in claim order. */
export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };
const RANK_PRIORITY: Priority[] = ['high', 'normal', 'low'];

/** What a claim needs to know of a queued job without restoring its actor. */
export interface QueueEntry {
  jobId: string;
  rank: number;
  arrival: number;
  capabilities: string[];
  resources: ResourceRequest[];
  depth: number;
  workerCount: number;
  ancestors: string[];
}

/** The stored form of an entry in the `queue` database, keyed [ws, rank, arrival]. */
interface StoredEntry {
  j: string;
  c: string[];
  r: ResourceRequest[];
  d: number;
  w: number;
  a: string[];
}

/**
 * One workspace's ready jobs, ordered by priority then arrival: three FIFO lanes with lazy removal. Decisions
 * read this memory; every change returns the write that makes it durable.
 */
export class QueueIndex {
  private readonly ws: string;
  private readonly lanes: QueueEntry[][] = [[], [], []];
  private readonly heads = [0, 0, 0];
  private readonly byJob = new Map<string, QueueEntry>();
  private nextArrival = 1;

  constructor(ws: string) {
    this.ws = ws;
  }

  /** Loads a workspace's queue from the store (its keys come in priority-then-arrival order). */
  static load(store: Store, ws: string): QueueIndex {
    const q = new QueueIndex(ws);
    for (const { key, value } of store.range('queue', { start: [ws, 0], end: [ws, 3] })) {
      const [, rank, arrival] = key as [string, number, number];
      const v = value as StoredEntry;
      const entry: QueueEntry = {
        jobId: v.j,
        rank,
        arrival,
        capabilities: v.c,
        resources: v.r,
        depth: v.d,
        workerCount: v.w,
        ancestors: v.a,
      };
      q.lanes[rank]!.push(entry);
      q.byJob.set(entry.jobId, entry);
      q.nextArrival = Math.max(q.nextArrival, arrival + 1);
    }
    for (const lane of q.lanes) lane.sort((a, b) => a.arrival - b.arrival);
    return q;
  }

  get size(): number {
    return this.byJob.size;
  }

  has(jobId: string): boolean {
    return this.byJob.has(jobId);
  }

  /** Appends a job to the back of its priority lane. */
  add(entry: Omit<QueueEntry, 'arrival'>): { entry: QueueEntry; write: Write } {
    const full: QueueEntry = { ...entry, arrival: this.nextArrival++ };
    this.lanes[full.rank]!.push(full);
    this.byJob.set(full.jobId, full);
    const value: StoredEntry = {
      j: full.jobId,
      c: full.capabilities,
      r: full.resources,
      d: full.depth,
      w: full.workerCount,
      a: full.ancestors,
    };
    return { entry: full, write: { db: 'queue', key: this.key(full), value } };
  }

  /** Puts an entry removed by `remove` back where it was (undo). */
  restore(entry: QueueEntry): void {
    const lane = this.lanes[entry.rank]!;
    this.byJob.set(entry.jobId, entry);
    let i = lane.length;
    while (i > this.heads[entry.rank]! && lane[i - 1]!.arrival > entry.arrival) i--;
    if (lane[i - 1] !== entry) lane.splice(i, 0, entry);
  }

  /** Removes a job (lazily: its lane slot is skipped later). */
  remove(jobId: string): { entry: QueueEntry; write: Write } | undefined {
    const entry = this.byJob.get(jobId);
    if (!entry) return undefined;
    this.byJob.delete(jobId);
    return { entry, write: { db: 'queue', key: this.key(entry) } };
  }

  /** Undoes an `add`. */
  unadd(entry: QueueEntry): void {
    if (this.byJob.get(entry.jobId) === entry) this.byJob.delete(entry.jobId);
  }

  /** Queued entries in claim order. */
  *scan(): Generator<QueueEntry> {
    for (let rank = 0; rank < 3; rank++) {
      const lane = this.lanes[rank]!;
      let head = this.heads[rank]!;
      while (head < lane.length && this.byJob.get(lane[head]!.jobId) !== lane[head]) head++;
      this.heads[rank] = head;
      if (head > 1024 && head * 2 > lane.length) {
        lane.splice(0, head);
        this.heads[rank] = head = 0;
      }
      for (let i = head; i < lane.length; i++) {
        const entry = lane[i]!;
        if (this.byJob.get(entry.jobId) === entry) yield entry;
      }
    }
  }

  /** Queue depth by priority. */
  depthByPriority(): Record<Priority, number> {
    const depth: Record<Priority, number> = { high: 0, normal: 0, low: 0 };
    for (const entry of this.byJob.values()) depth[RANK_PRIORITY[entry.rank]!]++;
    return depth;
  }

  private key(entry: QueueEntry): Key {
    return [this.ws, entry.rank, entry.arrival];
  }
}
