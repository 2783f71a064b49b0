/**
 * The write-ahead log alone (not yet in the commit path): 8 concurrent writers append one-record groups of about
 * 200 bytes (a job snapshot's size) to a WAL on the temp dir's file system, with a checkpointer following the synced
 * LSN. Reports the p50/p99 of one group's write + fdatasync (mode 'flush'), of an append as a caller sees it, the
 * records per group, and appends per second.
 *
 *   npx tsx bench/wal.ts [--mode flush|commit]      (BENCH_WAL_N: appends, default 20,000; BENCH_QUICK=1: 2,000)
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Wal } from '../src/store/wal/wal.ts';
import { nodeWalIo, type WalIo } from '../src/store/wal/wal-io.ts';
import { benchArgs, latency, report, round, size, tempDir } from './lib.ts';

const N = size('WAL_N', 20_000, 2_000);
const WRITERS = 8;

/** p50 of a bare 4 KiB write + fdatasync appended to a growing (not preallocated) file in `dir`, 100 of them, in ms. */
export function fdatasyncFigures(dir: string): { p50Ms: number } {
  const path = join(dir, 'calibrate');
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(4096, 1);
  const samples: number[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      writeSync(fd, page, 0, page.length, i * page.length);
      fdatasyncSync(fd);
      samples.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
  }
  return { p50Ms: round(latency(samples).p50) };
}

async function main(): Promise<void> {
  const { mode } = benchArgs();
  const dir = tempDir('overseer-bench-wal-');
  const syncs: number[] = [];
  const io: WalIo = {
    write: (fd, buf, position) => nodeWalIo.write(fd, buf, position),
    async datasync(fd) {
      const t0 = performance.now();
      await nodeWalIo.datasync(fd);
      syncs.push(performance.now() - t0);
    },
  };
  const rounds: number[] = [];
  const timedIo: WalIo = {
    async write(fd, buf, position) {
      const t0 = performance.now();
      await io.write(fd, buf, position);
      rounds.push(performance.now() - t0);
    },
    datasync: (fd) => io.datasync(fd),
  };
  try {
    const wal = await Wal.open({ dir: join(dir.path, 'wal'), durability: mode, io: timedIo });
    const checkpointer = setInterval(() => wal.checkpointed(wal.stats().syncedLsn), 10);
    const value = new Uint8Array(160).fill(1);
    const appends: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        while (next < N) {
          const i = next++;
          const key = new TextEncoder().encode(`acme\0job\0job_${i}`);
          const a0 = performance.now();
          await wal.append([{ workspaceId: 'acme', ops: [{ db: 'actors', op: 'put', key, value }] }]);
          appends.push(performance.now() - a0);
        }
      }),
    );
    const wallMs = performance.now() - t0;
    clearInterval(checkpointer);
    const stats = wal.stats();
    await wal.close();
    const sync = latency(syncs);
    const append = latency(appends);
    report({
      bench: 'wal',
      mode,
      writers: WRITERS,
      appends: N,
      perSec: round(N / (wallMs / 1000), 0),
      recordsPerGroupRound: round(N / Math.max(1, rounds.length), 2),
      fdatasyncP50Ms: round(sync.p50),
      fdatasyncP99Ms: round(sync.p99),
      writeP50Ms: round(latency(rounds).p50),
      appendP50Ms: round(append.p50),
      appendP99Ms: round(append.p99),
      syncs: stats.syncs,
      recycles: stats.recycles,
      growingFile4KiBFdatasync: fdatasyncFigures(dir.path),
    });
  } finally {
    dir.remove();
  }
}

await main();
