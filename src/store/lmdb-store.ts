import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { OverseerError } from '../core/errors.ts';
import {
  DB_NAMES,
  type DbName,
  type Durability,
  type Key,
  type RangeOptions,
  type Store,
  type Write,
} from './store.ts';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.ts';

/** Settings a caller may pass to LMDB. Unsafe ones are refused, never silently applied. */
export interface LmdbStoreOptions {
  dataDir: string;
  durability: Durability;
  now: number;
  /** Maximum size of the map in bytes (LMDB grows it as needed on Linux). */
  mapSize?: number | undefined;
  /** Refused: each would lose acknowledged work on a crash. */
  noSync?: boolean | undefined;
  noMetaSync?: boolean | undefined;
  useWritemap?: boolean | undefined;
}

const UNSAFE = ['noSync', 'noMetaSync', 'useWritemap'] as const;

/**
 * Where each database keeps its msgpack record structures (key names stored once, not in every value). A symbol
 * key sorts below every string and number key, and lmdb-js starts a scan with no lower bound (`start` absent, or
 * `end` absent in reverse) above symbols, so no range or key scan ever yields it. Values written
 * before structures were shared carry their own inline definitions and stay readable; values written with them
 * cannot be read by a runtime that does not share structures.
 */
const STRUCTURES_KEY = Symbol.for('structures');

/** The LMDB implementation of the store: one environment per data dir, the databases of DESIGN §4. */
export class LmdbStore implements Store {
  readonly durability: Durability;
  private readonly root: RootDatabase;
  private readonly dbs: Record<DbName, Database>;
  private readonly lock: DataDirLock;
  private closed = false;

  private constructor(
    root: RootDatabase,
    dbs: Record<DbName, Database>,
    lock: DataDirLock,
    durability: Durability,
  ) {
    this.root = root;
    this.dbs = dbs;
    this.lock = lock;
    this.durability = durability;
  }

  /** Takes the data dir's LOCK and opens the environment. */
  static open(options: LmdbStoreOptions): LmdbStore {
    const unsafe = UNSAFE.filter((name) => options[name] !== undefined && options[name] !== false);
    if (unsafe.length > 0) {
      throw new OverseerError(
        'VALIDATION_FAILED',
        `LMDB options ${unsafe.join(', ')} are refused: they lose acknowledged work.`,
        {
          paths: unsafe,
        },
      );
    }
    mkdirSync(options.dataDir, { recursive: true });
    const lock = acquireDataDirLock(options.dataDir, options.now);
    try {
      const root = open({
        path: options.dataDir,
        // lmdb-js takes a path whose last segment has an extension (`/tmp/x.v2`) for a file, not a directory.
        noSubdir: false,
        maxDbs: 16,
        ...(options.mapSize ? { mapSize: options.mapSize } : {}),
        compression: false,
      });
      const dbs = Object.fromEntries(
        DB_NAMES.map((name) => [name, root.openDB({ name, sharedStructuresKey: STRUCTURES_KEY })]),
      ) as Record<DbName, Database>;
      return new LmdbStore(root, dbs, lock, options.durability);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  get(db: DbName, key: Key): unknown {
    return this.dbs[db].get(key as (string | number)[]);
  }

  range(db: DbName, options: RangeOptions): Iterable<{ key: Key; value: unknown }> {
    return this.dbs[db].getRange(options as never) as Iterable<{ key: Key; value: unknown }>;
  }

  keys(db: DbName, options: RangeOptions): Iterable<Key> {
    return this.dbs[db].getKeys(options as never) as Iterable<Key>;
  }

  count(db: DbName, options: RangeOptions): number {
    return this.dbs[db].getKeysCount(options as never);
  }

  async commit(writes: readonly Write[] | (() => readonly Write[])): Promise<void> {
    if (this.closed) throw new OverseerError('STORAGE_UNAVAILABLE', 'The store is closed.');
    const dbs = this.dbs;
    try {
      await this.root.transaction(() => {
        for (const w of typeof writes === 'function' ? writes() : writes) {
          const db = dbs[w.db];
          if (w.value === undefined) void db.remove(w.key as (string | number)[]);
          else void db.put(w.key as (string | number)[], w.value);
        }
      });
    } catch (err) {
      this.reloadStructures();
      throw err;
    }
  }

  /**
   * After a failed commit: structures minted by its values may not be on disk, and later values must not refer to
   * them; each encoder reloads the durable structures before it next encodes.
   */
  private reloadStructures(): void {
    for (const db of Object.values(this.dbs)) {
      const structures = (db as { encoder?: { structures?: { uninitialized?: boolean } } }).encoder
        ?.structures;
      if (structures) structures.uninitialized = true;
    }
  }

  flushed(): Promise<void> {
    // `root.flushed` is a thenable that picks its promise when `then` is called: call it now, not a microtask later
    // (as `await` would), so it covers what is committed now and not what is queued after.
    return new Promise((resolve, reject) => {
      void this.root.flushed.then(() => resolve(), reject);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.root.flushed;
    await this.root.close();
    this.lock.release();
  }
}
