import type { Priority, ResourceRequest } from '../../contracts/job.ts';
import type { Key, Store, Write } from '../../store/store.ts';

/** Priority lanes in claim order. */
export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/** Entries read from the store at a time, per lane, when a scan reaches the end of what is in memory. */
export const QUEUE_WINDOW = 1024;

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
 * A queued job removed before its entry was read, keyed [ws, 'gone', jobId, before]: its stored entry (in lane
 * `r`, with an arrival below `before`) is skipped and deleted when a scan reaches it.
 */
interface StoredTombstone {
  r: number;
}

/**
 * The tombstones of one job in memory. Every stored entry of the job with an arrival below `before` is stale (the
 * job had one entry at a time, and each was removed before `before`); `stale` of them are still unread.
 */
interface Tombstone {
  before: number;
  stale: number;
  keys: Key[];
}

const LAST_ARRIVAL = Number.MAX_SAFE_INTEGER;

/** A removal, with the write that makes it durable and how to undo it in memory. */
export interface Removal {
  write: Write;
  undo: () => void;
}

/** One priority lane: the window read from the store so far, then the entries added since the index opened. */
interface Lane {
  /** Entries read from the store, in arrival order (removed ones are skipped lazily). */
  read: QueueEntry[];
  readHead: number;
  /** The arrival of the last entry read; the next read starts after it. */
  cursor: number;
  /** Every stored entry up to `boundary` has been read. */
  exhausted: boolean;
  /** Entries added since the index opened (arrivals above `boundary`), in arrival order. */
  added: QueueEntry[];
  addedHead: number;
}

/**
 * One workspace's ready jobs, ordered by priority then arrival: three FIFO lanes with lazy removal. Decisions
 * read this memory; every change returns the write that makes it durable.
 *
 * Opening reads no entry: a scan reads the stored entries of a lane in windows of `QUEUE_WINDOW` as it reaches
 * them. The store lags memory only by removals (lmdb-js shows a write once its batch commits), and those are in
 * memory too: an entry read is dropped from `byJob`, one not yet read leaves a tombstone. Entries added since the
 * index opened are all in memory and arrive after every stored one (`boundary`), so reads never see them.
 */
export class QueueIndex {
  private readonly ws: string;
  private readonly store: Store;
  private readonly window: number;
  private readonly lanes: Lane[];
  /** Entries in memory, read or added, that are still queued. */
  private readonly byJob = new Map<string, QueueEntry>();
  /** Tombstones of removed entries not yet read, by job. */
  private readonly tombstones = new Map<string, Tombstone>();
  /** Queued jobs per lane. */
  private readonly depths = [0, 0, 0];
  /** The highest arrival stored when the index opened. */
  private readonly boundary: number;
  private nextArrival: number;

  private constructor(ws: string, store: Store, window: number, boundary: number, nextArrival: number) {
    this.ws = ws;
    this.store = store;
    this.window = window;
    this.boundary = boundary;
    this.nextArrival = nextArrival;
    this.lanes = [0, 1, 2].map(() => ({
      read: [],
      readHead: 0,
      cursor: 0,
      exhausted: false,
      added: [],
      addedHead: 0,
    }));
  }

  /** Opens a workspace's queue: its last arrival, its depth per lane and its tombstones, but no entry. */
  static open(store: Store, ws: string, window = QUEUE_WINDOW): QueueIndex {
    let last = 0;
    const depths = [0, 0, 0];
    for (let rank = 0; rank < 3; rank++) {
      const end: Key = [ws, rank, LAST_ARRIVAL];
      for (const key of store.keys('queue', { start: end, end: [ws, rank], reverse: true, limit: 1 }))
        last = Math.max(last, key[2] as number);
      depths[rank] = store.count('queue', { start: [ws, rank], end });
    }
    const tombstones = new Map<string, Tombstone>();
    // Arrivals stay above every tombstone's bound, even when the lanes ran empty.
    let next = last + 1;
    for (const { key, value } of store.range('queue', { start: [ws, 'gone'], end: [ws, 'gone', '\uffff'] })) {
      const jobId = key[2] as string;
      const before = key[3] as number;
      let t = tombstones.get(jobId);
      if (!t) tombstones.set(jobId, (t = { before, stale: 0, keys: [] }));
      t.before = Math.max(t.before, before);
      t.stale++;
      t.keys.push(key);
      depths[(value as StoredTombstone).r]!--;
      next = Math.max(next, before);
    }
    const q = new QueueIndex(ws, store, window, last, next);
    for (let rank = 0; rank < 3; rank++) q.depths[rank] = depths[rank]!;
    for (const [jobId, t] of tombstones) q.tombstones.set(jobId, t);
    return q;
  }

  /** Number of queued jobs. */
  get size(): number {
    return this.depths[0]! + this.depths[1]! + this.depths[2]!;
  }

  /** Entries held in memory (read from the store or added since the index opened), removed ones included. */
  get inMemory(): number {
    let n = 0;
    for (const lane of this.lanes) n += lane.read.length - lane.readHead + lane.added.length - lane.addedHead;
    return n;
  }

  /** Whether a job is queued among the entries in memory (entries not yet read are not known here). */
  has(jobId: string): boolean {
    return this.byJob.has(jobId);
  }

  /**
   * Appends a job to the back of its priority lane. The entry is written as an explicit literal: a spread plus a
   * new key (`{ ...entry, arrival }`) gives every retained entry a private V8 hidden class (~320 B each).
   */
  add(entry: Omit<QueueEntry, 'arrival'>): { entry: QueueEntry; write: Write } {
    const full: QueueEntry = {
      jobId: entry.jobId,
      rank: entry.rank,
      arrival: this.nextArrival++,
      capabilities: entry.capabilities,
      resources: entry.resources,
      depth: entry.depth,
      workerCount: entry.workerCount,
      ancestors: entry.ancestors,
    };
    this.lanes[full.rank]!.added.push(full);
    this.byJob.set(full.jobId, full);
    this.depths[full.rank]!++;
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

  /** Undoes an `add`. */
  unadd(entry: QueueEntry): void {
    if (this.byJob.get(entry.jobId) !== entry) return;
    this.byJob.delete(entry.jobId);
    this.depths[entry.rank]!--;
  }

  /**
   * Removes a queued job whose lane is `rank` (lazily: its slot is skipped later). A job not read yet leaves a
   * tombstone; a job in no lane (all of its stored entries read, none in memory) is not queued: undefined.
   */
  remove(jobId: string, rank: number): Removal | undefined {
    const entry = this.byJob.get(jobId);
    if (entry) {
      this.byJob.delete(jobId);
      this.depths[entry.rank]!--;
      return { write: { db: 'queue', key: this.key(entry) }, undo: () => this.restore(entry) };
    }
    if (this.lanes[rank]!.exhausted) return undefined;
    const existing = this.tombstones.get(jobId);
    const tombstone = existing ?? { before: 0, stale: 0, keys: [] };
    const previous = tombstone.before;
    const key: Key = [this.ws, 'gone', jobId, this.nextArrival];
    tombstone.before = this.nextArrival;
    tombstone.stale++;
    tombstone.keys.push(key);
    if (!existing) this.tombstones.set(jobId, tombstone);
    this.depths[rank]!--;
    return {
      write: { db: 'queue', key, value: { r: rank } satisfies StoredTombstone },
      undo: () => {
        tombstone.before = previous;
        tombstone.stale--;
        tombstone.keys.pop();
        if (tombstone.stale === 0 && this.tombstones.get(jobId) === tombstone) this.tombstones.delete(jobId);
        this.depths[rank]!++;
      },
    };
  }

  /** Puts an entry removed by `remove` back where it was (undo). */
  private restore(entry: QueueEntry): void {
    const lane = this.lanes[entry.rank]!;
    const [list, head] =
      entry.arrival > this.boundary ? [lane.added, lane.addedHead] : [lane.read, lane.readHead];
    this.byJob.set(entry.jobId, entry);
    this.depths[entry.rank]!++;
    let i = list.length;
    while (i > head && list[i - 1]!.arrival > entry.arrival) i--;
    if (list[i - 1] !== entry) list.splice(i, 0, entry);
  }

  /**
   * Queued entries in claim order, reading stored ones as the scan reaches them. Stale entries met on the way
   * (removed before they were read) are skipped; `cleanup` receives the writes that delete them.
   */
  *scan(cleanup?: (write: Write) => void): Generator<QueueEntry> {
    for (let rank = 0; rank < 3; rank++) {
      const lane = this.lanes[rank]!;
      lane.readHead = this.advance(lane.read, lane.readHead);
      for (let i = lane.readHead; ;) {
        while (i >= lane.read.length && !lane.exhausted) this.readMore(rank, cleanup);
        if (i >= lane.read.length) break;
        const entry = lane.read[i++]!;
        if (this.byJob.get(entry.jobId) === entry) yield entry;
      }
      if (lane.readHead >= lane.read.length && lane.exhausted && lane.read.length > 0) {
        lane.read.length = 0;
        lane.readHead = 0;
      }
      lane.addedHead = this.advance(lane.added, lane.addedHead);
      for (let i = lane.addedHead; i < lane.added.length; i++) {
        const entry = lane.added[i]!;
        if (this.byJob.get(entry.jobId) === entry) yield entry;
      }
    }
  }

  /** Queue depth by priority. */
  depthByPriority(): Record<Priority, number> {
    return { high: this.depths[0]!, normal: this.depths[1]!, low: this.depths[2]! };
  }

  /** Skips removed entries at the head of a list, compacting it now and then; returns the new head. */
  private advance(list: QueueEntry[], from: number): number {
    let head = from;
    while (head < list.length && this.byJob.get(list[head]!.jobId) !== list[head]) head++;
    if (head > 1024 && head * 2 > list.length) {
      list.splice(0, head);
      head = 0;
    }
    return head;
  }

  /** Reads the next window of a lane's stored entries, skipping stale ones. */
  private readMore(rank: number, cleanup?: (write: Write) => void): void {
    const lane = this.lanes[rank]!;
    let n = 0;
    for (const { key, value } of this.store.range('queue', {
      start: [this.ws, rank, lane.cursor + 1],
      end: [this.ws, rank, this.boundary + 1],
      limit: this.window,
    })) {
      n++;
      const arrival = key[2] as number;
      const v = value as StoredEntry;
      lane.cursor = arrival;
      const tombstone = this.tombstones.get(v.j);
      if (tombstone && arrival < tombstone.before) {
        cleanup?.({ db: 'queue', key: [this.ws, rank, arrival] });
        if (--tombstone.stale === 0) {
          this.tombstones.delete(v.j);
          for (const key of tombstone.keys) cleanup?.({ db: 'queue', key });
        }
        continue;
      }
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
      lane.read.push(entry);
      this.byJob.set(entry.jobId, entry);
    }
    if (n < this.window) lane.exhausted = true;
  }

  private key(entry: QueueEntry): Key {
    return [this.ws, entry.rank, entry.arrival];
  }
}
