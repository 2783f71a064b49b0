// The compiled subset (src/actors/flat-machine.ts): machines outside it are refused (and then run on XState), and
// small machines inside it, each using one feature the project's four machines do not, step exactly as XState.
import { describe, expect, it, vi } from 'vitest';
import {
  and,
  assign,
  createMachine,
  emit,
  enqueueActions,
  log,
  not,
  raise,
  setup,
  spawnChild,
  stateIn,
  type AnyStateMachine,
} from 'xstate';
import { flatMachineObstacle } from '../../src/actors/flat-machine.ts';
import { MachineRunner } from '../../src/actors/machine-runner.ts';
import { jobMachine } from '../../src/machines/job.ts';
import { simulatedClock } from '../../src/testing.ts';
import { checkCompiledAgrees, checkCompiledWalks, explore } from './graph-helpers.ts';

const A = { type: 'A' } as const;
const flat = (extra: object) =>
  createMachine({ initial: 'S', states: { S: { on: { A: 'T' } }, T: {} }, ...extra });

const refused: Record<string, AnyStateMachine> = {
  'nested states': createMachine({ initial: 'S', states: { S: { initial: 'X', states: { X: {} } } } }),
  'parallel states': createMachine({ type: 'parallel', states: { S: {}, T: {} } }),
  'a history state': createMachine({ initial: 'S', states: { S: {}, H: { type: 'history' } } }),
  'entry actions': createMachine({ initial: 'S', states: { S: { entry: assign({}) } } }),
  'exit actions on the root': flat({ exit: assign({}) }),
  'an eventless transition': createMachine({ initial: 'S', states: { S: { always: 'T' }, T: {} } }),
  'a delayed transition': createMachine({ initial: 'S', states: { S: { after: { 10: 'T' } }, T: {} } }),
  'an invoked actor': createMachine({ initial: 'S', states: { S: { invoke: { src: createMachine({}) } } } }),
  'a wildcard transition': createMachine({ initial: 'S', states: { S: { on: { '*': 'T' } }, T: {} } }),
  'a partial wildcard': createMachine({ initial: 'S', states: { S: { on: { 'a.*': 'T' } }, T: {} } }),
  'transitions on the root': flat({ on: { B: '.T' } }),
  'a re-entering transition': createMachine({
    initial: 'S',
    states: { S: { on: { A: { target: 'S', reenter: true } } } },
  }),
  'a composite guard': createMachine({
    initial: 'S',
    states: { S: { on: { A: { target: 'T', guard: and([() => true, not(() => false)]) } } }, T: {} },
  }),
  'a stateIn guard': createMachine({
    initial: 'S',
    states: { S: { on: { A: { target: 'T', guard: stateIn('S') } } }, T: {} },
  }),
  'a raise action': createMachine({
    initial: 'S',
    states: { S: { on: { A: { actions: raise({ type: 'B' }) } } } },
  }),
  'a log action': createMachine({ initial: 'S', states: { S: { on: { A: { actions: log('x') } } } } }),
  'an emit action': createMachine({
    initial: 'S',
    states: { S: { on: { A: { actions: emit({ type: 'x' }) } } } },
  }),
  enqueueActions: createMachine({
    initial: 'S',
    states: { S: { on: { A: { actions: enqueueActions(() => undefined) } } } },
  }),
  spawnChild: createMachine({
    initial: 'S',
    states: { S: { on: { A: { actions: spawnChild(createMachine({})) } } } },
  }),
  'a plain function action': createMachine({
    initial: 'S',
    states: { S: { on: { A: { actions: () => 1 } } } },
  }),
  'a machine output': flat({ output: () => 1 }),
  'a final state output': createMachine({
    initial: 'S',
    states: { S: { on: { A: 'D' } }, D: { type: 'final', output: () => 1 } },
  }),
  'a final state with transitions': createMachine({
    initial: 'S',
    states: { S: { on: { A: 'D' } }, D: { type: 'final', on: { A: 'S' } } },
  }),
  'a final initial state': createMachine({ initial: 'D', states: { D: { type: 'final' } } }),
  'a reserved event': createMachine({ initial: 'S', states: { S: { on: { 'xstate.init': 'T' } }, T: {} } }),
  'initial actions': createMachine({ initial: { target: 'S', actions: assign({}) }, states: { S: {} } }),
};

describe('the compiled subset', () => {
  for (const [feature, machine] of Object.entries(refused)) {
    it(`refuses a machine with ${feature}`, () => {
      expect(flatMachineObstacle(machine)).not.toBeNull();
    });
  }

  it('accepts each of the project machines', async () => {
    const { machines } = await import('../../src/machines/registry.ts');
    for (const { machine } of Object.values(machines)) expect(flatMachineObstacle(machine)).toBeNull();
  });
});

/** A machine inside the subset that uses what the project's machines do not: tags, self and targetless
 * transitions without actions, property assigners with constants, static and computed params, inline guards and
 * assigns, a static context. */
interface FeaturesContext {
  n: number;
  log: string[];
  flag: boolean | null;
}
type FeaturesEvent =
  | { type: 'A' }
  | { type: 'B' }
  | { type: 'C'; by: number }
  | { type: 'SELF' }
  | { type: 'NOOP' }
  | { type: 'END' };

const features = setup({
  types: { context: {} as FeaturesContext, events: {} as FeaturesEvent },
  guards: {
    small: ({ context }, params: { below: number }) => context.n < params.below,
    even: ({ context }) => context.n % 2 === 0,
  },
  actions: {
    add: assign({ n: ({ context }, params: { by: number }) => context.n + params.by, flag: null }),
    // Bounded, so the reachable graph is finite: the last two events.
    note: assign(({ context, event }) => ({ log: [...context.log.slice(-1), event.type] })),
  },
}).createMachine({
  id: 'features',
  context: { n: 0, log: [], flag: true },
  tags: ['root'],
  initial: 'S',
  states: {
    S: {
      tags: ['s', 'shared'],
      on: {
        A: [
          {
            guard: { type: 'small', params: { below: 3 } },
            actions: [{ type: 'add', params: { by: 1 } }, 'note'],
          },
          { target: 'T', actions: 'note' },
        ],
        C: {
          guard: ({ context, event }) => event.by > 0 && context.n < 4,
          actions: [{ type: 'add', params: ({ event }) => ({ by: event.by }) }],
        },
        SELF: 'S',
        NOOP: {},
        B: { target: 'S', actions: assign({ flag: false }) },
      },
    },
    T: {
      on: { B: { guard: 'even', target: 'S' }, END: 'D', A: { actions: 'note' } },
    },
    D: { type: 'final', tags: ['done', 'shared'] },
  },
});

describe('a flat machine with the features the project machines do not use', () => {
  const events = [
    A,
    { type: 'B' },
    { type: 'C', by: 2 },
    { type: 'C', by: 0 },
    { type: 'SELF' },
    { type: 'NOOP' },
    { type: 'END' },
  ] as const;
  const explored = explore(features, undefined as never, events as never);

  it('steps, restores and persists exactly as XState on every reachable state × event', () => {
    expect(flatMachineObstacle(features)).toBeNull();
    expect(explored.states.length).toBeGreaterThan(5);
    checkCompiledAgrees(explored);
  });

  it('steps exactly as XState on random walks', () => {
    checkCompiledWalks(explored);
  });
});

describe('the runner', () => {
  const job = {
    id: 'j',
    workspaceId: 'w',
    spec: { title: 't', execution: { maxRetries: 3 } },
    depth: 0,
    at: 1,
  };

  it("leaves XState's reserved events to XState: xstate.stop stops the snapshot", () => {
    const runner = new MachineRunner(simulatedClock());
    const live = runner.spawn('k', 'w', 'job', 'j', job, 1);
    const stop = { type: 'xstate.stop' };
    expect(runner.send(live, stop).status).toBe('stopped');
  });

  it('steps its own snapshots with the compiled form, and one with children with XState', () => {
    const runner = new MachineRunner(simulatedClock());
    const xstate = vi.spyOn(jobMachine, 'transition');
    try {
      const enqueue = { type: 'ENQUEUE', at: 2, unmetDependencies: 0 };
      const own = runner.spawn('k', 'w', 'job', 'j', job, 1);
      expect(runner.send(own, enqueue).value).toBe('QUEUED');
      expect(xstate).not.toHaveBeenCalled();
      // The registry holds only flat machines; a snapshot with children is outside what the compiled form steps.
      const other = runner.spawn('k2', 'w', 'job', 'j2', job, 1);
      other.snapshot = { ...other.snapshot, children: { x: {} } } as never;
      expect(runner.can(other, enqueue)).toBe(true);
      const next = runner.send(other, enqueue);
      expect(xstate).toHaveBeenCalledTimes(1);
      expect(next.value).toBe('QUEUED');
      expect(next.children).toEqual({ x: {} });
    } finally {
      xstate.mockRestore();
    }
  });
});
