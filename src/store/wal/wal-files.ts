import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** The WAL's control file: what recovery needs besides the segments, replaced atomically. */
export interface WalControl {
  readonly v: 1;
  /** Bumped (and synced) at every open and after every failed write: records of older epochs never extend a newer chain. */
  readonly epoch: number;
  /** The oldest segment not recycled: recovery reads the chain from its first record. */
  readonly anchor: number;
  /** The newest LSN a checkpoint was said to cover when the anchor last moved. */
  readonly checkpointLsn: number;
  readonly segmentBytes: number;
  /** Set by a repair: the log was cut after this LSN on purpose, so a shorter log than claimed durable is accepted. */
  readonly cutLsn?: number | undefined;
}

const CONTROL = 'wal.ctl';
const SEGMENT = /^seg-(\d{16})\.wal$/;

/** Path of segment `seq` (fixed-width decimal, so names sort in seq order). */
export function segmentPath(dir: string, seq: number): string {
  return join(dir, `seg-${String(seq).padStart(16, '0')}.wal`);
}

/** The seqs of the segment files in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  const seqs: number[] = [];
  for (const name of readdirSync(dir)) {
    const m = SEGMENT.exec(name);
    if (m) seqs.push(Number(m[1]));
  }
  return seqs.sort((a, b) => a - b);
}

/** fsync of a directory: makes a create or rename in it durable. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates segment `seq` filled with zeros by writing them (never ftruncate or fallocate: unwritten extents would turn
 * every later fdatasync into a metadata write), synced, under a temp name renamed into place.
 */
export function preallocateSegment(dir: string, seq: number, bytes: number): void {
  const path = segmentPath(dir, seq);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const zeros = Buffer.alloc(Math.min(bytes, 1 << 20));
    for (let at = 0; at < bytes; at += zeros.length) {
      const n = Math.min(zeros.length, bytes - at);
      let done = 0;
      while (done < n) done += writeSync(fd, zeros, done, n - done, at + done);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Reads the control file, or null for a directory that holds no WAL yet. */
export function readControl(dir: string): WalControl | null {
  const path = join(dir, CONTROL);
  if (!existsSync(path)) return null;
  const control = JSON.parse(readFileSync(path, 'utf8')) as WalControl;
  if (control.v !== 1) throw new Error(`unknown WAL control version ${String(control.v)} in ${path}`);
  return control;
}

/** Replaces the control file atomically and durably (temp file, fdatasync, rename, directory fsync). */
export function writeControl(dir: string, control: WalControl): void {
  const path = join(dir, CONTROL);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    const body = Buffer.from(JSON.stringify(control));
    let done = 0;
    while (done < body.length) done += writeSync(fd, body, done, body.length - done, done);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDir(dir);
}
