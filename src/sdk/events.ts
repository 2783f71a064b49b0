import { OverseerError } from '../core/errors.ts';
import type { JournalRecord } from '../contracts/journal.ts';
import type { EventSubscription } from './transport.ts';

/** Options of `agent.events()`. */
export interface EventStreamOptions {
  /** Yield the records after this seq (default 0: every record the journal still holds). */
  afterSeq?: number;
  /**
   * How often to ask `events.list` for records when none arrived (default 1,000 ms over HTTP, where it is
   * the only source, and 5,000 ms over NATS, where it catches a dropped last record).
   */
  pollMs?: number;
  /** Records per `events.list` page (default 500). */
  pageSize?: number;
}

/** A workspace's journal records in seq order, each once; `close()` ends the iteration. */
export interface EventStream extends AsyncIterable<JournalRecord> {
  close(): void;
}

/** What a stream reads from: a page of `events.list` and, where the transport pushes, live records. */
export interface EventSource {
  list(afterSeq: number, limit: number): Promise<{ events: JournalRecord[]; nextCursor: number | null }>;
  subscribe(onRecord: (record: JournalRecord) => void): EventSubscription | null;
}

/** Live records kept while a gap is being filled; beyond, the newest are dropped (the fill finds them). */
const MAX_BUFFERED = 10_000;

/**
 * Journal records in seq order without gaps or repeats. Seqs are per workspace, gap-free from 1, so a live
 * record whose seq is not the next one shows a gap (core NATS drops messages during a reconnect): the stream
 * pages `events.list` from the last seq it yielded until the gap is closed. With no live records (HTTP, or a
 * quiet NATS) it pages every `pollMs`. A retryable list error waits for the next poll; any other ends the
 * iteration with that error.
 */
export function eventStream(
  source: EventSource,
  options: EventStreamOptions & { pollMs: number; onEnd?: () => void },
): EventStream {
  const pageSize = options.pageSize ?? 500;
  let lastSeq = options.afterSeq ?? 0;
  let closed = false;
  let wake: (() => void) | undefined;
  const live = new Map<number, JournalRecord>();
  const signal = (): void => wake?.();
  let subscription: EventSubscription | null = null;

  async function* iterate(): AsyncGenerator<JournalRecord> {
    subscription = source.subscribe((record) => {
      if (closed || record.seq <= lastSeq || live.size >= MAX_BUFFERED) return;
      live.set(record.seq, record);
      signal();
    });
    let fillNow = true;
    try {
      while (!closed) {
        for (let next = live.get(lastSeq + 1); next; next = live.get(lastSeq + 1)) {
          live.delete(next.seq);
          lastSeq = next.seq;
          yield next;
          if (closed) return;
        }
        for (const seq of live.keys()) if (seq <= lastSeq) live.delete(seq);
        if (!fillNow && live.size === 0) {
          fillNow = await pause(true);
          continue;
        }
        // Live records already here when the page is asked for: the page must reach them.
        const gapEnd = live.size > 0 ? Math.min(...live.keys()) : undefined;
        const page = await listOrNull(lastSeq);
        if (closed) return;
        if (!page) {
          fillNow = await pause(false);
          continue;
        }
        const before = lastSeq;
        for (const record of page.events) {
          if (record.seq <= lastSeq) continue;
          live.delete(record.seq);
          lastSeq = record.seq;
          yield record;
          if (closed) return;
        }
        fillNow = page.nextCursor !== null;
        // The journal does not answer what the live records skipped: take them as they are, not ask forever.
        if (lastSeq === before && gapEnd !== undefined) lastSeq = gapEnd - 1;
      }
    } finally {
      end();
    }
  }

  function end(): void {
    closed = true;
    subscription?.unsubscribe();
    options.onEnd?.();
  }

  async function listOrNull(afterSeq: number) {
    try {
      return await source.list(afterSeq, pageSize);
    } catch (err) {
      if (err instanceof OverseerError && err.retryable) return null;
      throw err;
    }
  }

  /**
   * Waits `pollMs`, or less when `byRecords` and a live record arrives, or the stream closes. Resolves `true`
   * when it is time to poll.
   */
  function pause(byRecords: boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (poll: boolean): void => {
        clearTimeout(timer);
        wake = undefined;
        resolve(poll);
      };
      const timer = setTimeout(() => done(true), options.pollMs);
      wake = () => {
        if (byRecords || closed) done(false);
      };
    });
  }

  const generator = iterate();
  return {
    [Symbol.asyncIterator]: () => generator,
    close() {
      if (closed) return;
      end();
      signal();
    },
  };
}
