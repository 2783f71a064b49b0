/**
 * Issue 15's adversarial property test, long form (`npm run test:slow`, not part of `npm test`): several schedules
 * of 8 agents × 1,000 jobs through the library with six times the attacks of the short form, and 4 agents × 400
 * jobs over HTTP. See `adversary.ts`.
 *
 * `ADVERSARY_SEED=<seed>` replays the schedules; `ADVERSARY_RUNS` sets how many the library part runs (default 10).
 */
import { describe, it } from 'vitest';
import { httpArena, libraryArena } from './adversary-arenas.ts';
import { adversarySeed, runRaces } from './adversary.ts';

const seed = adversarySeed();
const runs = Number(process.env['ADVERSARY_RUNS'] ?? 10);

describe('adversarial agents (issue 15, slow)', () => {
  it(`${runs} schedules of 8 agents × 1,000 jobs through the library`, { timeout: 600_000 }, async () => {
    await runRaces(libraryArena, { agents: 8, jobs: 1000, steps: 64, maxAttacks: 24, runs, seed });
  });

  it('4 agents × 400 jobs over HTTP', { timeout: 600_000 }, async () => {
    await runRaces(httpArena, { agents: 4, jobs: 400, steps: 64, maxAttacks: 16, runs: 1, seed });
  });
});
