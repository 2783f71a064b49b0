import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PhaseMove } from '../../src/domain/workflow/admits-move.ts';
import { planTransition } from '../../src/domain/workflow/plan-transition.ts';
import { validateWorkflow } from '../../src/domain/workflow/validate-workflow.ts';
import { phaseMachine, type PhaseEvent, type PhaseInput } from '../../src/machines/phase.ts';
import { ROOT } from '../../scripts/gen.ts';
import { graphSuite, replay } from '../machines/graph-helpers.ts';

/** A move that hands in no artifact and passed no gate. */
const NOTHING = { artifacts: {}, gates: [], warned: false };

const at = 1_000;
const workflow = { name: 'default', version: 1 };
const input: PhaseInput = { jobId: 'job-1', workspaceId: 'ws', workflow, phase: 'PLAN', at: 0 };

const moveTo = (
  from: string,
  to: string,
  epoch: number,
  round: number,
  over: Partial<PhaseMove> = {},
): PhaseEvent => ({
  type: 'TRANSITION',
  artifacts: {},
  gates: [],
  warned: false,
  at,
  to,
  move: { workflow, epoch, from, to, allowed: true, final: to === 'COMPLETE', round, ...over },
});

/** The happy path with one change request, plus moves the actor must refuse. */
const events: PhaseEvent[] = [
  moveTo('PLAN', 'TDD', 0, 0),
  moveTo('TDD', 'IMPL', 1, 0),
  moveTo('IMPL', 'REVIEW', 2, 1),
  moveTo('REVIEW', 'IMPL', 3, 1),
  moveTo('IMPL', 'REVIEW', 4, 2),
  moveTo('REVIEW', 'COMPLETE', 5, 2),
  moveTo('PLAN', 'TDD', 0, 0, { allowed: false }),
  moveTo('PLAN', 'TDD', 0, 0, { workflow: { name: 'default', version: 2 } }),
  // A move planned for another target than the one requested.
  {
    type: 'TRANSITION',
    artifacts: {},
    gates: [],
    warned: false,
    at,
    to: 'IMPL',
    move: { workflow, epoch: 0, from: 'PLAN', to: 'TDD', allowed: true, final: false, round: 0 },
  },
  { type: 'CANCEL', at, reason: 'job canceled' },
];

describe('phase chart, driven by its graph', () => {
  graphSuite({ machine: phaseMachine, input, events, finals: ['COMPLETE', 'CANCELED'] });
});

describe('phase actor behaviour', () => {
  const run = (evs: PhaseEvent[]) => replay(phaseMachine, input, evs).getSnapshot();

  it('starts ACTIVE in the first phase at epoch 0, round 0', () => {
    expect(run([])).toMatchObject({
      value: 'ACTIVE',
      context: { phase: 'PLAN', epoch: 0, round: 0, workflow },
    });
  });

  it('a move planned by planTransition on the default workflow is taken, and bumps the epoch', () => {
    const w = validateWorkflow(readFileSync(join(ROOT, 'workflows', 'default.yaml'), 'utf8')).workflow!;
    const plan = planTransition({
      workflow: w,
      from: 'PLAN',
      to: 'TDD',
      round: 0,
      artifacts: {
        plan: { summary: 's', acceptance_criteria: ['c'] },
        scope: { files: [{ path: 'a.ts', change: 'modify' }] },
      },
      evidence: {},
    });
    const move: PhaseMove = { ...plan, workflow: { name: w.name, version: w.version }, epoch: 0 };
    const s = run([{ type: 'TRANSITION', at: 5, to: 'TDD', move, ...NOTHING }]);
    expect(s.context).toMatchObject({ phase: 'TDD', epoch: 1, round: 0, updatedAt: 5 });
    // The same plan again is stale: its epoch has passed.
    expect(s.can({ type: 'TRANSITION', at: 6, to: 'TDD', move, ...NOTHING })).toBe(false);
    // A refused plan is never taken.
    const refused = planTransition({
      workflow: w,
      from: 'PLAN',
      to: 'TDD',
      round: 0,
      artifacts: {},
      evidence: {},
    });
    expect(
      run([]).can({
        type: 'TRANSITION',
        at,
        to: 'TDD',
        move: { ...refused, workflow, epoch: 0 },
        ...NOTHING,
      }),
    ).toBe(false);
  });

  it('a move into a final phase completes the actor; CANCEL records its reason', () => {
    const done = run(events.slice(0, 6));
    expect(done).toMatchObject({
      value: 'COMPLETE',
      status: 'done',
      context: { phase: 'COMPLETE', epoch: 6, round: 2 },
    });
    const canceled = run([events[0]!, { type: 'CANCEL', at: 9 }]);
    expect(canceled).toMatchObject({
      value: 'CANCELED',
      context: { phase: 'TDD', canceledReason: 'canceled' },
    });
  });
});
