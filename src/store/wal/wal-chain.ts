import { existsSync, readFileSync } from 'node:fs';
import { checkRecord, type RecordHead } from './wal-record.ts';
import { segmentPath } from './wal-files.ts';

/** A record found on the chain: where it lies and its checked header. */
export interface ChainRecord {
  readonly seq: number;
  readonly offset: number;
  readonly head: RecordHead;
  /** The whole segment the record lies in (shared by the records of that segment). */
  readonly buf: Buffer;
}

/**
 * Walks the log from the first record of segment `anchor`: each next record must pass its CRC, carry the previous
 * LSN + 1, and an epoch no older than the previous one's. Where a segment stops yielding such a record, the chain may
 * go on only at offset 0 of the next segment; otherwise the log ends there (a torn tail, zeros, or stale records of a
 * recycled segment or of a lost tail). Stops after `untilLsn` when given.
 */
export function* walkChain(dir: string, anchor: number, untilLsn = Infinity): Generator<ChainRecord> {
  let seq = anchor;
  let buf = readSegment(dir, seq);
  if (!buf) return;
  let offset = 0;
  let prev: RecordHead | null = null;
  for (;;) {
    if (prev && prev.lsn >= untilLsn) return;
    const head = checkRecord(buf, offset);
    if (head && follows(prev, head)) {
      yield { seq, offset, head, buf };
      offset += head.size;
      prev = head;
      continue;
    }
    if (!prev) return;
    const next = readSegment(dir, seq + 1);
    const first = next && checkRecord(next, 0);
    if (!next || !first || !follows(prev, first)) return;
    seq += 1;
    buf = next;
    offset = 0;
  }
}

function follows(prev: RecordHead | null, head: RecordHead): boolean {
  return prev === null || (head.lsn === prev.lsn + 1 && head.epoch >= prev.epoch);
}

function readSegment(dir: string, seq: number): Buffer | null {
  const path = segmentPath(dir, seq);
  return existsSync(path) ? readFileSync(path) : null;
}

/** What recovery learns from the chain: where it ends and, per segment, the newest LSN in it. */
export interface ChainEnd {
  /** First LSN of the chain (null when the log holds no record). */
  readonly firstLsn: number | null;
  /** Last LSN of the chain (null when empty). */
  readonly lastLsn: number | null;
  /** Where the next record goes: the segment of the last record and the offset just after it. */
  readonly seq: number;
  readonly offset: number;
  /** Newest LSN per segment of the chain, oldest segment first. */
  readonly segments: readonly { seq: number; lastLsn: number; endOffset: number }[];
}

/** Walks the whole chain from `anchor` and answers where it ends. */
export function findChainEnd(dir: string, anchor: number): ChainEnd {
  let firstLsn: number | null = null;
  let last: ChainRecord | null = null;
  const segments: { seq: number; lastLsn: number; endOffset: number }[] = [];
  for (const rec of walkChain(dir, anchor)) {
    firstLsn ??= rec.head.lsn;
    const tail = segments.at(-1);
    if (tail?.seq === rec.seq) {
      tail.lastLsn = rec.head.lsn;
      tail.endOffset = rec.offset + rec.head.size;
    } else {
      segments.push({ seq: rec.seq, lastLsn: rec.head.lsn, endOffset: rec.offset + rec.head.size });
    }
    last = rec;
  }
  return {
    firstLsn,
    lastLsn: last ? last.head.lsn : null,
    seq: last ? last.seq : anchor,
    offset: last ? last.offset + last.head.size : 0,
    segments,
  };
}
