/**
 * WAL crash test, short form (the long loops are in wal-crash.slow.test.ts, `npm run test:slow`): a child process
 * SIGKILLs itself at seeded crash points of write, fdatasync and recycling, with tiny segments; nothing acknowledged
 * is lost. Reproduce with the seed printed: `WAL_CRASH_SEED=<seed> npx vitest run tests/store/wal-crash.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { tempDataDir } from '../../src/testing.ts';
import { crashLoop } from './wal-crash-loop.ts';

const SEED = Number(process.env['WAL_CRASH_SEED'] ?? 20_261_207);
console.log(`WAL crash test seed ${SEED}`);

describe.each(['flush', 'commit'] as const)("WAL crash loop, '%s'", (mode) => {
  it('loses nothing acknowledged across SIGKILLs at named crash points', { timeout: 90_000 }, async () => {
    const dir = tempDataDir('overseer-wal-crash-');
    try {
      const report = await crashLoop({ root: dir.path, mode, runs: 2, seed: SEED, groupsPerRun: 300 });
      expect(report.problems).toEqual([]);
      expect(report.kills).toBeGreaterThan(0);
      expect(report.acked).toBeGreaterThan(0);
    } finally {
      dir.remove();
    }
  });
});
