import { encodeRecord, type WalEntry } from './wal-record.ts';

/** An append waiting for the writer. */
export interface Pending {
  entries: readonly WalEntry[];
  /** Encoded size of its records. */
  bytes: number;
  resolve: (lsn: number) => void;
  reject: (err: unknown) => void;
}

/** Contiguous bytes for one segment: what one write() puts there. */
export interface Chunk {
  seq: number;
  offset: number;
  bufs: Buffer[];
  bytes: number;
}

/** One writer round: the groups taken, their LSNs, the writes, and where the write position ends. */
export interface Taken {
  groups: { p: Pending; lastLsn: number }[];
  chunks: Chunk[];
  lastLsn: number;
  end: { seq: number; offset: number };
}

/** Where the writer stands, and what it may use. */
export interface TakeState {
  seq: number;
  offset: number;
  nextLsn: number;
  epoch: number;
  segmentBytes: number;
  maxLagBytes: number;
  /** Bytes of log past the checkpoint once the write position is at (seq, offset). */
  lag(seq: number, offset: number): number;
  /** Makes segment `seq` exist (a spare or a recycled one); false when none is free yet. */
  ensure(seq: number): boolean;
}

/**
 * Takes from the head of `pending` every group that fits under the lag bound (the first one always, when nothing is
 * past the checkpoint) and has segment room, assigns consecutive LSNs, and encodes the records into per-segment
 * chunks. A record never spans segments: one that does not fit moves to offset 0 of the next. Null when none fits;
 * throws (taking nothing) when making a segment for the first group fails.
 */
export function takeGroups(pending: Pending[], state: TakeState): Taken | null {
  const chunks: Chunk[] = [];
  const groups: Taken['groups'] = [];
  let { seq, offset } = state;
  let lsn = state.nextLsn;
  while (pending.length > 0) {
    const p = pending[0]!;
    const lag = state.lag(seq, offset);
    // Past the bound the group waits for a checkpoint; a group larger than the bound goes alone, once all is checkpointed.
    if (lag + p.bytes > state.maxLagBytes && !(lag === 0 && groups.length === 0)) break;
    const planned: Chunk[] = [];
    let s = seq;
    let o = offset;
    let ok = true;
    let k = lsn;
    for (const entry of p.entries) {
      const buf = encodeRecord(k++, state.epoch, entry);
      if (o + buf.length > state.segmentBytes) {
        let ready: boolean;
        try {
          ready = state.ensure(s + 1);
        } catch (err) {
          // Groups already taken go out now; the failure meets the next round's first group.
          if (groups.length > 0) ready = false;
          else throw err;
        }
        if (!ready) {
          ok = false;
          break;
        }
        s += 1;
        o = 0;
      }
      const last = planned.at(-1);
      if (last?.seq === s) {
        last.bufs.push(buf);
        last.bytes += buf.length;
      } else planned.push({ seq: s, offset: o, bufs: [buf], bytes: buf.length });
      o += buf.length;
    }
    if (!ok) break;
    pending.shift();
    lsn += p.entries.length;
    groups.push({ p, lastLsn: lsn - 1 });
    for (const c of planned) {
      const last = chunks.at(-1);
      if (last?.seq === c.seq && last.offset + last.bytes === c.offset) {
        last.bufs.push(...c.bufs);
        last.bytes += c.bytes;
      } else chunks.push(c);
    }
    seq = s;
    offset = o;
  }
  if (groups.length === 0) return null;
  return { groups, chunks, lastLsn: lsn - 1, end: { seq, offset } };
}
