/**
 * Deadlock detection on a wait-for graph (who waits for whom: lock holders, resource owners, agents awaiting
 * each other). Checked when `start` is about to wait: if anything `start` would wait for already waits,
 * directly or not, for `start`, granting the wait would close a cycle.
 */

/**
 * The cycle through `start` as a closed path — `start`, each id waiting for the next, `start` again at the
 * end (`[start, start]` when it would wait for itself) — or null when there is none. `waitsFor(id)` must
 * include the new edges of `start`. Cycles that do not pass through `start` are not reported. Iterative
 * depth-first search: each id is expanded (and `waitsFor` called) at most once.
 */
export function findWaitCycle(start: string, waitsFor: (id: string) => Iterable<string>): string[] | null {
  const visited = new Set<string>([start]);
  const path: string[] = [start];
  const iterators: Iterator<string>[] = [waitsFor(start)[Symbol.iterator]()];
  while (iterators.length > 0) {
    const step = iterators[iterators.length - 1]!.next();
    if (step.done === true) {
      iterators.pop();
      path.pop();
      continue;
    }
    const next = step.value;
    if (next === start) {
      // Close the open iterators so generator-backed graphs can release what they hold.
      for (const it of iterators) it.return?.();
      return [...path, start];
    }
    if (visited.has(next)) continue;
    visited.add(next);
    path.push(next);
    iterators.push(waitsFor(next)[Symbol.iterator]());
  }
  return null;
}
