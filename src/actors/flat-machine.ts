import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode, EventObject } from 'xstate';

/** A guard or action as XState keeps it on a transition: a name, `{ type, params }`, or an inline function. */
type Reference = string | { type: string; params?: unknown } | ((...args: never[]) => unknown);
/** Static params, or a function of `{ context, event }` that gives them. */
type Params = unknown;
type Assigner = (args: AssignArgs, params: unknown) => unknown;
/** What `assign()` was given: one assigner, or an object of property assigners and constants. */
type Assignment = Assigner | Record<string, unknown>;

interface AssignArgs {
  context: Record<string, unknown>;
  event: EventObject;
  spawn: () => never;
  self: unknown;
  system: unknown;
}

/** One compiled assign action of a transition. */
interface CompiledAssign {
  assignment: Assignment;
  params: Params;
  hasParams: boolean;
}

/** One compiled transition: its guard, its assigns in order, and where it leads (`null`: it stays). */
interface CompiledTransition {
  guard: ((args: { context: unknown; event: EventObject }, params: unknown) => boolean) | null;
  guardName: string | undefined;
  guardParams: Params;
  guardHasParams: boolean;
  assigns: CompiledAssign[];
  target: CompiledState | null;
  /** What `snapshot.can()` answers when this transition is selected: it has a target or actions. */
  allowed: boolean;
}

interface CompiledState {
  node: AnyStateNode;
  name: string;
  final: boolean;
  /** `[root, this state]`: a flat machine's active nodes (XState lists them deepest first once it is done). */
  nodes: AnyStateNode[];
  /** The active nodes in the order XState's `restoreSnapshot` lists them. */
  restoredNodes: AnyStateNode[];
  on: Map<string, CompiledTransition[]>;
}

/** The methods every XState machine snapshot carries (taken from one XState made). */
interface SnapshotMethods {
  matches: unknown;
  hasTag: unknown;
  can: unknown;
  getMeta: unknown;
  toJSON: unknown;
}

/** The actor scope assigns get `self` and `system` from (the runner's inert scope). */
export interface StepScope {
  self: unknown;
  system: unknown;
}

const NO_CONTEXT =
  'Cannot assign to undefined `context`. Ensure that `context` is defined in the machine config.';

const noSpawn = (): never => {
  throw new Error('Machines of the host may not spawn actors.');
};

/**
 * The machines' own transition function, compiled (DESIGN §2: machines are pure). For a **flat** machine — atomic
 * and final states under the root, named or inline guards, only `assign` actions, no entry/exit actions, no
 * eventless, delayed or wildcard transitions, no invoked or spawned actors, no history, no output — a step of
 * XState's algorithm reduces to: pick the first candidate of the state whose guard passes, apply its assigns in
 * order (`Object.assign({}, context, partial)` each, as XState's `assign` does), move to its target (a final
 * target makes the snapshot `done`). This does exactly that, without XState's generic machinery (entry and exit
 * sets, one cloned snapshot per assign, recomputed state values and tags): a step costs about a tenth.
 *
 * The snapshots it makes have every field and method, in the same order, of those XState makes, so
 * `snapshot.can()`, `machine.transition()` and the inspector work on them, and their persisted form is the same
 * object XState's `getPersistedSnapshot` builds. Two deliberate differences, both on data XState would treat as
 * actor references: contexts are persisted and restored as they are (XState rewrites any object with `sessionId`,
 * `send` and `ref` keys into an actor reference, and revives `{ xstate$$type: 1 }` objects — user metadata could
 * look like either); and the graph tests check every reachable (state, event) pair against XState itself.
 *
 * `compileFlatMachine` answers `null` for a machine outside that subset; the runner then uses XState for it.
 */
export class FlatMachine {
  readonly machine: AnyStateMachine;
  private readonly states: Map<string, CompiledState>;
  private readonly initialState: CompiledState;
  private readonly methods: SnapshotMethods;
  private readonly scope: StepScope;
  private readonly contextFactory:
    ((args: { spawn: unknown; input: unknown; self: unknown }) => unknown) | null;
  private readonly staticContext: unknown;
  /** Whether any state has tags (XState lists them in the order of the active nodes). */
  private readonly tagged: boolean;

  constructor(
    machine: AnyStateMachine,
    states: Map<string, CompiledState>,
    initialState: CompiledState,
    scope: StepScope,
  ) {
    this.machine = machine;
    this.states = states;
    this.initialState = initialState;
    this.scope = scope;
    const sample = machine.resolveState({
      value: initialState.name,
      context: {},
    }) as unknown as SnapshotMethods;
    this.methods = {
      matches: sample.matches,
      hasTag: sample.hasTag,
      can: sample.can,
      getMeta: sample.getMeta,
      toJSON: sample.toJSON,
    };
    const context = (machine.config as { context?: unknown }).context;
    this.contextFactory = typeof context === 'function' ? (context as never) : null;
    this.staticContext = typeof context !== 'function' && context ? context : {};
    this.tagged = [machine.root, ...Object.values(machine.root.states)].some((n) => n.tags.length > 0);
  }

  /** The initial snapshot for `input` (what `machine.getInitialSnapshot` computes); throws what the context threw. */
  initial(input: unknown): AnyMachineSnapshot {
    let context = this.staticContext;
    if (this.contextFactory) {
      // XState runs the context factory as an assign over an empty context.
      const partial = this.contextFactory({ spawn: noSpawn, input, self: this.scope.self });
      context = Object.assign({}, {}, partial);
    }
    return this.make('active', context, this.initialState, {}, {}, undefined, undefined);
  }

  /**
   * The next snapshot after `event` (what `machine.transition` computes); the same snapshot when no transition is
   * enabled or the machine is done.
   */
  transition(snapshot: AnyMachineSnapshot, event: EventObject): AnyMachineSnapshot {
    if (snapshot.status !== 'active') return snapshot;
    const state = this.stateOf(snapshot);
    const t = this.select(state, snapshot, event);
    if (!t) return snapshot;
    const stays = t.target === null || t.target === state;
    // No assign and no move: XState hands back the very same snapshot.
    if (stays && t.assigns.length === 0) return snapshot;
    let context = snapshot.context as Record<string, unknown>;
    for (const a of t.assigns) {
      if (!context) throw new Error(NO_CONTEXT);
      const args: AssignArgs = {
        context,
        event,
        spawn: noSpawn,
        self: this.scope.self,
        system: this.scope.system,
      };
      const params = a.hasParams
        ? typeof a.params === 'function'
          ? (a.params as (x: unknown) => unknown)({ context, event })
          : a.params
        : undefined;
      let partial: unknown;
      const assignment = a.assignment; // called as a plain function, as XState calls it
      if (typeof assignment === 'function') partial = assignment(args, params);
      else {
        const update: Record<string, unknown> = {};
        for (const key of Object.keys(assignment)) {
          const prop = assignment[key];
          update[key] = typeof prop === 'function' ? (prop as Assigner)(args, params) : prop;
        }
        partial = update;
      }
      context = Object.assign({}, context, partial);
    }
    const target = t.target ?? state;
    const status = target.final ? 'done' : 'active';
    return this.make(
      status,
      context,
      target,
      snapshot.children as Record<string, unknown>,
      snapshot.historyValue as Record<string, unknown>,
      snapshot.output,
      snapshot.error,
      stays ? (snapshot._nodes as AnyStateNode[]) : undefined,
    );
  }

  /** What `snapshot.can(event)` answers. */
  can(snapshot: AnyMachineSnapshot, event: EventObject): boolean {
    const t = this.select(this.stateOf(snapshot), snapshot, event);
    return t !== undefined && t.allowed;
  }

  /** A snapshot back from its persisted form (what `machine.restoreSnapshot` computes); `null` if it is not ours. */
  restore(persisted: unknown): AnyMachineSnapshot | null {
    const p = persisted as {
      status: string;
      output: unknown;
      error: unknown;
      value: unknown;
      context: unknown;
      children?: Record<string, unknown>;
      historyValue?: Record<string, unknown>;
    };
    if (typeof p.value !== 'string') return null;
    const state = this.states.get(p.value);
    if (!state) return null;
    // Anything else (children, history, a malformed form) goes to XState, which restores or rejects it.
    if (!p.children || typeof p.children !== 'object' || Object.keys(p.children).length > 0) return null;
    if (p.historyValue && Object.keys(p.historyValue).length > 0) return null;
    return this.make(p.status, p.context, state, {}, {}, p.output, p.error, state.restoredNodes);
  }

  /** The persisted form of a snapshot (what `machine.getPersistedSnapshot` builds, in the same key order). */
  persist(snapshot: AnyMachineSnapshot): unknown {
    return {
      status: snapshot.status,
      output: snapshot.output as unknown,
      error: snapshot.error,
      value: snapshot.value as unknown,
      historyValue: {},
      context: snapshot.context as unknown,
      children: {},
    };
  }

  /**
   * Whether this snapshot (and event) can be stepped here: a snapshot of this machine without children or history,
   * and an event of the machine's own — XState's reserved `xstate.*` events (stop, init, actor errors) go to XState,
   * which gives them their special meaning.
   */
  owns(snapshot: AnyMachineSnapshot, event?: EventObject): boolean {
    if (event && event.type.startsWith('xstate.')) return false;
    return (
      snapshot.machine === this.machine &&
      typeof snapshot.value === 'string' &&
      this.states.has(snapshot.value) &&
      isEmpty(snapshot.children) &&
      isEmpty(snapshot.historyValue)
    );
  }

  private stateOf(snapshot: AnyMachineSnapshot): CompiledState {
    const state = this.states.get(snapshot.value as string);
    if (!state) throw new Error(`The ${this.machine.id} machine has no state ${String(snapshot.value)}.`);
    return state;
  }

  private select(
    state: CompiledState,
    snapshot: AnyMachineSnapshot,
    event: EventObject,
  ): CompiledTransition | undefined {
    const candidates = state.on.get(event.type);
    if (!candidates) return undefined;
    const context = snapshot.context as unknown;
    for (const t of candidates) {
      if (!t.guard) return t;
      let passed: boolean;
      try {
        const params = t.guardHasParams
          ? typeof t.guardParams === 'function'
            ? (t.guardParams as (x: unknown) => unknown)({ context, event })
            : t.guardParams
          : undefined;
        const guard = t.guard; // called as a plain function, as XState calls it
        passed = guard({ context, event }, params);
      } catch (err) {
        const name = t.guardName ? `'${t.guardName}' ` : '';
        throw new Error(
          `Unable to evaluate guard ${name}in transition for event '${event.type}' in state node '${state.node.id}':\n${(err as Error).message}`,
          { cause: err },
        );
      }
      if (passed) return t;
    }
    return undefined;
  }

  /** A snapshot with the fields and methods of XState's `createMachineSnapshot`, in its order. */
  private make(
    status: string,
    context: unknown,
    state: CompiledState,
    children: Record<string, unknown>,
    historyValue: Record<string, unknown>,
    output: unknown,
    error: unknown,
    nodes?: AnyStateNode[],
  ): AnyMachineSnapshot {
    const m = this.methods;
    const active = nodes ?? state.nodes;
    return {
      status,
      output,
      error,
      machine: this.machine,
      context,
      _nodes: active,
      value: state.name,
      tags: this.tagged ? new Set(active.flatMap((n) => n.tags)) : new Set<string>(),
      children,
      historyValue,
      matches: m.matches,
      hasTag: m.hasTag,
      can: m.can,
      getMeta: m.getMeta,
      toJSON: m.toJSON,
    } as unknown as AnyMachineSnapshot;
  }
}

const isEmpty = (o: unknown): boolean => {
  if (!o || typeof o !== 'object') return true;
  for (const key in o) if (Object.hasOwn(o, key)) return false;
  return true;
};

/** Why a machine is outside the compiled subset, or `null` when it is inside. */
export function flatMachineObstacle(machine: AnyStateMachine): string | null {
  const root = machine.root;
  if (root.type !== 'compound') return 'the root is not a compound state';
  if (root.output !== undefined) return 'the machine has an output';
  if (root.initial.actions.length > 0) return 'the initial transition has actions';
  if (root.initial.target.length !== 1) return 'the initial transition does not have one target';
  if (root.initial.target[0]!.type === 'final') return 'the initial state is final';
  for (const node of [root, ...Object.values(root.states)]) {
    if (node.entry.length > 0 || node.exit.length > 0) return `${node.id} has entry or exit actions`;
    if (node.invoke.length > 0) return `${node.id} invokes actors`;
    if (node.after.length > 0) return `${node.id} has delayed transitions`;
    if (node.always?.length) return `${node.id} has eventless transitions`;
    if (node !== root && node.type !== 'atomic' && node.type !== 'final') return `${node.id} is not atomic`;
    if (node === root && node.transitions.size > 0) return 'the root has transitions';
    if (node.type === 'final' && node.transitions.size > 0) return `${node.id} is final but has transitions`;
    if (node !== root && (node as { output?: unknown }).output !== undefined)
      return `${node.id} has an output`;
    for (const [type, list] of node.transitions) {
      if (type.includes('*')) return `${node.id} has a wildcard transition`;
      if (type.startsWith('xstate.')) return `${node.id} handles the reserved event ${type}`;
      for (const t of list) {
        if (t.reenter) return `${node.id} has a re-entering transition`;
        if (t.target && t.target.some((n) => n.parent !== root)) return `${node.id} targets a nested state`;
        if (t.target && t.target.length > 1) return `${node.id} has a transition with several targets`;
        for (const a of t.actions as Reference[])
          if (!assignOf(machine, a)) return `${node.id} has a non-assign action`;
        if (t.guard !== undefined && !guardOf(machine, t.guard)) return `${node.id} has a composite guard`;
      }
    }
  }
  return null;
}

/** Compiles a flat, assign-only machine (see {@link FlatMachine}); `null` when the machine is outside that subset. */
export function compileFlatMachine(machine: AnyStateMachine, scope: StepScope): FlatMachine | null {
  if (flatMachineObstacle(machine) !== null) return null;
  const root = machine.root;
  const states = new Map<string, CompiledState>();
  for (const [name, node] of Object.entries(root.states)) {
    states.set(name, {
      node,
      name,
      final: node.type === 'final',
      nodes: node.type === 'final' ? [node, root] : [root, node],
      restoredNodes: (
        machine.resolveState({ value: name, context: {} }) as unknown as { _nodes: AnyStateNode[] }
      )._nodes,
      on: new Map(),
    });
  }
  for (const state of states.values()) {
    for (const [type, list] of state.node.transitions) {
      state.on.set(
        type,
        list.map((t) => {
          const guard = t.guard === undefined ? null : guardOf(machine, t.guard)!;
          const ref = t.guard as Reference | undefined;
          return {
            guard,
            guardName: typeof ref === 'string' ? ref : typeof ref === 'object' ? ref.type : undefined,
            guardParams: typeof ref === 'object' ? ref.params : undefined,
            guardHasParams: typeof ref === 'object' && 'params' in ref,
            assigns: (t.actions as Reference[]).map((a) => assignOf(machine, a)!),
            target: t.target?.length ? states.get(t.target[0]!.key)! : null,
            allowed: t.target !== undefined || t.actions.length > 0,
          };
        }),
      );
    }
  }
  const initial = states.get(root.initial.target[0]!.key)!;
  return new FlatMachine(machine, states, initial, scope);
}

/** The assign behind an action reference, or `null` when it is another kind of action. */
function assignOf(machine: AnyStateMachine, ref: Reference): CompiledAssign | null {
  const impl =
    typeof ref === 'function'
      ? ref
      : (machine.implementations.actions as Record<string, unknown>)[
          typeof ref === 'string' ? ref : ref.type
        ];
  if (typeof impl !== 'function') return null;
  const action = impl as unknown as { type?: unknown; assignment?: Assignment };
  if (action.type !== 'xstate.assign' || action.assignment === undefined) return null;
  const hasParams = typeof ref === 'object' && 'params' in ref;
  return { assignment: action.assignment, params: hasParams ? ref.params : undefined, hasParams };
}

/** The plain function behind a guard reference, or `null` for built-in (composite) guards. */
function guardOf(
  machine: AnyStateMachine,
  ref: Reference,
): ((args: { context: unknown; event: EventObject }, params: unknown) => boolean) | null {
  const impl =
    typeof ref === 'function'
      ? ref
      : (machine.implementations.guards as Record<string, unknown>)[typeof ref === 'string' ? ref : ref.type];
  if (typeof impl !== 'function' || 'check' in impl) return null;
  return impl as never;
}
