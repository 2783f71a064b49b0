import { crc32 } from './crc32.ts';

/** One physical change of a commit group: a put of an already-encoded value, or a removal. Keys are opaque bytes. */
export type WalOp =
  | { readonly db: string; readonly op: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly db: string; readonly op: 'remove'; readonly key: Uint8Array };

/** What a caller appends: one workspace's physical changes of one commit group (one record). */
export interface WalEntry {
  readonly workspaceId: string;
  readonly ops: readonly WalOp[];
}

/** A record as read back: an entry with its log sequence number. */
export interface WalRecord extends WalEntry {
  readonly lsn: number;
}

/** `OWAL` read as a little-endian u32: the first four bytes of every record. */
export const RECORD_MAGIC = 0x4c41574f;
/** magic u32 · crc u32 · lsn u64 · epoch u32 · payload length u32. */
export const HEADER_BYTES = 24;

const OP_PUT = 0;
const OP_REMOVE = 1;

/** Size in bytes of the payload `encodeRecord` writes for `entry`. */
function payloadBytes(entry: WalEntry): number {
  let n = 2 + Buffer.byteLength(entry.workspaceId) + 4;
  for (const op of entry.ops) {
    n += 1 + 1 + Buffer.byteLength(op.db) + 4 + op.key.length;
    if (op.op === 'put') n += 4 + op.value.length;
  }
  return n;
}

/** Size in bytes of the record `entry` becomes, header included. */
export function recordBytes(entry: WalEntry): number {
  return HEADER_BYTES + payloadBytes(entry);
}

/**
 * Encodes one record: the header, then the payload (workspace id, then each op: kind, db name, key, value). The CRC
 * covers everything after itself (lsn, epoch, length, payload), so a stale or torn record fails it.
 */
export function encodeRecord(lsn: number, epoch: number, entry: WalEntry): Buffer {
  const length = payloadBytes(entry);
  const buf = Buffer.allocUnsafe(HEADER_BYTES + length);
  buf.writeUInt32LE(RECORD_MAGIC, 0);
  buf.writeBigUInt64LE(BigInt(lsn), 8);
  buf.writeUInt32LE(epoch, 16);
  buf.writeUInt32LE(length, 20);
  let o = HEADER_BYTES;
  const ws = Buffer.byteLength(entry.workspaceId);
  if (ws > 0xffff) throw new RangeError('workspace id too long');
  buf.writeUInt16LE(ws, o);
  o += 2 + buf.write(entry.workspaceId, o + 2, 'utf8');
  buf.writeUInt32LE(entry.ops.length, o);
  o += 4;
  for (const op of entry.ops) {
    buf[o++] = op.op === 'put' ? OP_PUT : OP_REMOVE;
    const db = Buffer.byteLength(op.db);
    if (db > 0xff) throw new RangeError(`database name too long: ${op.db}`);
    buf[o++] = db;
    o += buf.write(op.db, o, 'utf8');
    buf.writeUInt32LE(op.key.length, o);
    buf.set(op.key, o + 4);
    o += 4 + op.key.length;
    if (op.op === 'put') {
      buf.writeUInt32LE(op.value.length, o);
      buf.set(op.value, o + 4);
      o += 4 + op.value.length;
    }
  }
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

/** A record's header fields, once its CRC has been checked. */
export interface RecordHead {
  readonly lsn: number;
  readonly epoch: number;
  /** Total bytes of the record, header included. */
  readonly size: number;
}

/**
 * Checks the record at `offset` (magic, bounds, CRC) and answers its header, or null if no whole record is there
 * (zeros, a torn write, a flipped byte, stale bytes of an older record).
 */
export function checkRecord(buf: Buffer, offset: number): RecordHead | null {
  if (offset + HEADER_BYTES > buf.length) return null;
  if (buf.readUInt32LE(offset) !== RECORD_MAGIC) return null;
  const length = buf.readUInt32LE(offset + 20);
  const end = offset + HEADER_BYTES + length;
  if (end > buf.length) return null;
  if (crc32(buf.subarray(offset + 8, end)) !== buf.readUInt32LE(offset + 4)) return null;
  const lsn = buf.readBigUInt64LE(offset + 8);
  if (lsn > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return { lsn: Number(lsn), epoch: buf.readUInt32LE(offset + 16), size: HEADER_BYTES + length };
}

/** Decodes the payload of a record that {@link checkRecord} accepted. Values and keys are copies. */
export function decodeRecord(buf: Buffer, offset: number, head: RecordHead): WalRecord {
  let o = offset + HEADER_BYTES;
  const wsLen = buf.readUInt16LE(o);
  const workspaceId = buf.toString('utf8', o + 2, o + 2 + wsLen);
  o += 2 + wsLen;
  const count = buf.readUInt32LE(o);
  o += 4;
  const ops: WalOp[] = [];
  for (let i = 0; i < count; i++) {
    const kind = buf[o++];
    const dbLen = buf[o++]!;
    const db = buf.toString('utf8', o, o + dbLen);
    o += dbLen;
    const keyLen = buf.readUInt32LE(o);
    const key = new Uint8Array(buf.subarray(o + 4, o + 4 + keyLen));
    o += 4 + keyLen;
    if (kind === OP_PUT) {
      const valueLen = buf.readUInt32LE(o);
      const value = new Uint8Array(buf.subarray(o + 4, o + 4 + valueLen));
      o += 4 + valueLen;
      ops.push({ db, op: 'put', key, value });
    } else {
      ops.push({ db, op: 'remove', key });
    }
  }
  return { lsn: head.lsn, workspaceId, ops };
}
