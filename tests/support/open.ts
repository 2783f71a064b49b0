import { createOverseer, type Overseer, type OverseerOptions } from '../../src/index.ts';
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
