/**
 * Issue 15's adversarial property test, short form: 8 agents race over 1,000 jobs through the library, and 2 agents
 * over 100 jobs through the HTTP routes; between their own calls they attack what they did not claim (ids from
 * `events.list`, guessed lease secrets, fences ±k, another worker's id, another agent's idempotency keys). Every
 * attack is refused for the right reason and the journal shows each job changed only by its claimer
 * (`adversary.ts`). The long form, more attacks and several schedules, is `adversary.slow.test.ts`.
 *
 * `ADVERSARY_SEED=<seed>` replays the schedules of a run (the seed is printed at start and on a failure).
 */
import { describe, it } from 'vitest';
import { httpArena, libraryArena } from './adversary-arenas.ts';
import { adversarySeed, runRaces } from './adversary.ts';

const seed = adversarySeed();

describe('adversarial agents (issue 15)', () => {
  it('8 agents × 1,000 jobs through the library: every attack refused, every job changed by its claimer only', async () => {
    await runRaces(libraryArena, { agents: 8, jobs: 1000, steps: 32, maxAttacks: 4, runs: 1, seed });
  });

  it('2 agents × 100 jobs over HTTP: the same', async () => {
    await runRaces(httpArena, { agents: 2, jobs: 100, steps: 32, maxAttacks: 6, runs: 1, seed });
  });
});
