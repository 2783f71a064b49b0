/**
 * File-system facts for the tool policy: what a path really is on disk, read with `lstat` and `realpath` (the
 * decision itself never touches the disk). Symlinks in the ancestors are resolved; a final symlink is reported as
 * one, so a write can refuse to follow it.
 */
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { PathFacts } from '../domain/tool-policy/decide-tool.ts';

/** The facts of `raw` (relative to `root` unless absolute), or null when the disk does not say (permissions). */
export function pathFacts(root: string, raw: string): PathFacts | null {
  const abs = isAbsolute(raw) ? resolve(raw) : resolve(root, raw);
  const st = lstatOrNull(abs);
  if (st === undefined) return null;
  if (st === null) {
    const real = realOfMissing(abs);
    return real === null ? null : { realPath: real, type: 'missing', links: 0 };
  }
  const type = st.isSymbolicLink()
    ? 'symlink'
    : st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'directory'
        : 'other';
  const real = st.isSymbolicLink() ? (realOrNull(abs) ?? realOfMissing(abs)) : realOrNull(abs);
  return real === null ? null : { realPath: real, type, links: st.nlink };
}

/** A path's real path if it exists, else its lexical absolute form (a protected path may not exist yet). */
export function realPathOf(path: string): string {
  return realOrNull(resolve(path)) ?? realOfMissing(resolve(path)) ?? resolve(path);
}

/** The real path of the deepest existing ancestor, joined with the components below it that do not exist. */
function realOfMissing(abs: string): string | null {
  const rest: string[] = [basename(abs)];
  let dir = dirname(abs);
  for (;;) {
    const real = realOrNull(dir);
    if (real !== null) return join(real, ...rest.reverse());
    const st = lstatOrNull(dir);
    if (st === undefined) return null;
    if (dir === dirname(dir)) return null;
    rest.push(basename(dir));
    dir = dirname(dir);
  }
}

/** null: no such file; undefined: the disk refused to say. */
function lstatOrNull(p: string): Stats | null | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? null : undefined;
  }
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}
