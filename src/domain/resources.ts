import type { ResourceRequest } from '../contracts/job.ts';

/** The three kinds of named resource a job can hold. */
export type ResourceKind = 'pool' | 'path' | 'lock';

/** A counted pool declared in the config, a `path:` lock on a directory prefix, or an exclusive lock. */
export function resourceKind(name: string, pools: Readonly<Record<string, number>>): ResourceKind {
  if (name.startsWith('path:')) return 'path';
  if (Object.hasOwn(pools, name)) return 'pool';
  return 'lock';
}

/** Whether two path locks overlap: one path is a prefix of the other (`path:src/auth/` vs `path:src/auth/x.ts`). */
export function pathsConflict(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** Merges requests naming the same resource (counts add up; locks are taken once). */
export function normalizeRequests(
  requests: readonly ResourceRequest[],
  pools: Readonly<Record<string, number>>,
): { name: string; count: number }[] {
  const merged = new Map<string, number>();
  for (const r of requests) {
    const count = resourceKind(r.name, pools) === 'pool' ? (r.count ?? 1) : 1;
    merged.set(r.name, resourceKind(r.name, pools) === 'pool' ? (merged.get(r.name) ?? 0) + count : 1);
  }
  return [...merged].map(([name, count]) => ({ name, count }));
}
