import { writeSync } from 'node:fs';
import { OverseerError } from '../../core/errors.ts';
import type { Durability } from '../store.ts';
import type { WalOptions, WalStats } from './wal-options.ts';
import { takeGroups, type Pending, type Taken } from './take-groups.ts';
import { CrashPoints, WalCrashStep } from './crash-point.ts';
import { findChainEnd, walkChain } from './wal-chain.ts';
import { nodeWalIo, type WalIo } from './wal-io.ts';
import { SegmentPool } from './segment-pool.ts';
import { recoverWal } from './wal-recovery.ts';
import { decodeRecord, recordBytes, type WalEntry, type WalRecord } from './wal-record.ts';

export type { WalOptions, WalStats } from './wal-options.ts';
export type { WalEntry, WalOp, WalRecord } from './wal-record.ts';

const MiB = 1 << 20;

/**
 * A group-commit write-ahead log: preallocated, recycled segments of checksummed, sequence-numbered records, one
 * record per workspace per commit group. Appends that arrive while a write (+ fdatasync) is in flight form the next
 * group. Not yet in the commit path: see docs/durability.md, "The write-ahead log".
 *
 * @example
 * const wal = await Wal.open({ dir, durability: 'flush', appliedLsn });
 * for (const record of wal.readFrom(appliedLsn)) apply(record);
 * const lsn = await wal.append([{ workspaceId: 'acme', ops: [{ db: 'actors', op: 'put', key, value }] }]);
 */
export class Wal {
  readonly durability: Durability;
  readonly dir: string;
  readonly segmentBytes: number;
  readonly maxLagBytes: number;
  private readonly syncIntervalMs: number;
  private readonly io: WalIo;
  private readonly crash: CrashPoints;
  private readonly segments: SegmentPool;
  /** The write position: the next record goes to segment `seq` at `offset`. */
  private seq: number;
  private offset: number;
  private readonly dirty = new Set<number>();
  private nextLsn: number;
  private writtenLsn: number;
  private syncedLsn: number;
  private checkpointLsn: number;
  /** (newest LSN, logical end position) of each group written since the checkpoint, for the lag. */
  private marks: { lsn: number; pos: number }[] = [];
  private checkpointPos: number;
  private pending: Pending[] = [];
  /** 'commit' mode: records acknowledged but not synced yet, rewritten after a failed fdatasync. */
  private unsynced: { seq: number; offset: number; buf: Buffer; lsn: number }[] = [];
  /** Set after a failed write or fdatasync: spans to zero before anything else is written. */
  private broken: { seq: number; offset: number; bytes: number }[] | null = null;
  private loop: Promise<void> | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private syncRequested = false;
  private closing = false;
  private closed = false;
  private readonly counters = { groups: 0, records: 0, syncs: 0, failures: 0 };

  private constructor(options: WalOptions, recovered: ReturnType<typeof recoverWal>) {
    this.dir = options.dir;
    this.durability = options.durability;
    this.segmentBytes = recovered.control.segmentBytes;
    this.maxLagBytes = options.maxLagBytes ?? 64 * MiB;
    this.syncIntervalMs = options.syncIntervalMs ?? 1000;
    this.io = options.io ?? nodeWalIo;
    const crash = new CrashPoints(options.crashAt ?? process.env['OVERSEER_CRASH_AT']);
    this.crash = crash;
    const { control, end, lastLsn, files } = recovered;
    this.segments = new SegmentPool(options.dir, control, files, end.segments, crash);
    this.seq = end.seq;
    this.offset = end.offset;
    this.nextLsn = lastLsn + 1;
    this.writtenLsn = this.syncedLsn = lastLsn;
    this.checkpointLsn = Math.max(options.appliedLsn ?? 0, control.checkpointLsn);
    this.marks = end.segments.map((s) => ({ lsn: s.lastLsn, pos: this.pos(s.seq, s.endOffset) }));
    this.checkpointPos = this.pos(control.anchor, 0);
    this.dropMarks();
  }

  /** Opens the WAL in `options.dir` (creating it on first use) after recovery; see `recoverWal` for what it refuses. */
  static open(options: WalOptions): Promise<Wal> {
    try {
      const segmentBytes = options.segmentBytes ?? 16 * MiB;
      const maxLagBytes = options.maxLagBytes ?? 64 * MiB;
      if (!(segmentBytes >= 4096) || !(maxLagBytes >= 1))
        throw new OverseerError('VALIDATION_FAILED', 'segmentBytes must be ≥ 4096 and maxLagBytes ≥ 1.', {
          paths: ['segmentBytes', 'maxLagBytes'],
        });
      const recovered = recoverWal({
        dir: options.dir,
        segmentBytes,
        maxLagBytes,
        appliedLsn: options.appliedLsn ?? 0,
        durableLsn: options.durableLsn ?? 0,
      });
      return Promise.resolve(new Wal(options, recovered));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Appends one commit group (one entry per workspace; each becomes a record with its own LSN) and resolves with the
   * group's newest LSN once it is as durable as the mode promises. Past the lag bound it waits for a checkpoint,
   * never fails for it. A failed write or fdatasync rejects the group with `STORAGE_UNAVAILABLE` (retryable).
   */
  append(entries: readonly WalEntry[]): Promise<number> {
    if (this.closing) return Promise.reject(new OverseerError('STORAGE_UNAVAILABLE', 'The WAL is closed.'));
    if (entries.length === 0)
      return Promise.reject(
        new OverseerError('VALIDATION_FAILED', 'A commit group needs at least one record.'),
      );
    let bytes = 0;
    for (const entry of entries) {
      const n = recordBytes(entry);
      if (n > this.segmentBytes)
        return Promise.reject(
          new OverseerError('VALIDATION_FAILED', `A WAL record of ${n} bytes exceeds the segment size.`, {
            bytes: n,
            segmentBytes: this.segmentBytes,
          }),
        );
      bytes += n;
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ entries, bytes, resolve, reject });
      this.kick();
    });
  }

  /**
   * The records after `afterLsn`, oldest first, up to the newest written when called. Records at or below the last
   * recycling's checkpoint may be gone: asking for them throws `VALIDATION_FAILED`.
   */
  *readFrom(afterLsn: number): Generator<WalRecord> {
    const until = this.writtenLsn;
    if (afterLsn >= until) return;
    let first = true;
    for (const rec of walkChain(this.dir, this.segments.anchor, until)) {
      if (first && rec.head.lsn > afterLsn + 1)
        throw new OverseerError('VALIDATION_FAILED', `The WAL no longer holds LSN ${afterLsn + 1}.`, {
          afterLsn,
          firstLsn: rec.head.lsn,
        });
      first = false;
      if (rec.head.lsn > afterLsn) yield decodeRecord(rec.buf, rec.offset, rec.head);
    }
  }

  /**
   * The checkpointer's report: everything up to `lsn` is durable in LMDB. Segments wholly at or below it may be
   * recycled, and appends waiting on the lag bound go on. `lsn` may not pass the synced LSN.
   */
  checkpointed(lsn: number): void {
    if (lsn > this.syncedLsn)
      throw new OverseerError(
        'VALIDATION_FAILED',
        `Checkpoint LSN ${lsn} is past the synced LSN ${this.syncedLsn}.`,
        {
          lsn,
          syncedLsn: this.syncedLsn,
        },
      );
    if (lsn <= this.checkpointLsn) return;
    this.checkpointLsn = lsn;
    this.dropMarks();
    this.kick();
  }

  /** Positions and counters. */
  stats(): WalStats {
    return {
      epoch: this.segments.epoch,
      writtenLsn: this.writtenLsn,
      syncedLsn: this.syncedLsn,
      checkpointLsn: this.checkpointLsn,
      lagBytes: this.pos(this.seq, this.offset) - this.checkpointPos,
      pending: this.pending.length,
      ...this.counters,
      recycles: this.segments.recycles,
    };
  }

  /** Writes and syncs what is queued (appends still waiting on the lag bound are rejected), then closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    while (this.loop) await this.loop;
    const err = new OverseerError('STORAGE_UNAVAILABLE', 'The WAL closed before this group was written.');
    for (const p of this.pending.splice(0)) p.reject(err);
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    if (!this.broken && this.writtenLsn > this.syncedLsn) await this.sync().catch(() => undefined);
    this.segments.closeExcept(new Set());
    this.closed = true;
  }

  /** The logical byte position of (seq, offset): grows monotonically as the writer moves on. */
  private pos(seq: number, offset: number): number {
    return seq * this.segmentBytes + offset;
  }

  private dropMarks(): void {
    let i = 0;
    while (i < this.marks.length && this.marks[i]!.lsn <= this.checkpointLsn) {
      this.checkpointPos = Math.max(this.checkpointPos, this.marks[i]!.pos);
      i++;
    }
    if (i > 0) this.marks = this.marks.slice(i);
  }

  private kick(): void {
    this.loop ??= this.run().finally(() => {
      this.loop = null;
    });
  }

  /** The writer: one round at a time (a group's write, then its fdatasync in 'flush'); what arrives meanwhile waits. */
  private async run(): Promise<void> {
    for (;;) {
      if (this.broken && !(await this.reopen())) return;
      if (this.syncRequested && this.writtenLsn > this.syncedLsn) {
        this.syncRequested = false;
        try {
          await this.sync();
        } catch (err) {
          this.failed(err, [], []);
        }
        continue;
      }
      let taken: Taken | null;
      try {
        taken = this.take();
      } catch (err) {
        const group = this.pending.shift();
        this.failed(err, group ? [group] : [], []);
        continue;
      }
      if (!taken) return;
      await this.writeRound(taken);
    }
  }

  /** Takes the queued groups that fit under the lag bound, assigns their LSNs and lays their records out. */
  private take(): Taken | null {
    return takeGroups(this.pending, {
      seq: this.seq,
      offset: this.offset,
      nextLsn: this.nextLsn,
      epoch: this.segments.epoch,
      segmentBytes: this.segmentBytes,
      maxLagBytes: this.maxLagBytes,
      lag: (seq, offset) => this.pos(seq, offset) - this.checkpointPos,
      ensure: (seq) => this.segments.ensure(seq, this.checkpointLsn, this.seq),
    });
  }

  private async writeRound(taken: Taken): Promise<void> {
    const start = { seq: this.seq, offset: this.offset };
    const spans = taken.chunks.map((c) => ({ seq: c.seq, offset: c.offset, bytes: c.bytes }));
    const groups = taken.groups.map((g) => g.p);
    this.crash.reach(WalCrashStep.WRITE);
    const written: { seq: number; offset: number; buf: Buffer }[] = [];
    try {
      for (const c of taken.chunks) {
        const buf = c.bufs.length === 1 ? c.bufs[0]! : Buffer.concat(c.bufs, c.bytes);
        const fd = this.segments.fd(c.seq);
        this.dirty.add(c.seq);
        if (this.crash.due(WalCrashStep.WRITE_TORN)) writeSync(fd, buf, 0, buf.length >> 1, c.offset);
        this.crash.reach(WalCrashStep.WRITE_TORN);
        await this.io.write(fd, buf, c.offset);
        written.push({ seq: c.seq, offset: c.offset, buf });
      }
    } catch (err) {
      this.seq = start.seq;
      this.offset = start.offset;
      this.failed(err, groups, spans);
      return;
    }
    this.crash.reach(WalCrashStep.WRITTEN);
    this.seq = taken.end.seq;
    this.offset = taken.end.offset;
    this.nextLsn = taken.lastLsn + 1;
    this.writtenLsn = taken.lastLsn;
    const before = new Map(taken.chunks.map((c) => [c.seq, this.segments.lastLsn(c.seq)]));
    for (const c of taken.chunks) this.segments.setLastLsn(c.seq, taken.lastLsn);
    for (const g of taken.groups) this.marks.push({ lsn: g.lastLsn, pos: this.pos(this.seq, this.offset) });
    this.counters.groups += taken.groups.length;
    this.counters.records += taken.groups.reduce((n, g) => n + g.p.entries.length, 0);
    if (this.durability === 'commit') {
      for (const w of written) this.unsynced.push({ ...w, lsn: taken.lastLsn });
      for (const g of taken.groups) g.p.resolve(g.lastLsn);
      this.armSyncTimer();
      return;
    }
    try {
      await this.sync();
    } catch (err) {
      // Not acknowledged: the group is failed, and its LSNs and bytes are taken back.
      this.seq = start.seq;
      this.offset = start.offset;
      this.nextLsn = this.writtenLsn = this.syncedLsn;
      this.marks = this.marks.filter((m) => m.lsn <= this.syncedLsn);
      for (const [seq, last] of before) this.segments.setLastLsn(seq, last);
      this.failed(err, groups, spans);
      return;
    }
    for (const g of taken.groups) g.p.resolve(g.lastLsn);
  }

  /** fdatasync of every segment written since the last one; then what was written is synced. */
  private async sync(): Promise<void> {
    const upTo = this.writtenLsn;
    const seqs = [...this.dirty];
    this.dirty.clear();
    try {
      for (const seq of seqs) await this.io.datasync(this.segments.fd(seq));
    } catch (err) {
      for (const seq of seqs) this.dirty.add(seq);
      throw err;
    }
    this.crash.reach(WalCrashStep.SYNCED);
    this.counters.syncs += 1;
    if (upTo > this.syncedLsn) this.syncedLsn = upTo;
    this.unsynced = this.unsynced.filter((u) => u.lsn > upTo);
    this.segments.closeExcept(new Set([this.seq, ...this.dirty]));
  }

  private armSyncTimer(): void {
    if (this.syncTimer || this.writtenLsn <= this.syncedLsn) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      this.syncRequested = true;
      this.kick();
    }, this.syncIntervalMs);
    this.syncTimer.unref();
  }

  /** A write or fdatasync failed: its groups get `STORAGE_UNAVAILABLE`; nothing more is written until a reopen. */
  private failed(
    cause: unknown,
    groups: Pending[],
    spans: { seq: number; offset: number; bytes: number }[],
  ): void {
    this.counters.failures += 1;
    this.nextLsn = this.writtenLsn + 1;
    this.broken = [...(this.broken ?? []), ...spans];
    const err = new OverseerError(
      'STORAGE_UNAVAILABLE',
      'The write-ahead log could not write or sync.',
      {},
      { cause },
    );
    for (const p of groups) p.reject(err);
  }

  /**
   * After a failure: every descriptor is closed and reopened (a failed fdatasync is never retried on the same one),
   * acknowledged records not yet synced are written again, the failed spans are zeroed, all is synced, and the chain
   * read back must end where memory says. On failure every queued group is rejected and the next append tries again.
   */
  private async reopen(): Promise<boolean> {
    const spans = this.broken ?? [];
    try {
      this.segments.closeExcept(new Set());
      this.dirty.clear();
      for (const u of this.unsynced) {
        await this.io.write(this.segments.fd(u.seq), u.buf, u.offset);
        this.dirty.add(u.seq);
      }
      for (const s of spans) {
        await this.io.write(this.segments.fd(s.seq), Buffer.alloc(s.bytes), s.offset);
        this.dirty.add(s.seq);
      }
      this.dirty.add(this.seq);
      for (const seq of this.dirty) await this.io.datasync(this.segments.fd(seq));
      this.dirty.clear();
      const end = findChainEnd(this.dir, this.segments.anchor);
      const last = end.lastLsn ?? this.segments.checkpointLsn;
      if (last !== this.writtenLsn || end.seq !== this.seq || end.offset !== this.offset)
        throw new Error(`WAL verify after reopen: chain ends at LSN ${last}, expected ${this.writtenLsn}`);
    } catch (err) {
      this.counters.failures += 1;
      const rejection = new OverseerError(
        'STORAGE_UNAVAILABLE',
        'The write-ahead log is unavailable.',
        {},
        { cause: err },
      );
      for (const p of this.pending.splice(0)) p.reject(rejection);
      return false;
    }
    this.syncedLsn = this.writtenLsn;
    this.unsynced = [];
    this.broken = null;
    return true;
  }
}
