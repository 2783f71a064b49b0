import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A real git repository in a temp directory, for the executor's tests. */
export interface TempRepo {
  /** The working tree. */
  dir: string;
  /** Runs git in the repository (as a user would, with its own index), answers stdout. */
  git(...args: string[]): string;
  /** Writes a file (relative path), creating its directories. */
  write(path: string, content: string): void;
  remove(): void;
}

const gitEnv = {
  PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

/** `git init` in a fresh directory under `parent` (default: the system temp dir), with `files` committed. */
export function tempRepo(files: Record<string, string> = {}, parent = tmpdir()): TempRepo {
  const dir = mkdtempSync(join(parent, 'overseer-repo-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: gitEnv, encoding: 'utf8' });
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  };
  git('init', '--quiet', '--initial-branch=main');
  for (const [path, content] of Object.entries(files)) write(path, content);
  git('add', '--all');
  git('commit', '--quiet', '--allow-empty', '-m', 'initial');
  return { dir, git, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
