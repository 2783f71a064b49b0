import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findWaitCycle } from '../../src/domain/wait-for.ts';

/** A wait-for graph from an adjacency object; counts the calls per id. */
function graph(edges: Record<string, string[]>): {
  waitsFor: (id: string) => string[];
  calls: Map<string, number>;
} {
  const calls = new Map<string, number>();
  return {
    calls,
    waitsFor: (id) => {
      calls.set(id, (calls.get(id) ?? 0) + 1);
      return edges[id] ?? [];
    },
  };
}

describe('findWaitCycle', () => {
  it('no edges: no cycle', () => {
    expect(findWaitCycle('a', graph({}).waitsFor)).toBeNull();
  });

  it('an acyclic chain: no cycle', () => {
    expect(findWaitCycle('a', graph({ a: ['b'], b: ['c'], c: [] }).waitsFor)).toBeNull();
  });

  it('waiting for oneself', () => {
    expect(findWaitCycle('a', graph({ a: ['a'] }).waitsFor)).toEqual(['a', 'a']);
  });

  it('two parties waiting for each other', () => {
    expect(findWaitCycle('a', graph({ a: ['b'], b: ['a'] }).waitsFor)).toEqual(['a', 'b', 'a']);
  });

  it('a 3-cycle, start first and last', () => {
    expect(findWaitCycle('b', graph({ a: ['b'], b: ['c'], c: ['a'] }).waitsFor)).toEqual([
      'b',
      'c',
      'a',
      'b',
    ]);
  });

  it('dead branches are left out of the reported path', () => {
    const g = graph({ a: ['x', 'b'], x: ['y'], y: [], b: ['z', 'c'], z: [], c: ['a'] });
    expect(findWaitCycle('a', g.waitsFor)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('a cycle that does not pass through start is not reported, and the search still ends', () => {
    const g = graph({ a: ['b'], b: ['c'], c: ['b'] });
    expect(findWaitCycle('a', g.waitsFor)).toBeNull();
    expect(g.calls.get('b')).toBe(1);
    expect(g.calls.get('c')).toBe(1);
  });

  it('each id is expanded at most once, even when many paths reach it', () => {
    // A ladder: every node of layer k waits for both nodes of layer k + 1 (2^20 paths, 40 nodes).
    const edges: Record<string, string[]> = { s: ['l0', 'r0'] };
    for (let k = 0; k < 20; k++) edges[`l${k}`] = edges[`r${k}`] = [`l${k + 1}`, `r${k + 1}`];
    const g = graph(edges);
    expect(findWaitCycle('s', g.waitsFor)).toBeNull();
    for (const count of g.calls.values()) expect(count).toBe(1);
    expect(g.calls.size).toBe(43);
  });

  it('accepts any iterable, and closes generators it leaves early', () => {
    let closed = 0;
    function* waitsFor(id: string): Generator<string> {
      try {
        if (id === 'a') yield* ['b', 'c'];
        if (id === 'b') yield 'a';
      } finally {
        closed++;
      }
    }
    expect(findWaitCycle('a', waitsFor)).toEqual(['a', 'b', 'a']);
    expect(closed).toBe(2);
    expect(findWaitCycle('x', (id) => new Set(id === 'x' ? ['y'] : []))).toBeNull();
  });

  it('a 100,000-long chain back to start (iterative: no stack overflow)', () => {
    const n = 100_000;
    const cycle = findWaitCycle('0', (id) => [String((Number(id) + 1) % n)]);
    expect(cycle).toHaveLength(n + 1);
    expect(cycle![0]).toBe('0');
    expect(cycle![n - 1]).toBe(String(n - 1));
    expect(cycle![n]).toBe('0');
  });

  it('property: reports a real simple cycle through start exactly when start can reach itself', () => {
    const arb = fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(arb, fc.nat(), (lists, pick) => {
        const n = lists.length;
        const adj = lists.map((l) => l.map((d) => String(d % n)));
        const waitsFor = (id: string): string[] => adj[Number(id)] ?? [];
        const start = String(pick % n);
        // Oracle: breadth-first reachability from start's successors.
        const seen = new Set<string>();
        const queue = [...waitsFor(start)];
        while (queue.length > 0) {
          const id = queue.shift()!;
          if (seen.has(id)) continue;
          seen.add(id);
          queue.push(...waitsFor(id));
        }
        const cycle = findWaitCycle(start, waitsFor);
        if (!seen.has(start)) {
          expect(cycle).toBeNull();
          return;
        }
        expect(cycle).not.toBeNull();
        expect(cycle![0]).toBe(start);
        expect(cycle![cycle!.length - 1]).toBe(start);
        for (let k = 0; k + 1 < cycle!.length; k++) expect(waitsFor(cycle![k]!)).toContain(cycle![k + 1]);
        expect(new Set(cycle!.slice(0, -1)).size).toBe(cycle!.length - 1);
      }),
    );
  });
});
