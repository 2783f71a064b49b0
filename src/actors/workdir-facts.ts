import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { WorkdirFacts } from '../domain/workflow/workdir-policy.ts';

/** Errors that mean "this part does not exist (yet)": the walk goes on with its parent. */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/**
 * The facts `workdirProblem` decides on: whether the path is absolute here, and its real path (normalized, every
 * symlink of its deepest existing ancestor resolved, the part that does not exist yet appended).
 */
export function workdirFacts(path: string): WorkdirFacts {
  const absolute = isAbsolute(path);
  const tail: string[] = [];
  let head = resolve(path);
  for (;;) {
    try {
      return { absolute, real: join(realpathSync.native(head), ...tail.reverse()) };
    } catch (err) {
      if (!MISSING.has((err as NodeJS.ErrnoException).code ?? '')) return { absolute, real: null };
      const parent = dirname(head);
      if (parent === head) return { absolute, real: resolve(path) };
      tail.push(basename(head));
      head = parent;
    }
  }
}

/** The node's workdir roots as real paths (a root that does not exist yet is taken as written, normalized). */
export function realRoots(roots: readonly string[]): string[] {
  return roots.map((root) => workdirFacts(root).real ?? resolve(root));
}
