/** What the node found out about a job's `execution.workdir` (see `actors/workdir-facts.ts`). */
export interface WorkdirFacts {
  /** Whether the path is absolute on the node's platform. */
  absolute: boolean;
  /**
   * The path normalized, with every symlink resolved: the real path of its deepest existing ancestor with the rest
   * appended. Null when a part of it exists but cannot be resolved (no permission, a symlink loop).
   */
  real: string | null;
}

/** What the decision takes: the path as given, its facts, the node's real roots, and whether a workflow is named. */
export interface WorkdirQuestion {
  workdir: string;
  facts: WorkdirFacts;
  /** `workflow.workdirRoots`, each already resolved to its real path. */
  roots: readonly string[];
  /** The job follows a workflow. */
  workflowJob: boolean;
  /** The platform's path separator (default `/`). */
  sep?: string;
}

/** Whether `path` is `root` or lies under it (both real, normalized). */
export function liesUnder(path: string, root: string, sep = '/'): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Why a job may not have this workdir, or null when it may. Fails closed: a path that is not absolute, cannot be
 * resolved, or lies outside every root is refused, and a job under a workflow is refused any workdir while the
 * node has no roots (the node runs verified evidence only under roots it was given). Pure.
 */
export function workdirProblem(q: WorkdirQuestion): string | null {
  const { workdir, facts, roots } = q;
  if (!facts.absolute) return `execution.workdir ${workdir} is not an absolute path`;
  if (roots.length === 0)
    return q.workflowJob
      ? 'execution.workdir is refused for a job under a workflow: this node has no workflow.workdirRoots ' +
          'configured, so its working tree cannot be trusted; configure workflow.workdirRoots or leave workdir out'
      : null;
  if (facts.real === null)
    return `execution.workdir ${workdir} cannot be resolved (a symlink loop, or no permission)`;
  if (roots.some((root) => liesUnder(facts.real!, root, q.sep))) return null;
  const real = facts.real === workdir ? '' : ` (really ${facts.real})`;
  return `execution.workdir ${workdir}${real} does not lie under workflow.workdirRoots: ${roots.join(', ')}`;
}
