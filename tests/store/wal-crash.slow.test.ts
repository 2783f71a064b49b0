/**
 * WAL crash loops, long form (`npm run test:slow`, not part of `npm test`): hundreds of SIGKILLs at seeded crash
 * points of write, fdatasync and recycling, each run recycling 4 KiB segments hundreds of times; nothing acknowledged
 * is lost. Reproduce with the seed printed: `WAL_CRASH_SEED=<seed> npm run test:slow`.
 */
import { describe, expect, it } from 'vitest';
import { tempDataDir } from '../../src/testing.ts';
import { crashLoop } from './wal-crash-loop.ts';

const SEED = Number(process.env['WAL_CRASH_SEED'] ?? Date.now() % 1_000_000_007);
const RUNS = Number(process.env['WAL_CRASH_RUNS'] ?? 60);
console.log(`WAL crash loop seed ${SEED}, ${RUNS} runs per mode`);

describe.each(['flush', 'commit'] as const)("WAL crash loop, '%s' (slow)", (mode) => {
  it('loses nothing acknowledged across hundreds of SIGKILLs', { timeout: 3_600_000 }, async () => {
    const dir = tempDataDir('overseer-wal-crash-');
    try {
      const report = await crashLoop({
        root: dir.path,
        mode,
        runs: RUNS,
        seed: SEED,
        groupsPerRun: Number(process.env['WAL_CRASH_GROUPS'] ?? 1000),
      });
      console.log(`'${mode}': ${JSON.stringify({ ...report, problems: report.problems.length })}`);
      expect(report.problems).toEqual([]);
      expect(report.kills).toBeGreaterThan(RUNS / 2);
      // Each step is drawn one time in six: with 60 runs or more, every one of them has killed (1 − 10⁻⁴ at 60).
      if (RUNS >= 60)
        for (const step of [
          'wal-write',
          'wal-write-torn',
          'wal-written',
          'wal-synced',
          'wal-recycle',
          'wal-recycled',
        ])
          expect(report.killsByStep[step] ?? 0, step).toBeGreaterThan(0);
    } finally {
      dir.remove();
    }
  });
});
