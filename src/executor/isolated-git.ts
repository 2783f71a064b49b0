import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OverseerError } from '../core/errors.ts';
import { DEFAULT_PATH } from './scrubbed-env.ts';

/** Options of the git operations on a working tree. */
export interface GitTreeOptions {
  /**
   * Where git writes and reads objects. By default the repository's own object directory (discovered from the
   * tree); pass a directory the node owns when the tree belongs to another OS user and its objects are not
   * writable, or when the tree is not a repository at all.
   */
  objectsDir?: string;
  /** How long one git command may run (default 120 s). */
  timeoutMs?: number;
}

/** Runs git in the isolated setup: answers stdout. */
export type Git = (args: readonly string[]) => Promise<string>;

function exec(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      'git',
      args,
      { cwd, env, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`git ${args[0]} failed: ${stderr.trim() || error.message}`, { cause: error }));
        else resolvePromise(stdout);
      },
    );
  });
}

/** The repository `workTree` belongs to: its common git directory and object format, or null when none. */
async function discover(
  workTree: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ commonDir: string; format: string } | null> {
  try {
    const out = await exec(
      ['rev-parse', '--path-format=absolute', '--git-common-dir', '--show-object-format'],
      env,
      workTree,
      timeoutMs,
    );
    const [commonDir, format] = out.trim().split('\n');
    return commonDir && format ? { commonDir, format } : null;
  } catch {
    return null;
  }
}

/**
 * Runs `fn` with git set up apart from the repository at `dir`: a fresh scratch git directory (no repository
 * config, so no `core.fsmonitor`, hooks or filter drivers of the tree's owner run), no system or user config, a
 * temporary index, and the repository's object directory (or `objectsDir`). The repository's index, refs and config
 * are never written; its `info/exclude` and the tree's `.gitignore` files still apply. The scratch is removed after.
 */
export async function withIsolatedGit<T>(
  dir: string,
  options: GitTreeOptions,
  fn: (git: Git, workTree: string) => Promise<T>,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const scratch = await mkdtemp(join(tmpdir(), 'overseer-git-'));
  try {
    const globalConfig = join(scratch, 'gitconfig');
    // The tree may belong to another OS user: discovery must not stop at git's ownership check.
    await writeFile(globalConfig, '[safe]\n\tdirectory = *\n');
    const base: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'] ?? DEFAULT_PATH,
      HOME: scratch,
      LANG: 'C',
      LC_ALL: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: globalConfig,
      GIT_TERMINAL_PROMPT: '0',
      GIT_OPTIONAL_LOCKS: '0',
    };
    let workTree: string;
    try {
      workTree = await realpath(dir);
    } catch (cause) {
      throw new OverseerError('VALIDATION_FAILED', `${dir} does not exist`, { field: 'dir' }, { cause });
    }
    const repo = await discover(workTree, base, timeoutMs);
    if (repo === null && options.objectsDir === undefined)
      throw new OverseerError('VALIDATION_FAILED', `${dir} is not in a git working tree`, { field: 'dir' });
    const objects = options.objectsDir ?? join(repo!.commonDir, 'objects');
    await mkdir(objects, { recursive: true });
    const gitDir = join(scratch, 'git');
    await exec(
      ['init', '--quiet', '--bare', '--template=', `--object-format=${repo?.format ?? 'sha1'}`, gitDir],
      base,
      scratch,
      timeoutMs,
    );
    const env: NodeJS.ProcessEnv = {
      ...base,
      GIT_DIR: gitDir,
      GIT_WORK_TREE: workTree,
      GIT_INDEX_FILE: join(scratch, 'index'),
      GIT_OBJECT_DIRECTORY: objects,
    };
    const exclude =
      repo === null ? [] : ['-c', `core.excludesFile=${join(repo.commonDir, 'info', 'exclude')}`];
    const git: Git = (args) => exec([...exclude, ...args], env, workTree, timeoutMs);
    return await fn(git, workTree);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
