/**
 * The long loop of tests/workflow/transition-crash.test.ts (`npm run test:slow`): `TRANSITION_CRASH_RUNS` runs
 * (default 30), each a fresh data dir, the child killed at a seeded random moment 0–60 ms after it asked for
 * PLAN → TDD (from outside, no crash point armed), every fifth run at the armed points instead. Every restart must
 * find the job wholly in PLAN (no artifact, no journaled move) or wholly in TDD (both artifacts, one move), and a
 * retry with the same Idempotency-Key must answer the move with a token for TDD, moving it exactly once.
 *
 * Reproduce with the seed it prints: `TRANSITION_CRASH_SEED=<seed> npm run test:slow -- transition-crash`.
 */
import { describe, expect, it } from 'vitest';
import { tempDataDir } from '../../src/testing.ts';
import { mulberry32 } from '../support/prng.ts';
import { restartAndRetry, runTransitionCrash } from '../support/transition-crash-run.ts';
import type { CrashPoint } from '../support/transition-crash-workload.ts';

const SEED = Number(process.env.TRANSITION_CRASH_SEED ?? 20_261_216);
const RUNS = Number(process.env.TRANSITION_CRASH_RUNS ?? 30);
console.log(`transition crash seed ${SEED}, ${RUNS} runs`);

const OLD = { phase: 'PLAN', epoch: 0, artifacts: [], moves: ['∅ → PLAN'] };
const NEW = { phase: 'TDD', epoch: 1, artifacts: ['plan', 'scope'], moves: ['∅ → PLAN', 'PLAN → TDD'] };

describe('crash: SIGKILL at random moments of a phase transition', () => {
  it('every restart finds the job wholly in one phase; every retry answers the move once', async () => {
    const rand = mulberry32(SEED);
    const seen = { old: 0, new: 0, answered: 0 };
    for (let i = 0; i < RUNS; i++) {
      const armed: CrashPoint[] = ['gated', 'committed'];
      const point: CrashPoint = i % 5 === 4 ? armed[Math.floor(rand() * 2)]! : 'none';
      const delay = point === 'none' ? Math.floor(rand() * 61) : undefined;
      const dir = tempDataDir('overseer-transition-crash-');
      try {
        const run = await runTransitionCrash(dir.path, point, delay);
        const context = `run ${i} (seed ${SEED}, ${point}, ${String(delay)} ms): ${run.lines.join(' / ')} ${run.stderr}`;
        expect(run.stalled, context).toBe(false);
        expect(run.signal, context).toBe('SIGKILL');
        expect(run.claimed, context).toBeDefined();
        const answered = run.lines.some((l) => l.startsWith('ok '));
        const after = await restartAndRetry(dir.path, run.claimed!);
        const state = {
          phase: after.phase,
          epoch: after.epoch,
          artifacts: after.artifacts,
          moves: after.moves,
        };
        expect([OLD, NEW], context).toContainEqual(state);
        if (answered) expect(state, context).toEqual(NEW);
        expect(after.retry, context).toEqual({ allowed: true, phase: 'TDD', epoch: 1 });
        expect(after.retryToken, context).toEqual({ phase: 'TDD', epoch: 1 });
        expect(after.movesAfterRetry, context).toEqual(NEW.moves);
        if (answered) seen.answered++;
        else if (state.phase === 'PLAN') seen.old++;
        else seen.new++;
      } finally {
        dir.remove();
      }
    }
    console.log(`transition crash: ${JSON.stringify(seen)}`);
    // The faults happened on both sides of the commit.
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new).toBeGreaterThan(0);
  });
});
