import { describe, expect, it } from 'vitest';
import { OverseerError } from '../../src/core/errors.ts';
import type { JournalRecord } from '../../src/contracts/journal.ts';
import { eventStream, type EventSource } from '../../src/sdk/events.ts';

const record = (seq: number): JournalRecord => ({
  seq,
  at: seq,
  workspaceId: 'acme',
  kind: 'job',
  id: `job_${seq}`,
  event: 'jobs.submit',
  from: null,
  to: 'QUEUED',
  severity: 'info',
  principal: 'tester',
  reason: null,
});

/**
 * A journal the test writes to, served like `events.list` (records after a seq, paged) and, like NATS,
 * pushed to subscribers — or not, for the records `publish: false` leaves out (a drop during a reconnect).
 */
function journal() {
  const records: JournalRecord[] = [];
  const subscribers = new Set<(r: JournalRecord) => void>();
  let failures: OverseerError[] = [];
  const source: EventSource = {
    list(afterSeq, limit) {
      const failure = failures.shift();
      if (failure) return Promise.reject(failure);
      const after = records.filter((r) => r.seq > afterSeq);
      const events = after.slice(0, limit);
      return Promise.resolve({
        events,
        nextCursor: after.length > limit ? events[events.length - 1]!.seq : null,
      });
    },
    subscribe(onRecord) {
      subscribers.add(onRecord);
      return { unsubscribe: () => subscribers.delete(onRecord) };
    },
  };
  return {
    source,
    subscribers,
    append(seq: number, { publish = true, store = true } = {}) {
      const r = record(seq);
      if (store) records.push(r);
      if (publish) for (const s of subscribers) s(r);
    },
    failNext(...errors: OverseerError[]) {
      failures = errors;
    },
  };
}

async function take(stream: AsyncIterable<JournalRecord>, n: number): Promise<number[]> {
  const seqs: number[] = [];
  if (n === 0) return seqs;
  for await (const r of stream) {
    seqs.push(r.seq);
    if (seqs.length >= n) break;
  }
  return seqs;
}

describe('the event stream', () => {
  it('yields each record once, in seq order, though live records repeat and skip', async () => {
    const j = journal();
    for (const seq of [1, 2, 3]) j.append(seq);
    const stream = eventStream(j.source, { pollMs: 60_000, pageSize: 2 });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.seq).toBe(1);
    expect((await iterator.next()).value?.seq).toBe(2);
    expect((await iterator.next()).value?.seq).toBe(3);
    j.append(4);
    j.append(4, { store: false }); // published again (an outbox replay after a crash)
    j.append(5, { publish: false }); // dropped in flight
    j.append(6);
    const rest = [];
    for (let i = 0; i < 3; i++) rest.push((await iterator.next()).value?.seq);
    expect(rest).toEqual([4, 5, 6]);
    stream.close();
    expect((await iterator.next()).done).toBe(true);
    expect(j.subscribers.size).toBe(0);
  });

  it('goes on past seqs the journal no longer holds', async () => {
    const j = journal();
    j.append(1);
    const stream = eventStream(j.source, { pollMs: 60_000 });
    const iterator = stream[Symbol.asyncIterator]();
    expect((await iterator.next()).value?.seq).toBe(1);
    j.append(2, { publish: false, store: false }); // trimmed by retention
    j.append(3);
    expect((await iterator.next()).value?.seq).toBe(3);
    // A live record the journal does not answer at all is taken as it is, not asked for forever.
    j.append(5, { store: false });
    expect((await iterator.next()).value?.seq).toBe(5);
    stream.close();
  });

  it('waits for the next poll after a retryable error, and ends with any other', async () => {
    const j = journal();
    j.append(1);
    j.failNext(new OverseerError('STORAGE_UNAVAILABLE'));
    const started = Date.now();
    const polled = eventStream(j.source, { pollMs: 200 });
    expect(await take(polled, 1)).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);

    j.failNext(new OverseerError('INSUFFICIENT_SCOPE'));
    const refused = eventStream(j.source, { pollMs: 200 });
    await expect(take(refused, 1)).rejects.toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    expect(j.subscribers.size).toBe(0);
  });

  it('ends a pending read on close', async () => {
    const j = journal();
    const stream = eventStream(j.source, { pollMs: 60_000 });
    const pending = stream[Symbol.asyncIterator]().next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    stream.close();
    expect((await pending).done).toBe(true);
  });
});
