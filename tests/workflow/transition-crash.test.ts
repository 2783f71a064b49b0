/**
 * Crash tests of workflow.transition (issue 16): a child process claims a job of the `default` workflow and asks
 * for PLAN → TDD under an Idempotency-Key; it is SIGKILLed after the gate has run but before the commit, or after
 * the commit but before the answer. A restart finds the job wholly in the old phase (no new artifact, no journaled
 * move) or wholly in the new one, and a retry with the same key answers the move with a token for the current
 * phase, moving it exactly once. (Kills while review children are spawned wait for the review triggers.)
 */
import { describe, expect, it } from 'vitest';
import { tempDataDir } from '../../src/testing.ts';
import { restartAndRetry, runTransitionCrash } from '../support/transition-crash-run.ts';

const OLD = { phase: 'PLAN', epoch: 0, artifacts: [], moves: ['∅ → PLAN'] };
const NEW = { phase: 'TDD', epoch: 1, artifacts: ['plan', 'scope'], moves: ['∅ → PLAN', 'PLAN → TDD'] };

describe('crash: SIGKILL around a phase transition', () => {
  it.concurrent.for([
    { point: 'gated', expected: OLD },
    { point: 'committed', expected: NEW },
  ] as const)(
    'killed $point: the restart finds the job wholly in one phase; the retry answers the move once',
    { timeout: 20_000 },
    async ({ point, expected }, { onTestFinished }) => {
      const dir = tempDataDir('overseer-transition-crash-');
      onTestFinished(() => dir.remove());
      const run = await runTransitionCrash(dir.path, point);
      const context = `${run.lines.join(' / ')} ${run.stderr}`;
      // The kill landed where it was aimed: the child died of SIGKILL right after saying so, with no answer.
      expect(run.stalled, context).toBe(false);
      expect(run.signal, context).toBe('SIGKILL');
      expect(run.lines.slice(-2), context).toEqual(['invoke', `crash ${point}`]);
      expect(run.claimed, context).toBeDefined();

      const after = await restartAndRetry(dir.path, run.claimed!);
      expect({
        phase: after.phase,
        epoch: after.epoch,
        artifacts: after.artifacts,
        moves: after.moves,
      }).toEqual(expected);
      expect(after.retry).toEqual({ allowed: true, phase: 'TDD', epoch: 1 });
      expect(after.retryToken).toEqual({ phase: 'TDD', epoch: 1 });
      expect(after.phaseAfterRetry).toBe('TDD');
      expect(after.movesAfterRetry).toEqual(NEW.moves);
    },
  );
});
