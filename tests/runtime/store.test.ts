import { afterEach, describe, expect, it } from 'vitest';
import { LmdbStore } from '../../src/store/lmdb-store.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';

let dir: TempDataDir | undefined;
let store: LmdbStore | undefined;
afterEach(async () => {
  await store?.close();
  dir?.remove();
  store = dir = undefined;
});

describe('the LMDB store', () => {
  it('flushed() covers what is committed when it is called, not a transaction queued after it', async () => {
    dir = tempDataDir('overseer-store-');
    store = LmdbStore.open({ dataDir: dir.path, durability: 'flush', now: Date.now() });
    await store.commit([{ db: 'meta', key: ['probe', 'a'], value: 1 }]);
    const flushed = store.flushed();
    let laterStarted = false;
    const later = store.commit(() => {
      laterStarted = true;
      return [{ db: 'meta', key: ['probe', 'b'], value: 2 }];
    });
    // The later transaction only starts once LMDB's writer calls back (a later turn of the event loop): a flush
    // that waited for it as well would see it started.
    await flushed;
    expect(laterStarted).toBe(false);
    await later;
    expect(laterStarted).toBe(true);
    expect([store.get('meta', ['probe', 'a']), store.get('meta', ['probe', 'b'])]).toEqual([1, 2]);
  });

  it('a function given to commit is called inside the transaction, and what it throws commits nothing', async () => {
    dir = tempDataDir('overseer-store-');
    store = LmdbStore.open({ dataDir: dir.path, durability: 'flush', now: Date.now() });
    await expect(
      store.commit(() => {
        throw new Error('not today');
      }),
    ).rejects.toThrow('not today');
    await store.commit(() => [{ db: 'meta', key: ['probe', 'c'], value: 3 }]);
    expect(store.get('meta', ['probe', 'c'])).toBe(3);
  });
});
