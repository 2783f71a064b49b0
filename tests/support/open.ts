import { createOverseer, type Overseer, type OverseerOptions } from '../../src/index.ts';
import type { Store, Write } from '../../src/store/store.ts';
import { tempDataDir, type TempDataDir } from '../../src/testing.ts';

/** An Overseer on a fresh temp data dir, and a way to reopen it on the same dir. */
export interface TestOverseer {
  ov: Overseer;
  dir: TempDataDir;
  reopen(options?: OverseerOptions): Promise<Overseer>;
  cleanup(): Promise<void>;
}

export async function openTestOverseer(options: OverseerOptions = {}): Promise<TestOverseer> {
  const dir = tempDataDir();
  const base = { logLevel: 'silent' as const, ...options, dataDir: dir.path };
  const t: TestOverseer = {
    ov: await createOverseer(base),
    dir,
    async reopen(more = {}) {
      await t.ov.close();
      t.ov = await createOverseer({ ...base, ...more });
      return t.ov;
    },
    async cleanup() {
      await t.ov.close();
      dir.remove();
    },
  };
  return t;
}

/** The error a promise rejects with (fails if it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<{ code?: string; details?: Record<string, unknown>; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

/**
 * Calls `see` with the writes of every transaction the store commits from now on (at the moment the store takes
 * them, inside the transaction); answers a function that stops watching.
 */
export function watchCommits(store: Store, see: (writes: readonly Write[]) => void): () => void {
  const original = store.commit.bind(store);
  store.commit = (writes) =>
    original(
      typeof writes === 'function'
        ? () => {
            const taken = writes();
            see(taken);
            return taken;
          }
        : (see(writes), writes),
    );
  return () => {
    delete (store as { commit?: unknown }).commit;
  };
}
