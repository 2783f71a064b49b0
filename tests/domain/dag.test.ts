import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  criticalPath,
  DagCycleError,
  findCycle,
  plan,
  stages,
  topologicalOrder,
  type DagNode,
} from '../../src/domain/dag.ts';

const node = (id: string, dependsOn: string[] = [], estimateSeconds = 1): DagNode => ({
  id,
  dependsOn,
  estimateSeconds,
});

/** a → {b, c} → d, with c the longer branch. */
const diamond = [node('a', [], 2), node('b', ['a'], 3), node('c', ['a'], 5), node('d', ['b', 'c'], 1)];

function cycleError(fn: () => unknown): DagCycleError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DagCycleError);
    return err as DagCycleError;
  }
  throw new Error('expected a DagCycleError');
}

/** Every consecutive pair of a closed path is an edge of `nodes`, and the path is closed. */
function expectRealCycle(nodes: readonly DagNode[], cycle: readonly string[]): void {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  expect(cycle.length).toBeGreaterThanOrEqual(2);
  expect(cycle[cycle.length - 1]).toBe(cycle[0]);
  for (let k = 0; k + 1 < cycle.length; k++) expect(byId.get(cycle[k]!)!.dependsOn).toContain(cycle[k + 1]);
  // Simple: no id repeats except the closing one.
  expect(new Set(cycle.slice(0, -1)).size).toBe(cycle.length - 1);
}

describe('known graphs', () => {
  it('diamond: order, stages, critical path', () => {
    expect(topologicalOrder(diamond)).toEqual(['a', 'b', 'c', 'd']);
    expect(stages(diamond)).toEqual([['a'], ['b', 'c'], ['d']]);
    expect(criticalPath(diamond)).toEqual({ path: ['a', 'c', 'd'], estimateSeconds: 8 });
    expect(findCycle(diamond)).toBeNull();
  });

  it('diamond with equal branches: the critical path takes the branch first in topological order', () => {
    const even = [node('a', [], 2), node('b', ['a'], 4), node('c', ['a'], 4), node('d', ['c', 'b'], 1)];
    expect(criticalPath(even)).toEqual({ path: ['a', 'b', 'd'], estimateSeconds: 7 });
    const swapped = [node('a', [], 2), node('c', ['a'], 4), node('b', ['a'], 4), node('d', ['b', 'c'], 1)];
    expect(criticalPath(swapped)).toEqual({ path: ['a', 'c', 'd'], estimateSeconds: 7 });
  });

  it('chain given in reverse: dependencies are pulled in first', () => {
    const chain = [node('c', ['b'], 1), node('b', ['a'], 2), node('a', [], 4)];
    expect(topologicalOrder(chain)).toEqual(['a', 'b', 'c']);
    expect(stages(chain)).toEqual([['a'], ['b'], ['c']]);
    expect(criticalPath(chain)).toEqual({ path: ['a', 'b', 'c'], estimateSeconds: 7 });
  });

  it('independent nodes keep input order, share stage 0, and the longest single node is critical', () => {
    const free = [node('x', [], 1), node('y', [], 3), node('z', [], 3)];
    expect(topologicalOrder(free)).toEqual(['x', 'y', 'z']);
    expect(stages(free)).toEqual([['x', 'y', 'z']]);
    expect(criticalPath(free)).toEqual({ path: ['y'], estimateSeconds: 3 });
  });

  it('a stage is the length of the longest chain, not the shortest', () => {
    const g = [node('a'), node('b', ['a']), node('c', ['a', 'b']), node('e'), node('f', ['e'])];
    expect(stages(g)).toEqual([['a', 'e'], ['b', 'f'], ['c']]);
  });

  it('critical path sums estimates, not edges', () => {
    // Long chain of cheap nodes vs one expensive node.
    const g = [node('a', [], 1), node('b', ['a'], 1), node('c', ['b'], 1), node('big', [], 10)];
    expect(criticalPath(g)).toEqual({ path: ['big'], estimateSeconds: 10 });
    const zero = [node('a', [], 0), node('b', ['a'], 0)];
    expect(criticalPath(zero)).toEqual({ path: ['a'], estimateSeconds: 0 });
  });

  it('fractional estimates', () => {
    const g = [node('a', [], 0.5), node('b', ['a'], 0.25)];
    expect(criticalPath(g)).toEqual({ path: ['a', 'b'], estimateSeconds: 0.75 });
  });

  it('empty graph', () => {
    expect(topologicalOrder([])).toEqual([]);
    expect(stages([])).toEqual([]);
    expect(criticalPath([])).toEqual({ path: [], estimateSeconds: 0 });
    expect(findCycle([])).toBeNull();
    expect(plan([])).toEqual({ order: [], stages: [], criticalPath: { path: [], estimateSeconds: 0 } });
  });

  it('self-loop', () => {
    const g = [node('ok'), node('a', ['a'])];
    expect(findCycle(g)).toEqual(['a', 'a']);
    const err = cycleError(() => topologicalOrder(g));
    expect(err.cycle).toEqual(['a', 'a']);
    expect(err.name).toBe('DagCycleError');
    expect(err.message).toBe('dependency cycle: a → a');
  });

  it('3-cycle: each id depends on the next, first id repeated at the end', () => {
    const g = [node('a', ['b']), node('b', ['c']), node('c', ['a'])];
    expect(findCycle(g)).toEqual(['a', 'b', 'c', 'a']);
    expectRealCycle(g, findCycle(g)!);
    expect(cycleError(() => stages(g)).cycle).toEqual(['a', 'b', 'c', 'a']);
    expect(cycleError(() => criticalPath(g)).cycle).toEqual(['a', 'b', 'c', 'a']);
    expect(cycleError(() => plan(g)).cycle).toEqual(['a', 'b', 'c', 'a']);
  });

  it('a cycle behind acyclic nodes is reported without the lead-in', () => {
    const g = [node('root', ['x']), node('x', ['y']), node('y', ['z']), node('z', ['x'])];
    expect(findCycle(g)).toEqual(['x', 'y', 'z', 'x']);
  });

  it('dependencies on unknown ids are ignored', () => {
    const g = [node('a', ['ghost'], 2), node('b', ['a', 'phantom'], 3)];
    expect(topologicalOrder(g)).toEqual(['a', 'b']);
    expect(stages(g)).toEqual([['a'], ['b']]);
    expect(criticalPath(g)).toEqual({ path: ['a', 'b'], estimateSeconds: 5 });
    expect(findCycle(g)).toBeNull();
  });

  it('a dependency listed twice counts once', () => {
    const g = [node('a'), node('b', ['a', 'a'])];
    expect(topologicalOrder(g)).toEqual(['a', 'b']);
    expect(stages(g)).toEqual([['a'], ['b']]);
  });

  it('duplicate node ids throw', () => {
    expect(() => topologicalOrder([node('a'), node('a')])).toThrow(/duplicate node id "a"/);
  });

  it('negative or non-finite estimates throw RangeError in criticalPath', () => {
    expect(() => criticalPath([node('a', [], -1)])).toThrow(RangeError);
    expect(() => criticalPath([node('a', [], Number.NaN)])).toThrow(RangeError);
    expect(() => criticalPath([node('a', [], Number.POSITIVE_INFINITY)])).toThrow(RangeError);
  });

  it('plan equals the three functions', () => {
    expect(plan(diamond)).toEqual({
      order: topologicalOrder(diamond),
      stages: stages(diamond),
      criticalPath: criticalPath(diamond),
    });
  });
});

describe('determinism', () => {
  it('an input that already lists dependencies first comes out unchanged', () => {
    const g = [node('a'), node('x'), node('b', ['a']), node('y', ['x']), node('c', ['b', 'y'])];
    expect(topologicalOrder(g)).toEqual(['a', 'x', 'b', 'y', 'c']);
  });

  it('ties are broken by input order, not by the order dependencies are listed in', () => {
    const g = [node('c', ['b', 'a']), node('a'), node('b')];
    expect(topologicalOrder(g)).toEqual(['a', 'b', 'c']);
    const h = [node('c', ['a', 'b']), node('a'), node('b')];
    expect(topologicalOrder(h)).toEqual(['a', 'b', 'c']);
    const reordered = [node('c', ['a', 'b']), node('b'), node('a')];
    expect(topologicalOrder(reordered)).toEqual(['b', 'a', 'c']);
  });

  it('the same input gives the same answer every time', () => {
    const g = randomDag(500, 4, 7);
    const first = plan(g);
    for (let k = 0; k < 3; k++) expect(plan(g)).toEqual(first);
  });
});

/** A deterministic pseudo-random DAG: node i depends on up to `fanIn` earlier nodes. */
function randomDag(n: number, fanIn: number, seed: number): DagNode[] {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  const nodes: DagNode[] = [];
  for (let i = 0; i < n; i++) {
    const deps: string[] = [];
    if (i > 0) for (let k = 0; k < fanIn; k++) deps.push(`n${next() % i}`);
    nodes.push({ id: `n${i}`, dependsOn: deps, estimateSeconds: next() % 100 });
  }
  return nodes;
}

describe('scale', () => {
  it('10,000 nodes and 50,000 edges in well under a second', () => {
    const g = randomDag(10_000, 5, 42);
    const t0 = performance.now();
    const result = plan(g);
    const elapsed = performance.now() - t0;
    expect(result.order).toHaveLength(10_000);
    expect(findCycle(g)).toBeNull();
    expect(elapsed).toBeLessThan(1000);
  });

  it('a 100,000-node chain (no recursion depth limit), forwards and backwards', () => {
    const n = 100_000;
    const forward = Array.from({ length: n }, (_, i) => node(`n${i}`, i === 0 ? [] : [`n${i - 1}`]));
    expect(criticalPath(forward).path).toHaveLength(n);
    expect(stages(forward)).toHaveLength(n);
    const backward = [...forward].reverse();
    expect(topologicalOrder(backward)[0]).toBe('n0');
    const closed = [node('n0', [`n${n - 1}`]), ...forward.slice(1)];
    expect(findCycle(closed)).toHaveLength(n + 1);
  });
});

/** Random DAG description: node i depends on `deps` taken modulo i (so only on earlier indexes). */
const dagArb = fc
  .array(
    fc.record({
      deps: fc.array(fc.nat(), { maxLength: 5 }),
      estimate: fc.double({ min: 0, max: 10_000, noNaN: true, noDefaultInfinity: true }),
      key: fc.nat(), // input position: shuffles the nodes so the input is not already sorted
      ghost: fc.boolean(), // adds a dependency on an unknown id
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((specs) => {
    const nodes = specs.map((spec, i): DagNode => ({
      id: `n${i}`,
      dependsOn: [...(i === 0 ? [] : spec.deps.map((d) => `n${d % i}`)), ...(spec.ghost ? ['ghost'] : [])],
      estimateSeconds: spec.estimate,
    }));
    return specs
      .map((spec, i) => ({ key: spec.key, node: nodes[i]! }))
      .sort((x, y) => x.key - y.key)
      .map((x) => x.node);
  });

function knownEdges(nodes: readonly DagNode[]): [string, string][] {
  const ids = new Set(nodes.map((n) => n.id));
  return nodes.flatMap((n) => n.dependsOn.filter((d) => ids.has(d)).map((d): [string, string] => [n.id, d]));
}

describe('properties of random DAGs', () => {
  it('the order is a permutation that puts every dependency first', () => {
    fc.assert(
      fc.property(dagArb, (nodes) => {
        const order = topologicalOrder(nodes);
        expect([...order].sort()).toEqual(nodes.map((n) => n.id).sort());
        const pos = new Map(order.map((id, i) => [id, i]));
        for (const [from, dep] of knownEdges(nodes)) expect(pos.get(dep)!).toBeLessThan(pos.get(from)!);
        expect(findCycle(nodes)).toBeNull();
      }),
    );
  });

  it('stages partition the nodes, keep input order, and put each node one past its deepest dependency', () => {
    fc.assert(
      fc.property(dagArb, (nodes) => {
        const result = stages(nodes);
        const stageOf = new Map<string, number>();
        result.forEach((stage, k) => {
          expect(stage.length).toBeGreaterThan(0);
          for (const id of stage) stageOf.set(id, k);
        });
        expect(stageOf.size).toBe(nodes.length);
        const inputPos = new Map(nodes.map((n, i) => [n.id, i]));
        for (const stage of result) {
          const positions = stage.map((id) => inputPos.get(id)!);
          expect(positions).toEqual([...positions].sort((a, b) => a - b));
        }
        for (const [from, dep] of knownEdges(nodes))
          expect(stageOf.get(dep)!).toBeLessThan(stageOf.get(from)!);
        const edges = knownEdges(nodes);
        for (const n of nodes) {
          const depStages = edges.filter(([f]) => f === n.id).map(([, d]) => stageOf.get(d)!);
          expect(stageOf.get(n.id)).toBe(depStages.length === 0 ? 0 : Math.max(...depStages) + 1);
        }
      }),
    );
  });

  it('the critical path is a real path, its estimate is its sum, and no path is longer', () => {
    fc.assert(
      fc.property(dagArb, (nodes) => {
        const { path, estimateSeconds } = criticalPath(nodes);
        const byId = new Map(nodes.map((n) => [n.id, n]));
        expect(path.length).toBeGreaterThan(0);
        for (let k = 0; k + 1 < path.length; k++)
          expect(byId.get(path[k + 1]!)!.dependsOn).toContain(path[k]);
        expect(estimateSeconds).toBe(path.reduce((sum, id) => sum + byId.get(id)!.estimateSeconds, 0));
        for (const n of nodes) expect(estimateSeconds).toBeGreaterThanOrEqual(n.estimateSeconds);
        // Oracle: longest finishing time by dynamic programming over the (independently checked) order.
        const longest = new Map<string, number>();
        for (const id of topologicalOrder(nodes)) {
          const n = byId.get(id)!;
          const before = n.dependsOn.filter((d) => byId.has(d)).map((d) => longest.get(d)!);
          longest.set(id, Math.max(0, ...before) + n.estimateSeconds);
        }
        expect(estimateSeconds).toBe(Math.max(...longest.values()));
      }),
    );
  });

  it('plan agrees with the separate functions', () => {
    fc.assert(
      fc.property(dagArb, (nodes) => {
        expect(plan(nodes)).toEqual({
          order: topologicalOrder(nodes),
          stages: stages(nodes),
          criticalPath: criticalPath(nodes),
        });
      }),
    );
  });

  it('a back edge that closes a path yields a real cycle, and every function throws it', () => {
    fc.assert(
      fc.property(dagArb, fc.nat(), fc.array(fc.nat(), { maxLength: 10 }), (nodes, pick, walk) => {
        // Walk down dependencies from some node, then make the end of the walk depend on its start.
        const byId = new Map(nodes.map((n) => [n.id, n]));
        const start = nodes[pick % nodes.length]!;
        let end = start;
        for (const w of walk) {
          const deps = end.dependsOn.filter((d) => byId.has(d));
          if (deps.length === 0) break;
          end = byId.get(deps[w % deps.length]!)!;
        }
        const cyclic = nodes.map((n) =>
          n.id === end.id ? { ...n, dependsOn: [...n.dependsOn, start.id] } : n,
        );
        const cycle = findCycle(cyclic);
        expect(cycle).not.toBeNull();
        expectRealCycle(cyclic, cycle!);
        expect(cycleError(() => topologicalOrder(cyclic)).cycle).toEqual(cycle);
        expect(cycleError(() => plan(cyclic)).cycle).toEqual(cycle);
      }),
    );
  });

  it('on arbitrary graphs a cycle is reported exactly when one exists', () => {
    const anyGraph = fc
      .array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 15 })
      .map((lists) =>
        lists.map((deps, i): DagNode => ({
          id: `n${i}`,
          dependsOn: deps.map((d) => `n${d % lists.length}`),
          estimateSeconds: 1,
        })),
      );
    fc.assert(
      fc.property(anyGraph, (nodes) => {
        // Oracle: Kahn's algorithm leaves nodes behind exactly when there is a cycle.
        const deps = new Map(nodes.map((n) => [n.id, new Set(n.dependsOn)]));
        let progress = true;
        while (progress) {
          progress = false;
          for (const [id, set] of deps)
            if (set.size === 0) {
              deps.delete(id);
              for (const other of deps.values()) other.delete(id);
              progress = true;
            }
        }
        const cycle = findCycle(nodes);
        if (deps.size === 0) {
          expect(cycle).toBeNull();
        } else {
          expect(cycle).not.toBeNull();
          expectRealCycle(nodes, cycle!);
        }
      }),
    );
  });
});
