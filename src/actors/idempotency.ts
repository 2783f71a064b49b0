import { createHash } from 'node:crypto';
import { OverseerError } from '../core/errors.ts';
import type { Key, Store, Write } from '../store/store.ts';

interface StoredAnswer {
  h: string;
  a: unknown;
  x: number;
}

/** Canonical JSON: object keys sorted, so equal payloads hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export const payloadHash = (payload: unknown): string =>
  createHash('sha256').update(canonicalJson(payload)).digest('base64url');

const recordKey = (ws: string, command: string, key: string): Key => [ws, 'k', command, key];

/**
 * The stored key of a caller's idempotency key: the SHA-256 of the caller's subject (fixed length, so the pair is
 * unambiguous and the LMDB key stays short) before the key it chose. A key is a retry token of one caller, never
 * a handle on another caller's answer: the same key sent by another subject is a call of its own.
 */
const callerKey = (caller: string, key: string): string =>
  `${createHash('sha256').update(caller).digest('base64url')}.${key}`;
const expiryKey = (ws: string, expiresAt: number, command: string, key: string): Key => [
  ws,
  'x',
  expiresAt,
  command,
  key,
];

/** The outcome of looking a key up. */
export type IdempotencyHit =
  { state: 'pending'; answer: Promise<unknown> } | { state: 'done'; answer: unknown } | null;

/**
 * Idempotency records, scoped by (workspace, command, caller, key): a replay by the same caller (the principal's
 * subject) returns the first answer, the same key with another payload answers `IDEMPOTENCY_KEY_REUSED`; another
 * caller's key opens nothing of this one's (a replayed answer may carry a freshly minted credential or lease
 * secret). Answers not yet flushed are held in memory (decisions read memory); flushed ones are read from the store.
 */
export class IdempotencyTable {
  private readonly pending = new Map<string, { hash: string; answer: Promise<unknown> }>();
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  lookup(
    ws: string,
    command: string,
    caller: string,
    key: string,
    hash: string,
    now: number,
  ): IdempotencyHit {
    const scoped = callerKey(caller, key);
    const id = `${ws}\u0000${command}\u0000${scoped}`;
    const pending = this.pending.get(id);
    if (pending) {
      if (pending.hash !== hash) throw reused(command, key);
      return { state: 'pending', answer: pending.answer };
    }
    const stored = this.store.get('idempotency', recordKey(ws, command, scoped)) as StoredAnswer | undefined;
    if (!stored || stored.x <= now) return null;
    if (stored.h !== hash) throw reused(command, key);
    return { state: 'done', answer: stored.a };
  }

  /** Holds the answer in memory until `durable` settles, and returns the writes that persist it. */
  record(
    ws: string,
    command: string,
    caller: string,
    key: string,
    hash: string,
    answer: unknown,
    expiresAt: number,
    durable: Promise<void>,
  ): Write[] {
    const scoped = callerKey(caller, key);
    const id = `${ws}\u0000${command}\u0000${scoped}`;
    const settledAnswer = durable.then(() => answer);
    settledAnswer.catch(() => undefined);
    this.pending.set(id, { hash, answer: settledAnswer });
    const forget = () => {
      if (this.pending.get(id)?.answer === settledAnswer) this.pending.delete(id);
    };
    durable.then(forget, forget);
    return [
      {
        db: 'idempotency',
        key: recordKey(ws, command, scoped),
        value: { h: hash, a: answer, x: expiresAt } satisfies StoredAnswer,
      },
      { db: 'idempotency', key: expiryKey(ws, expiresAt, command, scoped), value: 1 },
    ];
  }

  /** Up to `limit` removals of records expired by `now` in one workspace. */
  expired(ws: string, now: number, limit: number): Write[] {
    const writes: Write[] = [];
    for (const key of this.store.keys('idempotency', { start: [ws, 'x'], end: [ws, 'x', now], limit })) {
      const [, , expiresAt, command, k] = key as [string, string, number, string, string];
      writes.push({ db: 'idempotency', key });
      // A key used again after it expired has a newer record; only the record this entry indexes goes.
      const stored = this.store.get('idempotency', recordKey(ws, command, k)) as StoredAnswer | undefined;
      if (stored?.x === expiresAt) writes.push({ db: 'idempotency', key: recordKey(ws, command, k) });
    }
    return writes;
  }

  clear(): void {
    this.pending.clear();
  }
}

function reused(command: string, key: string): OverseerError {
  return new OverseerError('IDEMPOTENCY_KEY_REUSED', undefined, { command, idempotencyKey: key });
}
