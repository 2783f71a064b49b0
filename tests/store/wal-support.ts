/** Helpers shared by the WAL tests: entries that encode an id, and reading a WAL directory back. */
import { Wal, type WalOptions } from '../../src/store/wal/wal.ts';
import type { WalEntry, WalRecord } from '../../src/store/wal/wal-record.ts';

/** A record whose key and value carry `id` (value padded to `pad` bytes, so record sizes can be chosen). */
export function entry(id: string, workspaceId = 'acme', pad = 0): WalEntry {
  return {
    workspaceId,
    ops: [
      {
        db: 'actors',
        op: 'put',
        key: Buffer.from(`k:${id}`),
        value: Buffer.from(`v:${id}`.padEnd(pad, '.')),
      },
      { db: 'queue', op: 'remove', key: Buffer.from(`q:${id}`) },
    ],
  };
}

/** The id a record of {@link entry} carries. */
export function idOf(record: WalRecord): string {
  const op = record.ops[0]!;
  return Buffer.from(op.key).toString().slice(2);
}

/** Opens the WAL, reads every record after `appliedLsn`, closes it. */
export async function readAll(
  options: WalOptions,
): Promise<{ records: WalRecord[]; stats: ReturnType<Wal['stats']> }> {
  const wal = await Wal.open(options);
  try {
    return { records: [...wal.readFrom(options.appliedLsn ?? 0)], stats: wal.stats() };
  } finally {
    await wal.close();
  }
}
