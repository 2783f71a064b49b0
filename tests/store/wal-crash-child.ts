/**
 * The WAL crash test's child process: opens the WAL (tiny segments, so it recycles hundreds of times per run),
 * replays it, then appends from 8 concurrent lanes with a checkpointer following the synced LSN, until it is killed
 * by its own crash point (`OVERSEER_CRASH_AT`) or has appended `groups` groups.
 *
 *   node --import tsx tests/store/wal-crash-child.ts <dir> <flush|commit> <durableLsn> <run> <groups>
 *
 * `<dir>/applied` plays LMDB: the checkpointed LSN, written durably before the WAL is told. Output, one line per
 * event, written synchronously: `open <appliedLsn> <writtenLsn>`, `rec <lsn> <id>` per replayed record, then
 * `ack <lastLsn> <id>,<id>` per acknowledged group (its records hold LSNs lastLsn-1 and lastLsn).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Wal } from '../../src/store/wal/wal.ts';
import { entry, idOf } from './wal-support.ts';

/** The sizes the crash tests use: 4 KiB segments, an 8 KiB lag bound. */
export const CRASH_WAL = { segmentBytes: 4096, maxLagBytes: 8192, syncIntervalMs: 50 };
/** Concurrent appenders. */
export const LANES = 8;

const out = (line: string): void => {
  writeSync(1, `${line}\n`);
};

function readApplied(dir: string): number {
  const path = join(dir, 'applied');
  return existsSync(path) ? Number(readFileSync(path, 'utf8')) : 0;
}

function writeApplied(dir: string, lsn: number): void {
  const tmp = join(dir, 'applied.tmp');
  const fd = openSync(tmp, 'w');
  writeSync(fd, String(lsn));
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, join(dir, 'applied'));
}

async function main(): Promise<void> {
  const [root, mode, durable, run, groups] = process.argv.slice(2);
  const dir = join(root!, 'wal');
  const appliedLsn = readApplied(root!);
  const wal = await Wal.open({
    dir,
    durability: mode === 'commit' ? 'commit' : 'flush',
    appliedLsn,
    durableLsn: Number(durable),
    ...CRASH_WAL,
  });
  out(`open ${appliedLsn} ${wal.stats().writtenLsn}`);
  for (const record of wal.readFrom(appliedLsn)) out(`rec ${record.lsn} ${idOf(record)}`);

  let checkpointing = false;
  const checkpointer = setInterval(() => {
    if (checkpointing) return;
    checkpointing = true;
    const lsn = wal.stats().syncedLsn;
    if (lsn > readApplied(root!)) {
      writeApplied(root!, lsn);
      wal.checkpointed(lsn);
    }
    checkpointing = false;
  }, 3);

  let next = 0;
  const total = Number(groups);
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < total) {
        const i = next++;
        const a = `${run}.${i}a`;
        const b = `${run}.${i}b`;
        const lsn = await wal.append([entry(a, 'acme', 60), entry(b, 'beta', 60)]);
        out(`ack ${lsn} ${a},${b}`);
      }
    }),
  );
  clearInterval(checkpointer);
  await wal.close();
  out('done');
}

main().catch((err: unknown) => {
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
  out(`error ${err instanceof Error ? err.message : String(err)}${cause}`);
  process.exit(1);
});
