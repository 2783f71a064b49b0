/** The named databases of DESIGN §4. Every key starts with the workspace id (meta's own keys aside). */
export const DB_NAMES = [
  'actors',
  'journal',
  'outbox',
  'timers',
  'queue',
  'ledger',
  'idempotency',
  'audit',
  'meta',
  /** Workflow artifacts handed in by jobs: `[ws, jobId, name, epoch]` → body, digest, phase. */
  'artifacts',
] as const;
export type DbName = (typeof DB_NAMES)[number];

/** An LMDB key: an array of strings and numbers, ordered element by element. */
export type Key = readonly (string | number)[];

/** One write of a batch: a put, or a removal when `value` is undefined. */
export interface Write {
  db: DbName;
  key: Key;
  value?: unknown;
}

export const Durability = { FLUSH: 'flush', COMMIT: 'commit' } as const;
export type Durability = (typeof Durability)[keyof typeof Durability];

export interface RangeOptions {
  start?: Key;
  end?: Key;
  reverse?: boolean;
  limit?: number;
}

/**
 * The durable store as the runtime sees it. Reads are synchronous and see only committed writes;
 * the runtime acknowledges after `commit` (mode 'commit') or after `flushed` (mode 'flush').
 */
export interface Store {
  readonly durability: Durability;
  get(db: DbName, key: Key): unknown;
  range(db: DbName, options: RangeOptions): Iterable<{ key: Key; value: unknown }>;
  keys(db: DbName, options: RangeOptions): Iterable<Key>;
  /** How many keys a range holds, without reading their values. */
  count(db: DbName, options: RangeOptions): number;
  /**
   * Applies the writes in one transaction; resolves once committed (visible, and safe from a process crash). Given
   * a function, the store calls it once the write transaction is open and applies what it answers: the caller
   * may keep gathering writes while the writer gets ready.
   */
  commit(writes: readonly Write[] | (() => readonly Write[])): Promise<void>;
  /** Resolves once everything committed so far is on disk (decided when called, not when awaited). */
  flushed(): Promise<void>;
  close(): Promise<void>;
}
