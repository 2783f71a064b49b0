/**
 * The write-ahead log on a real file system: group commit, the two durability modes, recycling under the lag bound,
 * recovery and the format's checks.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';
import { crc32Table } from '../../src/store/wal/crc32.ts';
import { parseCrashAt } from '../../src/store/wal/crash-point.ts';
import { Wal } from '../../src/store/wal/wal.ts';
import { checkRecord, decodeRecord, encodeRecord } from '../../src/store/wal/wal-record.ts';
import { entry, idOf, readAll } from './wal-support.ts';

/** Small segments: preallocating the default 144 MiB per test would dominate the run. */
const SMALL = { segmentBytes: 64 * 1024, maxLagBytes: 256 * 1024 };
const dirs: TempDataDir[] = [];
function tmp(): string {
  const d = tempDataDir('overseer-wal-');
  dirs.push(d);
  return join(d.path, 'wal');
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

describe('the record format', () => {
  it('round-trips puts and removes of opaque bytes, and any changed byte fails the CRC', () => {
    const e = {
      workspaceId: 'wörk',
      ops: [
        {
          db: 'actors',
          op: 'put' as const,
          key: new Uint8Array([0, 1, 255]),
          value: new Uint8Array(300).fill(7),
        },
        { db: 'timers', op: 'remove' as const, key: new Uint8Array([9]) },
        { db: 'meta', op: 'put' as const, key: new Uint8Array(0), value: new Uint8Array(0) },
      ],
    };
    const buf = encodeRecord(42, 3, e);
    const head = checkRecord(buf, 0);
    expect(head).toEqual({ lsn: 42, epoch: 3, size: buf.length });
    expect(decodeRecord(buf, 0, head!)).toEqual({ lsn: 42, ...e });
    for (let i = 0; i < buf.length; i++) {
      const bad = Buffer.from(buf);
      bad[i] = bad[i]! ^ 0x10;
      expect(checkRecord(bad, 0), `byte ${i}`).toBeNull();
    }
    expect(checkRecord(buf.subarray(0, buf.length - 1), 0)).toBeNull();
  });

  it('the JavaScript CRC-32 agrees with zlib', () => {
    const data = Buffer.from('the write-ahead log '.repeat(50));
    expect(crc32Table(data)).toBe(zlib.crc32(data));
    expect(crc32Table(new Uint8Array(0))).toBe(0);
  });
});

describe('OVERSEER_CRASH_AT', () => {
  it('arms a WAL step at its n-th arrival, and nothing for unknown steps or counts', () => {
    expect(parseCrashAt('wal-recycle@3')).toEqual({ step: 'wal-recycle', n: 3 });
    expect(parseCrashAt('wal-write-torn')).toEqual({ step: 'wal-write-torn', n: 1 });
    for (const other of [undefined, '', 'commit', 'wal-write@0', 'wal-write@x', 'wal-synced@1.5'])
      expect(parseCrashAt(other), String(other)).toBeNull();
  });
});

describe('Wal', () => {
  it('preallocates segments by writing them (no holes) and at least twice the lag bound', async () => {
    const dir = tmp();
    const wal = await Wal.open({
      dir,
      durability: 'flush',
      segmentBytes: 64 * 1024,
      maxLagBytes: 256 * 1024,
    });
    await wal.close();
    const segs = readdirSync(dir).filter((f) => f.endsWith('.wal'));
    expect(segs.length * 64 * 1024).toBeGreaterThanOrEqual(2 * 256 * 1024);
    for (const f of segs) {
      const st = statSync(join(dir, f));
      expect(st.size).toBe(64 * 1024);
      expect(st.blocks * 512).toBeGreaterThanOrEqual(st.size);
    }
  });

  it('appends one record per workspace per group with consecutive LSNs, and reads them back after a reopen', async () => {
    const dir = tmp();
    const wal = await Wal.open({ dir, durability: 'flush', ...SMALL });
    expect(await wal.append([entry('a1', 'acme'), entry('b1', 'beta')])).toBe(2);
    expect(await wal.append([entry('a2', 'acme')])).toBe(3);
    expect([...wal.readFrom(1)].map((r) => [r.lsn, r.workspaceId, idOf(r)])).toEqual([
      [2, 'beta', 'b1'],
      [3, 'acme', 'a2'],
    ]);
    await wal.close();
    await expect(wal.append([entry('x')])).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });

    const again = await Wal.open({ dir, durability: 'flush', ...SMALL });
    expect(again.stats()).toMatchObject({ writtenLsn: 3, syncedLsn: 3, epoch: 2 });
    expect(await again.append([entry('a3')])).toBe(4);
    expect([...again.readFrom(0)].map(idOf)).toEqual(['a1', 'b1', 'a2', 'a3']);
    await again.close();
  });

  it("'flush' groups every append that arrives while a write + fdatasync is in flight", async () => {
    const dir = tmp();
    const wal = await Wal.open({ dir, durability: 'flush', ...SMALL });
    const lsns = await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append([entry(`g${i}`)])));
    expect(lsns).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const { syncs, groups } = wal.stats();
    expect(groups).toBe(200);
    // The first append goes alone; the other 199 arrived while it was in flight and share a group or a few.
    expect(syncs).toBeLessThanOrEqual(5);
    expect(wal.stats().syncedLsn).toBe(200);
    await wal.close();
  });

  it("'commit' acknowledges after write() and fdatasyncs within the interval", async () => {
    const dir = tmp();
    const wal = await Wal.open({ dir, durability: 'commit', syncIntervalMs: 100, ...SMALL });
    const lsn = await wal.append([entry('c1')]);
    expect(wal.stats()).toMatchObject({ writtenLsn: lsn, syncedLsn: 0, syncs: 0 });
    const started = Date.now();
    while (wal.stats().syncedLsn < lsn) await new Promise((r) => setTimeout(r, 5));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(wal.stats().syncs).toBe(1);
    await wal.close();
  });

  it('past the lag bound appends wait (never fail) until a checkpoint; segments are recycled, never added', async () => {
    const dir = tmp();
    const options = { dir, durability: 'flush' as const, segmentBytes: 4096, maxLagBytes: 8192 };
    const wal = await Wal.open(options);
    const files = readdirSync(dir).filter((f) => f.endsWith('.wal')).length;
    // ~100-byte records: 600 of them are ~60 KiB, past the 8 KiB bound and three times the 20 KiB preallocated.
    const acks: number[] = [];
    const all = Array.from({ length: 600 }, (_, i) =>
      wal.append([entry(`r${i}`, 'acme', 40)]).then((l) => acks.push(l)),
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(acks.length).toBeGreaterThan(0);
    expect(acks.length).toBeLessThan(600);
    expect(wal.stats().lagBytes).toBeLessThanOrEqual(8192);
    expect(wal.stats().pending).toBeGreaterThan(0);
    // A checkpointer that follows the synced LSN lets everything through.
    const timer = setInterval(() => wal.checkpointed(wal.stats().syncedLsn), 2);
    await Promise.all(all);
    clearInterval(timer);
    expect(wal.stats().recycles).toBeGreaterThan(10);
    expect(readdirSync(dir).filter((f) => f.endsWith('.wal')).length).toBe(files);
    const checkpoint = wal.stats().checkpointLsn;
    await wal.close();

    const { records } = await readAll({ ...options, appliedLsn: checkpoint });
    expect(records.map((r) => r.lsn)).toEqual(
      Array.from({ length: 600 - checkpoint }, (_, i) => checkpoint + 1 + i),
    );
    expect(records.map(idOf)).toEqual(records.map((r) => `r${r.lsn - 1}`));
  });

  it('refuses a checkpoint past the synced LSN and a read of recycled records', async () => {
    const dir = tmp();
    const wal = await Wal.open({ dir, durability: 'flush', segmentBytes: 4096, maxLagBytes: 4096 });
    expect(() => wal.checkpointed(1)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    for (let i = 0; i < 200; i++) {
      await wal.append([entry(`r${i}`, 'acme', 40)]);
      wal.checkpointed(wal.stats().syncedLsn);
    }
    expect(() => [...wal.readFrom(0)]).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect([...wal.readFrom(199)].map(idOf)).toEqual(['r199']);
    await wal.close();
  });

  it('refuses an applied LSN older than the one the WAL recycled through', async () => {
    const dir = tmp();
    const options = { dir, durability: 'flush' as const, segmentBytes: 4096, maxLagBytes: 4096 };
    const wal = await Wal.open(options);
    for (let i = 0; i < 200; i++) {
      await wal.append([entry(`r${i}`, 'acme', 40)]);
      wal.checkpointed(wal.stats().syncedLsn);
    }
    await wal.close();
    await expect(Wal.open({ ...options, appliedLsn: 3 })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      retryable: false,
      details: { reason: 'wal_corrupt' },
    });
    const { records } = await readAll({ ...options, appliedLsn: 199 });
    expect(records.map(idOf)).toEqual(['r199']);
  });
});
