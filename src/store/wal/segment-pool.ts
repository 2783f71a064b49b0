import { closeSync, openSync, renameSync } from 'node:fs';
import type { CrashPoints } from './crash-point.ts';
import { WalCrashStep } from './crash-point.ts';
import { segmentPath, syncDir, writeControl, type WalControl } from './wal-files.ts';

/**
 * The WAL's segment files: their descriptors, the newest LSN of each live one (anchor … write segment), and
 * recycling. Segments are numbered in log order; the writer always moves from `seq` to `seq + 1`, which is a
 * preallocated spare or a segment below the anchor renamed after the control file has moved the anchor past it.
 */
export class SegmentPool {
  private control: WalControl;
  private free: number[];
  private maxSeq: number;
  private readonly last = new Map<number, number>();
  private readonly fds = new Map<number, number>();
  /** Segments renamed into place so far. */
  recycles = 0;

  constructor(
    private readonly dir: string,
    control: WalControl,
    files: readonly number[],
    live: readonly { seq: number; lastLsn: number }[],
    private readonly crash: CrashPoints,
  ) {
    this.control = control;
    this.free = files.filter((s) => s < control.anchor);
    this.maxSeq = files.at(-1) ?? control.anchor;
    for (const s of live) this.last.set(s.seq, s.lastLsn);
  }

  /** The oldest live segment: recovery reads the chain from its first record. */
  get anchor(): number {
    return this.control.anchor;
  }

  get epoch(): number {
    return this.control.epoch;
  }

  /** The checkpoint LSN the control file holds. */
  get checkpointLsn(): number {
    return this.control.checkpointLsn;
  }

  /** The newest LSN written to segment `seq` (undefined for a segment not written since it became live). */
  lastLsn(seq: number): number | undefined {
    return this.last.get(seq);
  }

  /** Records (or, with undefined, forgets) the newest LSN written to segment `seq`. */
  setLastLsn(seq: number, lsn: number | undefined): void {
    if (lsn === undefined) this.last.delete(seq);
    else this.last.set(seq, lsn);
  }

  /** The open descriptor of segment `seq` (opened on first use). */
  fd(seq: number): number {
    let fd = this.fds.get(seq);
    if (fd === undefined) {
      fd = openSync(segmentPath(this.dir, seq), 'r+');
      this.fds.set(seq, fd);
    }
    return fd;
  }

  /** Closes every descriptor but those of `keep`. */
  closeExcept(keep: ReadonlySet<number>): void {
    for (const [seq, fd] of this.fds)
      if (!keep.has(seq)) {
        closeSync(fd);
        this.fds.delete(seq);
      }
  }

  /**
   * Makes segment `seq` (after the write segment) exist: a spare, or the oldest segment below `writeSeq` (where the
   * round being laid out starts writing) wholly at or below `checkpointLsn`, recycled — the control file names the new anchor first (durably), then the file is renamed and
   * the directory synced. False when no segment is free yet.
   */
  ensure(seq: number, checkpointLsn: number, writeSeq: number): boolean {
    if (seq <= this.maxSeq) return true;
    const from = this.control.anchor;
    let anchor = from;
    while (anchor < writeSeq && (this.last.get(anchor) ?? Infinity) <= checkpointLsn) anchor++;
    if (anchor > from) {
      const cut = this.control.cutLsn;
      const control = {
        ...this.control,
        anchor,
        checkpointLsn,
        cutLsn: cut !== undefined && cut >= checkpointLsn ? cut : undefined,
      };
      writeControl(this.dir, control);
      this.control = control;
      for (let s = from; s < anchor; s++) {
        // Wholly checkpointed, so synced: nothing is pending on these descriptors.
        const fd = this.fds.get(s);
        if (fd !== undefined) closeSync(fd);
        this.fds.delete(s);
        this.last.delete(s);
        this.free.push(s);
      }
      this.crash.reach(WalCrashStep.RECYCLE);
    }
    const old = this.free.shift();
    if (old === undefined) return false;
    renameSync(segmentPath(this.dir, old), segmentPath(this.dir, seq));
    this.crash.reach(WalCrashStep.RECYCLED);
    syncDir(this.dir);
    this.maxSeq = seq;
    this.recycles += 1;
    return true;
  }
}
