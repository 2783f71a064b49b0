import { TreeHashSchema } from '../contracts/artifacts.ts';
import { OverseerError } from '../core/errors.ts';
import { withIsolatedGit, type GitTreeOptions } from './isolated-git.ts';

/**
 * The content hash of a working tree: the git tree id of every tracked and untracked file that is not ignored, as
 * it is on disk now (`git add -A && git write-tree` on a temporary index). Equal content gives the same id on any
 * machine; the repository's index, refs and config are left alone (see `withIsolatedGit`).
 *
 * @example
 * const before = await treeHash('/srv/work/job-1');
 */
export async function treeHash(dir: string, options: GitTreeOptions = {}): Promise<string> {
  return withIsolatedGit(dir, options, async (git) => {
    await git(['add', '--all', '--', '.']);
    return (await git(['write-tree'])).trim();
  });
}

/** A tree id, checked before it reaches git's command line (so it can never be read as an option). */
function treeId(value: string, field: string): string {
  const parsed = TreeHashSchema.safeParse(value);
  if (!parsed.success)
    throw new OverseerError('VALIDATION_FAILED', `${field} is not a git tree hash: ${value}`, { field });
  return parsed.data;
}

/**
 * The files that differ between two trees taken by `treeHash` on the same repository (added, modified, deleted;
 * a rename lists both names), `/`-separated and relative to the tree's root, sorted.
 */
export async function changedFiles(
  dir: string,
  fromTree: string,
  toTree: string,
  options: GitTreeOptions = {},
): Promise<string[]> {
  const from = treeId(fromTree, 'fromTree');
  const to = treeId(toTree, 'toTree');
  return withIsolatedGit(dir, options, async (git) => {
    const out = await git(['diff-tree', '-r', '--name-only', '--no-renames', '-z', from, to]);
    return out
      .split('\0')
      .filter((f) => f !== '')
      .sort();
  });
}
