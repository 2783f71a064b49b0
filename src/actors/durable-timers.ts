import { MAX_TIMER_DELAY_MS, type Clock } from '../core/clock.ts';
import type { EntityKind } from '../contracts/journal.ts';
import type { Key, Store, Write } from '../store/store.ts';
import { MinHeap } from './min-heap.ts';

/** A deadline that survives restarts (DESIGN §3). */
export interface TimerEntry {
  ws: string;
  kind: EntityKind;
  id: string;
  name: string;
  due: number;
  /** The event delivered to the actor when the timer fires (`at` is added then). */
  event: { type: string } & Record<string, unknown>;
  /** Heartbeat and lease deadlines: re-armed to restart + this when they fell due while no runtime ran. */
  rearmMs: number | null;
}

interface StoredTimer {
  event: TimerEntry['event'];
  rearmMs: number | null;
}

/** The stable identity of a timer: one per (actor, name). */
export const timerId = (ws: string, kind: string, id: string, name: string): string =>
  `${ws}\u0000${kind}\u0000${id}\u0000${name}`;

const storeKey = (t: TimerEntry): Key => [t.ws, t.due, t.kind, t.id, t.name];

/** Whether two entries of one timer fire at the same time with the same event (flat events compare by value). */
function sameTimer(a: TimerEntry, b: TimerEntry): boolean {
  if (a.due !== b.due || a.rearmMs !== b.rearmMs) return false;
  const keys = Object.keys(a.event);
  if (keys.length !== Object.keys(b.event).length) return false;
  for (const k of keys) {
    const v = a.event[k];
    if (v !== b.event[k] || (typeof v === 'object' && v !== null)) return false;
  }
  return true;
}

/**
 * Durable timers: entries in the `timers` database keyed (workspace, due, actor, name), all held in memory with a
 * min-heap; one JS timer serves the earliest. Changes become writes of the batch that makes them.
 */
export class DurableTimers {
  private readonly byId = new Map<string, TimerEntry>();
  private readonly heap = new MinHeap<TimerEntry>((a, b) => a.due < b.due);
  private handle: unknown = null;
  private armedFor = Infinity;
  private readonly clock: Clock;
  private readonly onDue: (entry: TimerEntry) => void;
  private running = false;

  constructor(clock: Clock, onDue: (entry: TimerEntry) => void) {
    this.clock = clock;
    this.onDue = onDue;
  }

  get size(): number {
    return this.byId.size;
  }

  get(ws: string, kind: string, id: string, name: string): TimerEntry | undefined {
    return this.byId.get(timerId(ws, kind, id, name));
  }

  /** Sets (or moves) a timer; returns the writes that make it durable (none when it is set just so already). */
  set(entry: TimerEntry): Write[] {
    const existing = this.byId.get(timerId(entry.ws, entry.kind, entry.id, entry.name));
    // Only a deadline still ahead can be left as it is: one that fell due has left the heap.
    if (existing && sameTimer(existing, entry) && existing.due > this.clock.now()) return [];
    const writes = this.cancel(entry.ws, entry.kind, entry.id, entry.name);
    this.byId.set(timerId(entry.ws, entry.kind, entry.id, entry.name), entry);
    this.heap.push(entry);
    writes.push({
      db: 'timers',
      key: storeKey(entry),
      value: { event: entry.event, rearmMs: entry.rearmMs } satisfies StoredTimer,
    });
    this.arm();
    return writes;
  }

  /** Cancels a timer if set; returns the writes that make it durable. */
  cancel(ws: string, kind: string, id: string, name: string): Write[] {
    const key = timerId(ws, kind, id, name);
    const existing = this.byId.get(key);
    if (!existing) return [];
    this.byId.delete(key);
    return [{ db: 'timers', key: storeKey(existing) }];
  }

  /**
   * Loads every stored timer at start. Heartbeat and lease deadlines that fell due meanwhile are re-armed to
   * `now + rearmMs` (agents must not pay for our downtime); the writes for that are returned. Others stay due.
   */
  load(store: Store, now: number): Write[] {
    const writes: Write[] = [];
    for (const { key, value } of store.range('timers', {})) {
      const [ws, due, kind, id, name] = key as [string, number, EntityKind, string, string];
      const stored = value as StoredTimer;
      const entry: TimerEntry = { ws, kind, id, name, due, event: stored.event, rearmMs: stored.rearmMs };
      if (due <= now && entry.rearmMs !== null) {
        writes.push({ db: 'timers', key });
        entry.due = now + entry.rearmMs;
        writes.push({ db: 'timers', key: storeKey(entry), value: stored });
      }
      this.byId.set(timerId(ws, kind, id, name), entry);
      this.heap.push(entry);
    }
    return writes;
  }

  /** Starts delivering due timers. */
  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
    this.armedFor = Infinity;
  }

  clear(): void {
    this.stop();
    this.byId.clear();
    this.heap.clear();
  }

  private live(entry: TimerEntry): boolean {
    return this.byId.get(timerId(entry.ws, entry.kind, entry.id, entry.name)) === entry;
  }

  private arm(): void {
    if (!this.running) return;
    let top = this.heap.peek();
    while (top && !this.live(top)) {
      this.heap.pop();
      top = this.heap.peek();
    }
    if (!top) return;
    if (this.handle !== null && this.armedFor <= top.due) return;
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.armedFor = top.due;
    const delay = Math.min(Math.max(0, top.due - this.clock.now()), MAX_TIMER_DELAY_MS);
    this.handle = this.clock.setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.handle = null;
    this.armedFor = Infinity;
    const now = this.clock.now();
    for (let top = this.heap.peek(); top && top.due <= now; top = this.heap.peek()) {
      this.heap.pop();
      // onDue cancels the timer in the same transaction that delivers its event.
      if (this.live(top)) this.onDue(top);
    }
    this.arm();
  }
}
