/**
 * Dependency graphs of tasks: topological order, parallel stages and the critical path.
 *
 * Conventions shared by every function here:
 * - an edge goes from a node to each id in its `dependsOn`; a dependency runs before its dependents;
 * - dependencies on ids that are not in the node set are ignored (the caller reports or resolves them);
 *   a dependency listed twice counts once;
 * - node ids must be unique (a duplicate throws a plain `Error`);
 * - a cycle is a closed path with its first id repeated at the end — `['a', 'b', 'a']` means a depends on b
 *   and b on a; a self-loop is `['a', 'a']`;
 * - everything is iterative and linear in nodes + edges.
 */

/** A node of the graph: an id, the ids it depends on and its estimated duration (finite, ≥ 0). */
export interface DagNode {
  readonly id: string;
  readonly dependsOn: readonly string[];
  readonly estimateSeconds: number;
}

/** The graph has a cycle; `cycle` is a closed path, first id repeated at the end. */
export class DagCycleError extends Error {
  override readonly name = 'DagCycleError';
  readonly cycle: string[];
  constructor(cycle: string[]) {
    super(`dependency cycle: ${cycle.join(' → ')}`);
    this.cycle = cycle;
  }
}

/** The longest path by summed estimates, dependencies first. */
export interface CriticalPath {
  path: string[];
  estimateSeconds: number;
}

/** Everything a workstream plan needs, computed in one pass. */
export interface DagPlan {
  order: string[];
  stages: string[][];
  criticalPath: CriticalPath;
}

/**
 * Each node's known dependencies as input indexes, ascending and without repeats, in compressed form: the
 * dependencies of node i are `to[start[i]]` … `to[start[i] + count[i] - 1]`.
 */
interface Edges {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly to: Int32Array;
}

function edgesOf(nodes: readonly DagNode[]): Edges {
  const n = nodes.length;
  const position = new Map<string, number>();
  nodes.forEach((node, i) => {
    if (position.has(node.id)) throw new Error(`duplicate node id "${node.id}"`);
    position.set(node.id, i);
  });
  let m = 0;
  for (const node of nodes) m += node.dependsOn.length;
  const from = new Int32Array(m);
  const dep = new Int32Array(m);
  const perDep = new Int32Array(n + 1);
  const perNode = new Int32Array(n + 1);
  let e = 0;
  nodes.forEach((node, i) => {
    for (const id of node.dependsOn) {
      const j = position.get(id);
      if (j === undefined) continue;
      from[e] = i;
      dep[e] = j;
      perDep[j + 1]!++;
      perNode[i + 1]!++;
      e++;
    }
  });
  // Two stable counting sorts (by dependency, then by node) leave each node's dependencies in input order.
  for (let k = 0; k < n; k++) {
    perDep[k + 1]! += perDep[k]!;
    perNode[k + 1]! += perNode[k]!;
  }
  const byDep = new Int32Array(e);
  for (let k = 0; k < e; k++) byDep[perDep[dep[k]!]!++] = k;
  const start = perNode.subarray(0, n);
  const count = new Int32Array(n);
  const to = new Int32Array(e);
  for (const k of byDep) {
    const i = from[k]!;
    const j = dep[k]!;
    const c = count[i]!;
    if (c > 0 && to[start[i]! + c - 1] === j) continue; // listed twice
    to[start[i]! + c] = j;
    count[i] = c + 1;
  }
  return { start, count, to };
}

type Walk = { order: Int32Array; edges: Edges } | { cycle: string[] };

/**
 * Depth-first walk in input order: before a node is placed, its unplaced dependencies are placed, in input
 * order. An input that already lists dependencies first comes out unchanged.
 */
function walk(nodes: readonly DagNode[]): Walk {
  const n = nodes.length;
  const edges = edgesOf(nodes);
  const { start, count, to } = edges;
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const color = new Uint8Array(n);
  const cursor = new Int32Array(n);
  const stack = new Int32Array(n);
  const order = new Int32Array(n);
  let placed = 0;
  for (let root = 0; root < n; root++) {
    if (color[root] !== WHITE) continue;
    color[root] = GREY;
    let depth = 0;
    stack[depth++] = root;
    while (depth > 0) {
      const top = stack[depth - 1]!;
      const k = cursor[top]!;
      if (k < count[top]!) {
        cursor[top] = k + 1;
        const next = to[start[top]! + k]!;
        if (color[next] === WHITE) {
          color[next] = GREY;
          stack[depth++] = next;
        } else if (color[next] === GREY) {
          const open = Array.from(stack.subarray(0, depth));
          const cycle = open.slice(open.lastIndexOf(next)).map((i) => nodes[i]!.id);
          cycle.push(nodes[next]!.id);
          return { cycle };
        }
      } else {
        depth--;
        color[top] = BLACK;
        order[placed++] = top;
      }
    }
  }
  return { order, edges };
}

function acyclic(nodes: readonly DagNode[]): { order: Int32Array; edges: Edges } {
  const result = walk(nodes);
  if ('cycle' in result) throw new DagCycleError(result.cycle);
  return result;
}

function idsOf(nodes: readonly DagNode[], order: Int32Array): string[] {
  return Array.from(order, (i) => nodes[i]!.id);
}

function stagesOf(nodes: readonly DagNode[], order: Int32Array, { start, count, to }: Edges): string[][] {
  const level = new Int32Array(nodes.length);
  for (const i of order) {
    let max = -1;
    for (let e = start[i]!, end = e + count[i]!; e < end; e++) if (level[to[e]!]! > max) max = level[to[e]!]!;
    level[i] = max + 1;
  }
  const result: string[][] = [];
  nodes.forEach((node, i) => {
    const k = level[i]!;
    while (result.length <= k) result.push([]);
    result[k]!.push(node.id);
  });
  return result;
}

function criticalPathOf(
  nodes: readonly DagNode[],
  order: Int32Array,
  { start, count, to }: Edges,
): CriticalPath {
  const n = nodes.length;
  const rank = new Int32Array(n);
  order.forEach((i, r) => (rank[i] = r));
  const finish = new Float64Array(n);
  const previous = new Int32Array(n).fill(-1);
  let last = -1;
  for (const i of order) {
    const estimate = nodes[i]!.estimateSeconds;
    if (!Number.isFinite(estimate) || estimate < 0)
      throw new RangeError(
        `node "${nodes[i]!.id}" has estimateSeconds ${estimate}; expected a finite number ≥ 0`,
      );
    let best = -1;
    for (let e = start[i]!, end = e + count[i]!; e < end; e++) {
      const j = to[e]!;
      if (best === -1 || finish[j]! > finish[best]! || (finish[j] === finish[best] && rank[j]! < rank[best]!))
        best = j;
    }
    previous[i] = best;
    finish[i] = (best === -1 ? 0 : finish[best]!) + estimate;
    // `order` is walked by rank, so a strict comparison keeps the earliest of equal ends.
    if (last === -1 || finish[i] > finish[last]!) last = i;
  }
  if (last === -1) return { path: [], estimateSeconds: 0 };
  const path: string[] = [];
  for (let i = last; i !== -1; i = previous[i]!) path.push(nodes[i]!.id);
  path.reverse();
  return { path, estimateSeconds: finish[last]! };
}

/** One cycle as a closed path (first id repeated at the end, each id depending on the next), or null. */
export function findCycle(nodes: readonly DagNode[]): string[] | null {
  const result = walk(nodes);
  return 'cycle' in result ? result.cycle : null;
}

/**
 * Ids with every dependency before its dependents. Deterministic: nodes are taken in input order, each right
 * after its not-yet-placed dependencies (also in input order). Throws DagCycleError on a cycle.
 */
export function topologicalOrder(nodes: readonly DagNode[]): string[] {
  return idsOf(nodes, acyclic(nodes).order);
}

/**
 * Stage k holds the nodes whose longest dependency chain has k edges (stage 0: no dependencies), each stage in
 * input order; the nodes of one stage can run in parallel. Throws DagCycleError on a cycle.
 */
export function stages(nodes: readonly DagNode[]): string[][] {
  const { order, edges } = acyclic(nodes);
  return stagesOf(nodes, order, edges);
}

/**
 * The path with the largest summed estimate, dependencies first; ties go to the path that comes first in
 * topological order. Empty graph: `{ path: [], estimateSeconds: 0 }`. Throws DagCycleError on a cycle and
 * RangeError on a negative or non-finite estimate.
 */
export function criticalPath(nodes: readonly DagNode[]): CriticalPath {
  const { order, edges } = acyclic(nodes);
  return criticalPathOf(nodes, order, edges);
}

/** Order, stages and critical path from one walk of the graph. Throws like the three functions. */
export function plan(nodes: readonly DagNode[]): DagPlan {
  const { order, edges } = acyclic(nodes);
  return {
    order: idsOf(nodes, order),
    stages: stagesOf(nodes, order, edges),
    criticalPath: criticalPathOf(nodes, order, edges),
  };
}
