import type { Durability } from '../store.ts';
import type { WalIo } from './wal-io.ts';

/** How to open a write-ahead log. Sizes in bytes. */
export interface WalOptions {
  /** The WAL's own directory (one per node). */
  dir: string;
  /** 'flush': an append resolves once an fdatasync covers it; 'commit': once written, synced within `syncIntervalMs`. */
  durability: Durability;
  /** The newest LSN the checkpoint (LMDB) holds; replay starts after it. Default 0. */
  appliedLsn?: number | undefined;
  /** The newest LSN known durable from elsewhere (a replica, a record of the last fdatasync): a shorter log is corrupt. */
  durableLsn?: number | undefined;
  /** Size of each preallocated segment (default 16 MiB); an existing WAL keeps the size it was made with. */
  segmentBytes?: number | undefined;
  /** Bytes appended past the checkpoint before appends wait for it (default 64 MiB). */
  maxLagBytes?: number | undefined;
  /** 'commit' mode: the longest a written record waits for its fdatasync (default 1,000 ms). */
  syncIntervalMs?: number | undefined;
  /** The write/fdatasync calls (default `node:fs`); tests wrap them to inject faults. */
  io?: WalIo | undefined;
  /** Crash point `<step>[@<n>]` (default `process.env.OVERSEER_CRASH_AT`). */
  crashAt?: string | undefined;
}

/** Counters and positions of a WAL, for metrics and tests. */
export interface WalStats {
  epoch: number;
  writtenLsn: number;
  syncedLsn: number;
  checkpointLsn: number;
  /** Bytes of log past the checkpoint (what recovery would replay). */
  lagBytes: number;
  /** Appends not yet written (waiting for the group in flight, or for a checkpoint past the lag bound). */
  pending: number;
  groups: number;
  records: number;
  syncs: number;
  recycles: number;
  failures: number;
}
