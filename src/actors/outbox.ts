import type { JournalRecord } from '../contracts/journal.ts';
import type { Key, Store, Write } from '../store/store.ts';

/** An outbox entry: the journal records of one workspace in one batch, to publish after the commit. */
interface OutboxEntry {
  from: number;
  to: number;
}

/** The outbox write for a batch's records of one workspace; its key is the first seq, unique per workspace. */
export function outboxWrite(ws: string, records: readonly JournalRecord[]): Write {
  const from = records[0]!.seq;
  return {
    db: 'outbox',
    key: [ws, from],
    value: { from, to: records[records.length - 1]!.seq } satisfies OutboxEntry,
  };
}

export const outboxDone = (ws: string, from: number): Write => ({ db: 'outbox', key: [ws, from] });

/** Entries not marked done at a crash: their records, read back from the journal, to publish again. */
export function pendingOutbox(store: Store): { key: Key; records: JournalRecord[] }[] {
  const out: { key: Key; records: JournalRecord[] }[] = [];
  for (const { key, value } of store.range('outbox', {})) {
    const [ws] = key as [string, number];
    const entry = value as OutboxEntry;
    const records: JournalRecord[] = [];
    for (const r of store.range('journal', { start: [ws, entry.from], end: [ws, entry.to + 1] }))
      records.push(r.value as JournalRecord);
    out.push({ key, records });
  }
  return out;
}
