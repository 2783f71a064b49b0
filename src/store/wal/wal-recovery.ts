import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { OverseerError } from '../../core/errors.ts';
import { findChainEnd, type ChainEnd } from './wal-chain.ts';
import {
  listSegments,
  preallocateSegment,
  readControl,
  segmentPath,
  syncDir,
  writeControl,
  type WalControl,
} from './wal-files.ts';

/** What opening a WAL directory found and settled before the first append. */
export interface Recovered {
  readonly control: WalControl;
  readonly end: ChainEnd;
  /** The newest LSN of the log (the checkpoint's when the chain holds none). */
  readonly lastLsn: number;
  /** Every segment file, ascending. */
  readonly files: readonly number[];
}

/** How many segments a WAL of this lag bound preallocates: the lag bound twice over, and one more. */
export function segmentCount(maxLagBytes: number, segmentBytes: number): number {
  return Math.max(3, Math.ceil((2 * maxLagBytes) / segmentBytes) + 1);
}

/** The command an operator runs when the WAL refuses to open. */
export const repairCommand = (dir: string): string => `overseer wal repair ${dir}`;

function corrupt(dir: string, why: string, details: Record<string, unknown>): OverseerError {
  return new OverseerError(
    'STORAGE_UNAVAILABLE',
    `The write-ahead log in ${dir} is corrupt: ${why}. Records known durable are missing; inspect the disk, then ` +
      `run \`${repairCommand(dir)}\` to cut the log at its last whole record (losing what follows).`,
    { reason: 'wal_corrupt', never: true, dir, repair: repairCommand(dir), ...details },
  );
}

/**
 * Opens (or creates) the WAL directory: preallocates segments on first use, walks the chain from the anchor, refuses
 * to open when a record known durable (at or below `appliedLsn`, the control file's checkpoint, or `durableLsn`) is
 * missing or bad, and starts a new epoch. The records it keeps as the log are synced before it answers.
 */
export function recoverWal(options: {
  dir: string;
  segmentBytes: number;
  maxLagBytes: number;
  appliedLsn: number;
  durableLsn: number;
}): Recovered {
  const { dir, appliedLsn } = options;
  mkdirSync(dir, { recursive: true });
  let control = readControl(dir);
  if (!control) {
    // No control file: nothing was ever appended here (appends start after it is written). Start over.
    for (const seq of listSegments(dir)) rmSync(segmentPath(dir, seq));
    for (let seq = 1; seq <= segmentCount(options.maxLagBytes, options.segmentBytes); seq++)
      preallocateSegment(dir, seq, options.segmentBytes);
    syncDir(dir);
    control = { v: 1, epoch: 0, anchor: 1, checkpointLsn: 0, segmentBytes: options.segmentBytes };
    writeControl(dir, control);
  }
  if (appliedLsn < control.checkpointLsn)
    throw corrupt(
      dir,
      `the checkpoint says LSN ${appliedLsn} but the WAL recycled through ${control.checkpointLsn}`,
      {
        appliedLsn,
        checkpointLsn: control.checkpointLsn,
      },
    );
  const end = findChainEnd(dir, control.anchor);
  const lastLsn = end.lastLsn ?? control.checkpointLsn;
  const where = { segment: end.seq, offset: end.offset, lastLsn };
  if (end.firstLsn !== null && end.firstLsn > appliedLsn + 1)
    throw corrupt(dir, `the log starts at LSN ${end.firstLsn}, after the applied LSN ${appliedLsn} + 1`, {
      ...where,
      appliedLsn,
    });
  if (lastLsn < appliedLsn)
    throw corrupt(dir, `the log ends at LSN ${lastLsn}, before the applied LSN ${appliedLsn}`, {
      ...where,
      appliedLsn,
    });
  const known = Math.max(options.durableLsn, control.checkpointLsn);
  const cutAccepted = control.cutLsn !== undefined && lastLsn >= control.cutLsn;
  if (lastLsn < known && !cutAccepted)
    throw corrupt(dir, `the log ends at LSN ${lastLsn}, but LSN ${known} is known durable`, {
      ...where,
      durableLsn: known,
    });

  // What the chain holds becomes the log: make it durable before anyone replays it.
  for (const seg of end.segments) {
    const fd = openSync(segmentPath(dir, seg.seq), 'r+');
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  let files = listSegments(dir);
  const wanted = segmentCount(options.maxLagBytes, control.segmentBytes);
  if (files.length < wanted) {
    let next = (files.at(-1) ?? 0) + 1;
    for (let i = files.length; i < wanted; i++) preallocateSegment(dir, next++, control.segmentBytes);
    syncDir(dir);
    files = listSegments(dir);
  }
  control = { ...control, epoch: control.epoch + 1 };
  writeControl(dir, control);
  return { control, end, lastLsn, files };
}

/**
 * Repair after a refused open: accepts that the log ends at its last whole record (what follows is lost) and records
 * that cut in the control file, so the next open succeeds. Answers the LSN the log now ends at.
 */
export function repairWal(dir: string): { lastLsn: number } {
  const control = readControl(dir);
  if (!control) throw new OverseerError('NOT_FOUND', `No write-ahead log in ${dir}.`, { dir });
  const end = findChainEnd(dir, control.anchor);
  const lastLsn = end.lastLsn ?? control.checkpointLsn;
  writeControl(dir, { ...control, cutLsn: lastLsn });
  return { lastLsn };
}
