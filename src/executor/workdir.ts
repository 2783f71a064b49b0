import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { OverseerError } from '../core/errors.ts';

/** Why a directory may not be an executor's working directory. */
export const WorkdirRefusal = {
  /** It does not exist (or is unreadable), so it has no real path. */
  MISSING: 'missing',
  /** Its real path lies under none of the configured roots (none configured refuses every directory). */
  OUTSIDE_ROOTS: 'outside_roots',
  /** It is the node's data directory, lies inside it, or holds it: a command run there could read the secrets. */
  DATA_DIR: 'data_dir',
} as const;
export type WorkdirRefusal = (typeof WorkdirRefusal)[keyof typeof WorkdirRefusal];

/** The real paths a workdir decision is made on (the adapter resolves them). */
export interface WorkdirFacts {
  /** The candidate's real path, or null when it does not resolve. */
  cwd: string | null;
  roots: readonly string[];
  dataDir: string;
}

/** Whether `inner` is `outer` or lies below it (both real, absolute paths). */
export function isAtOrUnder(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The decision on real paths: null (allowed) or why not. Fails closed: no roots, no directory. */
export function workdirRefusal(facts: WorkdirFacts): WorkdirRefusal | null {
  const { cwd, roots, dataDir } = facts;
  if (cwd === null) return WorkdirRefusal.MISSING;
  if (!roots.some((root) => isAtOrUnder(cwd, root))) return WorkdirRefusal.OUTSIDE_ROOTS;
  if (isAtOrUnder(cwd, dataDir) || isAtOrUnder(dataDir, cwd)) return WorkdirRefusal.DATA_DIR;
  return null;
}

/** The real path of `path`, or null when it does not resolve. */
async function realOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path);
  } catch {
    return null;
  }
}

/** The real path of `path`, through its deepest existing ancestor when it does not exist yet. */
async function realOrDeepestAncestor(path: string): Promise<string> {
  const absolute = resolve(path);
  const real = await realOrNull(absolute);
  if (real !== null) return real;
  const parent = dirname(absolute);
  if (parent === absolute) return absolute;
  return join(await realOrDeepestAncestor(parent), basename(absolute));
}

/**
 * Resolves `cwd` with realpath and checks it against the roots (also resolved) and the data directory; answers its
 * real path, or throws `VALIDATION_FAILED` naming the refusal (the data directory's path is not disclosed).
 */
export async function resolveWorkdir(
  cwd: string,
  roots: readonly string[],
  dataDir: string,
): Promise<string> {
  const real = await realOrNull(resolve(cwd));
  const realRoots = (await Promise.all(roots.map((r) => realOrNull(resolve(r))))).filter(
    (r): r is string => r !== null,
  );
  const refusal = workdirRefusal({
    cwd: real,
    roots: realRoots,
    dataDir: await realOrDeepestAncestor(dataDir),
  });
  if (refusal === null && real !== null) return real;
  const why = {
    missing: 'does not exist',
    outside_roots: 'is under none of the workdir roots',
    data_dir: "is, holds or lies in the node's data directory",
  }[refusal ?? WorkdirRefusal.MISSING];
  throw new OverseerError('VALIDATION_FAILED', `the executor's working directory ${cwd} ${why}`, {
    field: 'cwd',
    reason: refusal,
  });
}
