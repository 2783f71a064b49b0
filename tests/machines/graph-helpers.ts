// Shared helpers for the machine graph tests (CONVENTIONS "Machines by their graphs"): explore a machine with
// xstate/graph from sample events, then check state and transition coverage, refusals and persistence.
import { createActor, initialTransition, transition } from 'xstate';
import type {
  AnyMachineSnapshot,
  AnyStateMachine,
  AnyStateNode,
  AnyTransitionDefinition,
  EventFromLogic,
  InputFrom,
  Snapshot,
  StateValue,
} from 'xstate';
import { getAdjacencyMap, getShortestPaths, getStateNodes, serializeSnapshot } from 'xstate/graph';
import { expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { compileFlatMachine, type FlatMachine } from '../../src/actors/flat-machine.ts';

/** One reachable snapshot, with the shortest sequence of sample events that reaches it from the initial state. */
export interface ReachedState<M extends AnyStateMachine> {
  key: string;
  snapshot: AnyMachineSnapshot;
  path: EventFromLogic<M>[];
}

/** One (reachable state, sample event) pair: the transitions the chart selected and where it led. */
export interface Edge<M extends AnyStateMachine> {
  from: ReachedState<M>;
  event: EventFromLogic<M>;
  to: AnyMachineSnapshot;
  transitions: AnyTransitionDefinition[];
}

/** The reachable graph of a machine under a set of sample events. */
export interface Explored<M extends AnyStateMachine> {
  machine: M;
  input: InputFrom<M>;
  events: readonly EventFromLogic<M>[];
  states: ReachedState<M>[];
  edges: Edge<M>[];
}

const isLive = (snapshot: { status: string }) => snapshot.status === 'active';

/**
 * Explores every snapshot (state value + context) reachable from the initial one with the sample events.
 * Traversal stops at snapshots that are no longer active: a done actor ignores every event, so nothing is
 * reachable from a final state even if the pure transition function would compute something.
 */
export function explore<M extends AnyStateMachine>(
  machine: M,
  input: InputFrom<M>,
  events: readonly EventFromLogic<M>[],
): Explored<M> {
  const options = { input, events, stopWhen: (s: AnyMachineSnapshot) => !isLive(s) };
  const paths = getShortestPaths(machine, options as never) as unknown as Array<{
    state: AnyMachineSnapshot;
    steps: Array<{ event: EventFromLogic<M> }>;
  }>;
  const states = new Map<string, ReachedState<M>>();
  for (const path of paths) {
    const key = serializeSnapshot(path.state);
    const events = path.steps.map((s) => s.event).filter((e) => e.type !== 'xstate.init');
    states.set(key, { key, snapshot: path.state, path: events });
  }
  const adjacency = getAdjacencyMap(machine, options as never) as unknown as Record<
    string,
    {
      state: AnyMachineSnapshot;
      transitions: Record<string, { event: EventFromLogic<M>; state: AnyMachineSnapshot }>;
    }
  >;
  const edges: Edge<M>[] = [];
  for (const [key, { transitions }] of Object.entries(adjacency)) {
    const from = states.get(key);
    if (!from) throw new Error(`adjacency state without a shortest path: ${key}`);
    for (const { event, state } of Object.values(transitions)) {
      edges.push({ from, event, to: state, transitions: machine.getTransitionData(from.snapshot, event) });
    }
  }
  if (states.size !== Object.keys(adjacency).length) throw new Error('paths and adjacency disagree');
  return { machine, input, events, states: [...states.values()], edges };
}

/** A state node's path as a state value (`['A', 'B']` → `{ A: 'B' }`). */
function valueOf(node: AnyStateNode): StateValue {
  const [first, ...rest] = node.path;
  if (first === undefined) throw new Error('the root has no state value');
  return rest.length === 0 ? first : { [first]: valueOf({ path: rest } as AnyStateNode) };
}

/** Every state node below the root. */
export const stateNodesOf = (machine: AnyStateMachine): AnyStateNode[] => getStateNodes(machine.root);

/** The ids of state nodes no reachable snapshot is in. */
export function unreachedStateNodes<M extends AnyStateMachine>(explored: Explored<M>): string[] {
  return stateNodesOf(explored.machine)
    .filter((node) => !explored.states.some((s) => s.snapshot.matches(valueOf(node))))
    .map((node) => node.id);
}

const label = (node: AnyStateNode) => node.path.join('.') || `(${node.id})`;

function guardName(guard: AnyTransitionDefinition['guard']): string {
  if (guard === undefined) return '';
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'inline guard';
  return String((guard as { type: unknown }).type);
}

/**
 * A readable, unique name for a transition taken from a leaf state:
 * `RUNNING: FAIL#0 [canRetry] → RETRY_WAIT`, or `RUNNING: CANCEL@(job)#0 → CANCELED` when declared on an ancestor.
 */
export function transitionKey(leaf: AnyStateNode, t: AnyTransitionDefinition): string {
  const list = t.source.transitions.get(t.eventType) ?? [];
  const index = list.indexOf(t);
  const via = t.source === leaf ? '' : `@${label(t.source)}`;
  const guard = guardName(t.guard);
  const target = t.target?.length ? t.target.map(label).join(',') : '(stays)';
  return `${label(leaf)}: ${t.eventType}${via}#${index}${guard ? ` [${guard}]` : ''} → ${target}`;
}

/** The leaf states a machine can rest in (atomic, not final), after checking it has no parallel regions. */
function restingLeaves(machine: AnyStateMachine): AnyStateNode[] {
  const nodes = stateNodesOf(machine);
  if (nodes.some((n) => n.type === 'parallel')) throw new Error('graph-helpers handle compound charts only');
  return nodes.filter((n) => n.type === 'atomic');
}

/**
 * Every transition the config declares, as (leaf state, transition) pairs: a leaf's own transitions and those
 * of its ancestors, except where a lower node declares the same event without a guard (which shadows them).
 * Branches after an unguarded branch in the same list are included on purpose: they are dead config.
 * Final leaves are left out (a final state accepts nothing), as are `always` and `after` (the machines use
 * neither; `assertNoTimersOrEventless` checks that).
 */
export function declaredTransitions(machine: AnyStateMachine): string[] {
  const keys: string[] = [];
  for (const leaf of restingLeaves(machine)) {
    const shadowed = new Set<string>();
    for (let node: AnyStateNode | undefined = leaf; node; node = node.parent) {
      for (const [eventType, list] of node.transitions) {
        if (shadowed.has(eventType)) continue;
        for (const t of list) keys.push(transitionKey(leaf, t));
        if (list.some((t) => t.guard === undefined)) shadowed.add(eventType);
      }
    }
  }
  return keys.sort();
}

/** The active leaf state node of a snapshot of a compound chart. */
function leafOf<M extends AnyStateMachine>(machine: M, snapshot: AnyMachineSnapshot): AnyStateNode {
  const leaf = stateNodesOf(machine).find(
    (n) => (n.type === 'atomic' || n.type === 'final') && snapshot.matches(valueOf(n) as never),
  );
  if (!leaf) throw new Error(`no leaf for ${JSON.stringify(snapshot.value)}`);
  return leaf;
}

/** The transitions the explored edges took. */
export function coveredTransitions<M extends AnyStateMachine>(explored: Explored<M>): string[] {
  const keys = new Set<string>();
  for (const edge of explored.edges) {
    const leaf = leafOf(explored.machine, edge.from.snapshot);
    for (const t of edge.transitions) keys.add(transitionKey(leaf, t));
  }
  return [...keys].sort();
}

/** Fails if a state node uses `always` or `after`, which the coverage above does not see. */
export function assertNoTimersOrEventless(machine: AnyStateMachine): void {
  for (const node of [machine.root, ...stateNodesOf(machine)]) {
    expect(node.always ?? [], `${node.id} has eventless transitions`).toEqual([]);
    expect(node.after, `${node.id} has delayed transitions`).toEqual([]);
  }
}

/** The persisted form of a snapshot. */
export const persist = <M extends AnyStateMachine>(machine: M, snapshot: AnyMachineSnapshot) =>
  machine.getPersistedSnapshot(snapshot) as Record<string, unknown>;

/** An actor restored from a persisted snapshot and started. */
export function restore(machine: AnyStateMachine, persisted: unknown) {
  return createActor(machine, { snapshot: persisted as Snapshot<unknown> }).start();
}

/** Replays events on a fresh actor created from `input` and returns it. */
export function replay<M extends AnyStateMachine>(
  machine: M,
  input: InputFrom<M>,
  events: readonly EventFromLogic<M>[],
) {
  const actor = createActor(machine, { input }).start();
  for (const event of events) actor.send(event);
  return actor;
}

/** Short text for a state in failure messages: its value and the events that reach it. */
export function describeState<M extends AnyStateMachine>(s: ReachedState<M>): string {
  return `${JSON.stringify(s.snapshot.value)} via [${s.path.map((e) => JSON.stringify(e)).join(', ')}]`;
}

/**
 * Runs the checks every machine must pass, each as an `expect` (call inside `it`):
 * - every shortest path replays on a real actor to the snapshot xstate/graph computed;
 * - for every reachable state and sample event, `can()` agrees with what an actor restored from that state does:
 *   refused → the persisted snapshot is unchanged; changed → `can()` was true; accepted → the actor reaches
 *   the same snapshot as the graph;
 * - a state that is done accepts no sample event.
 */
export function checkRefusals<M extends AnyStateMachine>(explored: Explored<M>): void {
  const { machine, events, states } = explored;
  for (const s of states) {
    const before = persist(machine, s.snapshot);
    for (const event of events) {
      const where = `${describeState(s)} + ${JSON.stringify(event)}`;
      const accepted = s.snapshot.can(event);
      const actor = restore(machine, before);
      const warnings = captureWarnings(() => actor.send(event));
      const after = actor.getPersistedSnapshot();
      actor.stop();
      // xstate (development build) warns when a done actor is sent an event; a live one must not warn.
      if (isLive(s.snapshot)) expect(warnings, where).toEqual([]);
      else for (const w of warnings) expect(w, where).toMatch(/already reached its final state/);
      if (!isLive(s.snapshot)) expect(accepted, `a ${s.snapshot.status} state accepted ${where}`).toBe(false);
      if (!accepted) expect(after, `refused but changed: ${where}`).toEqual(before);
      else {
        const expected = persist(machine, transitionOf(explored, s, event));
        expect(after, `accepted, but the actor and the graph disagree: ${where}`).toEqual(expected);
      }
    }
  }
}

/** Runs `fn` with console.warn captured; returns what was warned. */
function captureWarnings(fn: () => void): string[] {
  const warnings: string[] = [];
  const spy = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return warnings;
}

function transitionOf<M extends AnyStateMachine>(
  explored: Explored<M>,
  from: ReachedState<M>,
  event: EventFromLogic<M>,
): AnyMachineSnapshot {
  const edge = explored.edges.find((e) => e.from === from && e.event === event);
  if (!edge) throw new Error(`no explored edge for ${describeState(from)} + ${JSON.stringify(event)}`);
  return edge.to;
}

/** Every shortest path replays on a real actor to the snapshot the graph computed. */
export function checkPathsReplay<M extends AnyStateMachine>(explored: Explored<M>): void {
  for (const s of explored.states) {
    const actor = replay(explored.machine, explored.input, s.path);
    expect(actor.getPersistedSnapshot(), describeState(s)).toEqual(persist(explored.machine, s.snapshot));
    actor.stop();
  }
}

/** persist → JSON.stringify → JSON.parse → restore → persist is deep-equal (and JSON-identical) in every state. */
export function checkPersistenceRoundTrip<M extends AnyStateMachine>(explored: Explored<M>): void {
  for (const s of explored.states) {
    const persisted = persist(explored.machine, s.snapshot);
    const json = JSON.stringify(persisted);
    const actor = restore(explored.machine, JSON.parse(json));
    const again = actor.getPersistedSnapshot();
    actor.stop();
    expect(again, describeState(s)).toEqual(persisted);
    expect(JSON.stringify(again), describeState(s)).toBe(json);
    expect(actor.getSnapshot().value, describeState(s)).toEqual(s.snapshot.value);
  }
}

/** A value with every object turned into its entries, so that key order (which msgpack records keep) compares too. */
function ordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ordered);
  if (value && typeof value === 'object') return Object.entries(value).map(([k, v]) => [k, ordered(v)]);
  return value;
}

/** Everything a snapshot shows, methods and key order included, for comparing two snapshots field by field. */
function anatomy(snapshot: AnyMachineSnapshot): Record<string, unknown> {
  const s = snapshot as unknown as Record<string, unknown> & { _nodes: AnyStateNode[]; tags: Set<string> };
  return {
    keys: Object.keys(s),
    status: s.status,
    value: s.value,
    context: s.context,
    contextInOrder: ordered(s.context),
    output: s.output,
    error: s.error,
    children: s.children,
    historyValue: s.historyValue,
    nodes: s._nodes.map((n) => n.id),
    tags: [...s.tags],
    machine: s.machine,
    methods: [s.matches, s.hasTag, s.can, s.getMeta, s.toJSON],
  };
}

/** The compiled form of a machine; fails the test if the machine is outside the compiled subset. */
export function compiled(machine: AnyStateMachine): FlatMachine {
  const flat = compileFlatMachine(machine, { self: undefined, system: undefined });
  expect(flat, `${machine.id} is outside the compiled subset`).not.toBeNull();
  return flat!;
}

/**
 * The compiled machine (src/actors/flat-machine.ts) computes what XState computes, from the initial snapshot, on
 * every reachable (state, sample event) pair, and for restore and persist: the same snapshot fields, methods and
 * key order, and byte-identical persisted forms.
 */
export function checkCompiledAgrees<M extends AnyStateMachine>(explored: Explored<M>): void {
  const { machine, events, states, input } = explored;
  const flat = compiled(machine);
  const xScope = (createActor(machine) as unknown as { _actorScope: never })._actorScope;
  const samePersisted = (a: AnyMachineSnapshot, b: AnyMachineSnapshot, where: string) =>
    expect(ordered(flat.persist(a)), where).toEqual(ordered(machine.getPersistedSnapshot(b)));
  const [xInitial] = initialTransition(machine, input);
  const fInitial = flat.initial(input);
  expect(anatomy(fInitial), 'initial snapshot').toEqual(anatomy(xInitial));
  samePersisted(fInitial, xInitial, 'initial snapshot');
  for (const s of states) {
    const persisted = machine.getPersistedSnapshot(s.snapshot);
    const restored = flat.restore(persisted)!;
    expect(restored, describeState(s)).not.toBeNull();
    expect(anatomy(restored), `restore ${describeState(s)}`).toEqual(
      anatomy(machine.restoreSnapshot(persisted as never, xScope)),
    );
    samePersisted(restored, s.snapshot, describeState(s));
    expect(flat.owns(s.snapshot), describeState(s)).toBe(true);
    for (const event of events) {
      const where = `${describeState(s)} + ${JSON.stringify(event)}`;
      // From the snapshot XState made, and from the one the compiled machine restored.
      for (const from of [s.snapshot, restored]) {
        expect(flat.can(from, event), where).toBe(s.snapshot.can(event));
        const [expected] = transition(machine as AnyStateMachine, from, event) as [
          AnyMachineSnapshot,
          unknown,
        ];
        const got = flat.transition(from, event);
        expect(anatomy(got), where).toEqual(anatomy(expected));
        samePersisted(got, expected, where);
        if (expected === from) {
          expect(got, `unchanged: ${where}`).toBe(from);
          continue;
        }
        // Restored from the compiled machine's own persisted form, too.
        const again = flat.restore(flat.persist(got))!;
        expect(anatomy(again), `restore after ${where}`).toEqual(
          anatomy(machine.restoreSnapshot(machine.getPersistedSnapshot(expected) as never, xScope)),
        );
      }
    }
  }
}

/**
 * Random walks (fast-check): sequences of sample events with random times, from the initial snapshot, stepped by
 * the compiled machine and by XState side by side; both agree after every event.
 */
export function checkCompiledWalks<M extends AnyStateMachine>(explored: Explored<M>, runs = 200): void {
  const { machine, events, input } = explored;
  const flat = compiled(machine);
  const withTime = (e: EventFromLogic<M>, at: number): EventFromLogic<M> => ('at' in e ? { ...e, at } : e);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(events.length - 1), fc.integer({ min: 0, max: 2 ** 40 })), { maxLength: 40 }),
      (steps) => {
        const m: AnyStateMachine = machine;
        let [x] = initialTransition(m, input) as [AnyMachineSnapshot, unknown];
        let f = flat.initial(input);
        for (const [i, at] of steps) {
          const event = withTime(events[i]!, at);
          expect(flat.can(f, event)).toBe(x.can(event));
          [x] = transition(m, x, event) as [AnyMachineSnapshot, unknown];
          f = flat.transition(f, event);
          expect(anatomy(f)).toEqual(anatomy(x));
        }
        expect(ordered(flat.persist(f))).toEqual(ordered(machine.getPersistedSnapshot(x)));
      },
    ),
    { numRuns: runs },
  );
}

/** What a machine's graph suite needs besides the machine. */
export interface GraphSuite<M extends AnyStateMachine> {
  machine: M;
  input: InputFrom<M>;
  events: readonly EventFromLogic<M>[];
  /** The chart's final states, as the design names them. */
  finals: string[];
  /** Declared transitions the sample events cannot take, each with the reason it is dead. Keep it empty. */
  unreachable?: Record<string, string>;
}

/** Registers the graph checks every machine must pass; returns the explored graph for further tests. */
export function graphSuite<M extends AnyStateMachine>(suite: GraphSuite<M>): Explored<M> {
  const { machine, input, events, finals } = suite;
  const unreachable = Object.keys(suite.unreachable ?? {}).sort();
  const explored = explore(machine, input, events);

  it('uses no delayed or eventless transitions (durable timers deliver ordinary events)', () => {
    assertNoTimersOrEventless(machine);
  });

  it('reaches every state node', () => {
    expect(stateNodesOf(machine).length).toBeGreaterThan(0);
    expect(unreachedStateNodes(explored)).toEqual([]);
  });

  it('takes every declared transition (state × event × guarded branch)', () => {
    const declared = declaredTransitions(machine);
    const covered = coveredTransitions(explored);
    expect(declared.length).toBeGreaterThan(0);
    expect(
      covered.filter((k) => !declared.includes(k)),
      'taken but not declared',
    ).toEqual([]);
    expect(
      declared.filter((k) => !covered.includes(k)),
      'declared but never taken',
    ).toEqual(unreachable);
  });

  it('replays every shortest path on a real actor', () => {
    checkPathsReplay(explored);
  });

  it('refuses what can() refuses without changing anything, and can() accepts every change', () => {
    checkRefusals(explored);
    for (const edge of explored.edges) {
      const changed =
        JSON.stringify(persist(machine, edge.to)) !== JSON.stringify(persist(machine, edge.from.snapshot));
      if (changed)
        expect(edge.from.snapshot.can(edge.event), `${describeState(edge.from)} + ${edge.event.type}`).toBe(
          true,
        );
    }
  });

  it('survives persist → JSON → restore → persist in every reachable state', () => {
    checkPersistenceRoundTrip(explored);
  });

  it('is computed by its compiled form exactly as XState computes it, on every reachable state × event', () => {
    checkCompiledAgrees(explored);
  });

  it('is computed by its compiled form exactly as XState computes it, on random walks', () => {
    checkCompiledWalks(explored);
  });

  it(`has final states ${finals.join(', ')} that accept no event`, () => {
    const declaredFinals = stateNodesOf(machine)
      .filter((n) => n.type === 'final')
      .map((n) => n.path.join('.'));
    expect(declaredFinals.sort()).toEqual([...finals].sort());
    for (const name of finals) {
      const reached = explored.states.filter((s) => s.snapshot.matches(name as never));
      expect(reached.length, `${name} reached`).toBeGreaterThan(0);
      for (const s of reached) {
        expect(s.snapshot.status, describeState(s)).toBe('done');
        for (const event of events) {
          expect(s.snapshot.can(event), `${describeState(s)} + ${JSON.stringify(event)}`).toBe(false);
          expect(machine.getTransitionData(s.snapshot, event), `${name} + ${event.type}`).toEqual([]);
        }
      }
    }
  });

  return explored;
}
