/**
 * A simulated OS crash: the WAL runs on the real file system through an I/O layer that remembers, per file, what
 * every write since that file's last fdatasync overwrote. At a seeded random write or fdatasync the directory is
 * copied and each 4 KiB page written since its file's last fdatasync is kept or rolled back at random (an OS crash
 * keeps an arbitrary subset of those pages). The copy is then opened: in 'flush' nothing acknowledged is lost; in
 * 'commit' only records acknowledged after the last fdatasync began, within the sync interval. The WAL's files live
 * on tmpfs when there is one: fsync's cost is not the subject, the model decides what survives.
 */
import {
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readSync,
  readlinkSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wal } from '../../src/store/wal/wal.ts';
import { nodeWalIo, type WalIo } from '../../src/store/wal/wal-io.ts';
import { mulberry32 } from '../support/prng.ts';
import { entry, idOf } from './wal-support.ts';

const PAGE = 4096;
const SEED = Number(process.env['WAL_CRASH_SEED'] ?? 7_001);
const TRIALS = 8;
const SYNC_INTERVAL_MS = 40;
/** How late a timer may fire on a 2-core machine shared with other test runs (a load average of 16 is common). */
const TIMER_SLACK_MS = 2000;

interface Overwrite {
  file: string;
  position: number;
  old: Buffer;
}

/** The node I/O plus the memory of what each write since the last fdatasync overwrote, and a crash trigger. */
class OsCrashModel implements WalIo {
  private pending: Overwrite[] = [];
  private calls = 0;
  constructor(
    private readonly crashAtCall: number,
    private readonly onCrash: (pending: readonly Overwrite[]) => void,
  ) {}

  private tick(): void {
    if (++this.calls === this.crashAtCall) this.onCrash(this.pending);
  }

  async write(fd: number, buf: Buffer, position: number): Promise<void> {
    this.tick();
    const old = Buffer.alloc(buf.length);
    readSync(fd, old, 0, buf.length, position);
    this.pending.push({ file: basename(readlinkSync(`/proc/self/fd/${fd}`)), position, old });
    await nodeWalIo.write(fd, buf, position);
  }

  async datasync(fd: number): Promise<void> {
    this.tick();
    const file = basename(readlinkSync(`/proc/self/fd/${fd}`));
    const covered = this.pending.filter((p) => p.file === file);
    await nodeWalIo.datasync(fd);
    this.pending = this.pending.filter((p) => !covered.includes(p));
  }
}

/** Copies `dir` to `to`, then rolls back a random subset of the pages the pending writes touched. */
function crashCopy(dir: string, to: string, pending: readonly Overwrite[], rand: () => number): void {
  cpSync(dir, to, { recursive: true });
  const lost = new Map<string, boolean>();
  const isLost = (file: string, page: number): boolean => {
    const key = `${file}:${page}`;
    if (!lost.has(key)) lost.set(key, rand() < 0.5);
    return lost.get(key)!;
  };
  // Newest first: rolling every overwrite of a page back leaves it as it was at the file's last fdatasync.
  for (const p of [...pending].reverse()) {
    const fd = openSync(join(to, p.file), 'r+');
    for (let page = Math.floor(p.position / PAGE); page * PAGE < p.position + p.old.length; page++) {
      if (!isLost(p.file, page)) continue;
      const from = Math.max(p.position, page * PAGE);
      const end = Math.min(p.position + p.old.length, (page + 1) * PAGE);
      writeSync(fd, p.old, from - p.position, end - from, from);
    }
    closeSync(fd);
  }
}

function scratch(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'overseer-wal-os-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

describe.each(['flush', 'commit'] as const)("WAL after a simulated OS crash, '%s'", (mode) => {
  it('keeps every acknowledged record (commit: all but the last interval)', { timeout: 60_000 }, async () => {
    const rand = mulberry32(SEED + (mode === 'flush' ? 0 : 1));
    let crashes = 0;
    let lostInCommit = 0;
    let lostWindow = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const root = scratch();
      try {
        const dir = join(root.path, 'wal');
        const copy = join(root.path, 'crashed');
        const acked = new Map<number, { id: string; at: number }>();
        let crash: { at: number; appliedLsn: number; syncedLsn: number } | null = null;
        let wal: Wal | null = null;
        const model = new OsCrashModel(1 + Math.floor(rand() * (mode === 'flush' ? 250 : 100)), (pending) => {
          crashCopy(dir, copy, pending, rand);
          const s = wal!.stats();
          crash = { at: Date.now(), appliedLsn: s.checkpointLsn, syncedLsn: s.syncedLsn };
        });
        wal = await Wal.open({
          dir,
          durability: mode,
          segmentBytes: 4096,
          maxLagBytes: 8192,
          syncIntervalMs: SYNC_INTERVAL_MS,
          io: model,
        });
        const w = wal;
        const checkpointer = setInterval(() => w.checkpointed(w.stats().syncedLsn), 3);
        let next = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (!crash && next < 2000) {
              const i = next++;
              const lsn = await w.append([entry(`${i}a`, 'acme', 60), entry(`${i}b`, 'beta', 60)]);
              if (crash) break;
              acked.set(lsn - 1, { id: `${i}a`, at: Date.now() });
              acked.set(lsn, { id: `${i}b`, at: Date.now() });
            }
          }),
        );
        clearInterval(checkpointer);
        await w.close();
        if (!crash) continue;
        crashes += 1;
        const c = crash as { at: number; appliedLsn: number; syncedLsn: number };
        const reopened = await Wal.open({
          dir: copy,
          durability: mode,
          segmentBytes: 4096,
          maxLagBytes: 8192,
          appliedLsn: c.appliedLsn,
        });
        const records = [...reopened.readFrom(c.appliedLsn)];
        await reopened.close();
        const got = new Map(records.map((r) => [r.lsn, idOf(r)]));
        for (const [lsn, { id, at }] of acked) {
          if (lsn <= c.appliedLsn || got.get(lsn) === id) continue;
          const where = `trial ${trial}: acknowledged LSN ${lsn} (${id}) recovered as ${got.get(lsn) ?? 'nothing'}`;
          // Lost: allowed only in 'commit', only past the synced LSN, and only for the last interval.
          expect(mode, where).toBe('commit');
          expect(got.has(lsn), where).toBe(false);
          expect(lsn, where).toBeGreaterThan(c.syncedLsn);
          // Acknowledged at most the interval before the crash (plus timer lateness on a loaded machine).
          expect(c.at - at, where).toBeLessThanOrEqual(SYNC_INTERVAL_MS + TIMER_SLACK_MS);
          lostWindow = Math.max(lostWindow, c.at - at);
          lostInCommit += 1;
        }
        // What came back is a log: consecutive LSNs, each id at most once.
        expect(records.map((r) => r.lsn)).toEqual(records.map((_, i) => c.appliedLsn + 1 + i));
        expect(new Set(got.values()).size).toBe(got.size);
      } finally {
        root.remove();
      }
    }
    expect(crashes).toBeGreaterThan(TRIALS / 2);
    console.log(
      `'${mode}': ${crashes} simulated OS crashes, ${lostInCommit} acknowledged records lost in 'commit', acknowledged at most ${lostWindow} ms before the crash`,
    );
  });
});
