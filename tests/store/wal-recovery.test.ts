/**
 * Recovery and failure paths of the WAL: torn tails at every offset and flipped bytes recover to the last whole
 * record, a bad record known durable refuses the open (and the repair lets it open), stale records of an older
 * epoch never extend the log, and failed writes and fdatasyncs fail their group and nothing else.
 */
import { cpSync, existsSync, mkdtempSync, openSync, closeSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';
import { Wal } from '../../src/store/wal/wal.ts';
import { walkChain, type ChainRecord } from '../../src/store/wal/wal-chain.ts';
import { readControl, segmentPath } from '../../src/store/wal/wal-files.ts';
import { nodeWalIo, type WalIo } from '../../src/store/wal/wal-io.ts';
import { repairWal } from '../../src/store/wal/wal-recovery.ts';
import { entry, idOf, readAll } from './wal-support.ts';

const SMALL = { segmentBytes: 4096, maxLagBytes: 8192 };
const dirs: TempDataDir[] = [];
function tmp(): string {
  const d = tempDataDir('overseer-wal-');
  dirs.push(d);
  return join(d.path, 'wal');
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

/** A WAL holding records `r1` … `rN` (LSN i holds `r<i>`), closed. */
async function walWith(n: number, pad = 0): Promise<string> {
  const dir = tmp();
  const wal = await Wal.open({ dir, durability: 'flush', ...SMALL });
  for (let i = 1; i <= n; i++) await wal.append([entry(`r${i}`, 'acme', pad)]);
  await wal.close();
  return dir;
}

function chain(dir: string): ChainRecord[] {
  return [...walkChain(dir, readControl(dir)!.anchor)];
}

/** Overwrites `bytes` at (segment, offset) of a WAL dir. */
function poke(dir: string, seq: number, offset: number, bytes: Buffer): void {
  const fd = openSync(segmentPath(dir, seq), 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}

function peek(dir: string, seq: number, offset: number): number {
  const fd = openSync(segmentPath(dir, seq), 'r');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, offset);
  closeSync(fd);
  return b[0]!;
}

/**
 * A copy of a WAL dir for one of the every-offset cases: on tmpfs when there is one, where fsync costs nothing (the
 * bytes on disk are the subject here, not the file system's ordering).
 */
function copyOf(dir: string): string {
  const base = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/overseer-wal-') : mkdtempSync(`${dir}-copy-`);
  dirs.push({ path: base, remove: () => rmSync(base, { recursive: true, force: true }) });
  const copy = join(base, 'wal');
  cpSync(dir, copy, { recursive: true });
  return copy;
}

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `r${i + 1}`);

describe('WAL recovery', () => {
  it('a tail torn at every offset of the last record recovers to the record before, and appends go on', async () => {
    const dir = await walWith(20);
    const last = chain(dir).at(-1)!;
    expect(last.head.lsn).toBe(20);
    for (let k = 0; k < last.head.size; k++) {
      const copy = copyOf(dir);
      poke(copy, last.seq, last.offset + k, Buffer.alloc(last.head.size - k));
      const wal = await Wal.open({ dir: copy, durability: 'flush', ...SMALL });
      expect(wal.stats().writtenLsn, `torn at ${k}`).toBe(19);
      expect(await wal.append([entry('next')])).toBe(20);
      expect([...wal.readFrom(0)].map(idOf)).toEqual([...ids(19), 'next']);
      await wal.close();
    }
  });

  it('a flipped byte anywhere in the last record recovers to the record before', async () => {
    const dir = await walWith(20);
    const last = chain(dir).at(-1)!;
    for (let k = 0; k < last.head.size; k++) {
      const copy = copyOf(dir);
      poke(copy, last.seq, last.offset + k, Buffer.from([peek(copy, last.seq, last.offset + k) ^ 0x01]));
      const { records } = await readAll({ dir: copy, durability: 'flush', ...SMALL });
      expect(records.map(idOf), `flipped byte ${k}`).toEqual(ids(19));
    }
  });

  it('a bad record known durable refuses the open, naming the repair; the repair cuts the log there', async () => {
    const dir = await walWith(20);
    const bad = chain(dir)[9]!;
    poke(dir, bad.seq, bad.offset + 30, Buffer.from([peek(dir, bad.seq, bad.offset + 30) ^ 0xff]));
    const options = { dir, durability: 'flush' as const, ...SMALL, durableLsn: 20 };
    await expect(Wal.open(options)).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      retryable: false,
      message: expect.stringContaining(`overseer wal repair ${dir}`),
      details: { reason: 'wal_corrupt', lastLsn: 9, durableLsn: 20 },
    });
    expect(repairWal(dir)).toEqual({ lastLsn: 9 });

    // Records 11…20 are still whole on disk, in the old epoch: new records of the same sizes land on the same
    // offsets, and the old LSN 20 would follow the new LSN 19 if epochs did not stop it.
    const wal = await Wal.open(options);
    expect(wal.stats().writtenLsn).toBe(9);
    for (let i = 10; i <= 19; i++) expect(await wal.append([entry(`n${i}`)])).toBe(i);
    await wal.close();
    const { records } = await readAll(options);
    expect(records.map(idOf)).toEqual([...ids(9), ...Array.from({ length: 10 }, (_, i) => `n${i + 10}`)]);
  });

  it('without a claim of durability the same bad record is a torn tail: the log ends before it', async () => {
    const dir = await walWith(20);
    const bad = chain(dir)[9]!;
    poke(dir, bad.seq, bad.offset + 30, Buffer.from([peek(dir, bad.seq, bad.offset + 30) ^ 0xff]));
    const { records } = await readAll({ dir, durability: 'flush', ...SMALL });
    expect(records.map(idOf)).toEqual(ids(9));
  });

  it('refuses an applied LSN past the end of the log', async () => {
    const dir = await walWith(5);
    await expect(Wal.open({ dir, durability: 'flush', ...SMALL, appliedLsn: 7 })).rejects.toMatchObject({
      details: { reason: 'wal_corrupt', lastLsn: 5, appliedLsn: 7 },
    });
  });
});

/** The node I/O, failing the n-th write (after writing half of it) or the n-th fdatasync. */
function faulty(fail: {
  writes?: number[];
  syncs?: number[];
}): WalIo & { calls: { writes: number; syncs: number } } {
  const calls = { writes: 0, syncs: 0 };
  return {
    calls,
    async write(fd, buf, position) {
      if (fail.writes?.includes(++calls.writes)) {
        await nodeWalIo.write(fd, buf.subarray(0, buf.length >> 1), position);
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      }
      return nodeWalIo.write(fd, buf, position);
    },
    async datasync(fd) {
      if (fail.syncs?.includes(++calls.syncs))
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      return nodeWalIo.datasync(fd);
    },
  };
}

describe('WAL failure paths', () => {
  it("'flush': a failed write fails its group only; the next group reuses its LSN and the torn bytes are gone", async () => {
    const dir = tmp();
    const io = faulty({ writes: [2] });
    const wal = await Wal.open({ dir, durability: 'flush', ...SMALL, io });
    expect(await wal.append([entry('a1')])).toBe(1);
    await expect(wal.append([entry('a2'), entry('b2', 'beta')])).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      retryable: true,
    });
    expect(await wal.append([entry('a3', 'acme', 200)])).toBe(2);
    expect(wal.stats().failures).toBe(1);
    await wal.close();
    expect((await readAll({ dir, durability: 'flush', ...SMALL })).records.map(idOf)).toEqual(['a1', 'a3']);
  });

  it("'flush': a failed fdatasync fails its group; its written record is wiped before the next group", async () => {
    const dir = tmp();
    const wal = await Wal.open({ dir, durability: 'flush', ...SMALL, io: faulty({ syncs: [2] }) });
    expect(await wal.append([entry('a1')])).toBe(1);
    await expect(wal.append([entry('a2')])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    // A shorter record than a2: were a2 still on disk, its tail would not be covered.
    expect(await wal.append([entry('3')])).toBe(2);
    await wal.close();
    expect((await readAll({ dir, durability: 'flush', ...SMALL })).records.map(idOf)).toEqual(['a1', '3']);
  });

  it('a failed reopen fails what is queued; the next append reopens and goes on', async () => {
    const dir = tmp();
    const wal = await Wal.open({ dir, durability: 'flush', ...SMALL, io: faulty({ writes: [2, 3] }) });
    expect(await wal.append([entry('a1')])).toBe(1);
    await expect(wal.append([entry('a2')])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    await expect(wal.append([entry('a3')])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(await wal.append([entry('a4')])).toBe(2);
    await wal.close();
    expect((await readAll({ dir, durability: 'flush', ...SMALL })).records.map(idOf)).toEqual(['a1', 'a4']);
  });

  it("'commit': a failed periodic fdatasync keeps what was acknowledged: it is written again on a new descriptor", async () => {
    const dir = tmp();
    const wal = await Wal.open({
      dir,
      durability: 'commit',
      ...SMALL,
      syncIntervalMs: 20,
      io: faulty({ syncs: [1] }),
    });
    expect(await wal.append([entry('c1')])).toBe(1);
    expect(await wal.append([entry('c2')])).toBe(2);
    // The failed sync is followed at once by the reopen: c1 and c2 written again and synced on new descriptors.
    while (wal.stats().syncedLsn < 2) await new Promise((r) => setTimeout(r, 5));
    expect(wal.stats()).toMatchObject({ failures: 1, writtenLsn: 2 });
    expect(await wal.append([entry('c3')])).toBe(3);
    await wal.close();
    expect((await readAll({ dir, durability: 'commit', ...SMALL })).records.map(idOf)).toEqual([
      'c1',
      'c2',
      'c3',
    ]);
  });
});
